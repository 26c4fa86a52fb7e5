import DoctorCore

/// Requests that would make the kernel load a module. nfnetlink calls request_module("nfnetlink-subsys-N") for a
/// subsystem nobody registered (nfnetlink_rcv_msg, and nfnetlink_bind for group subscriptions), so on a modular
/// kernel the first ctnetlink request as root loads nf_conntrack_netlink, and nf_conntrack with it. A check reads;
/// it does not load modules. Only a module known to be on disk and not loaded is withheld: a built-in, loaded,
/// missing or unknown one costs nothing to ask about.
public enum ModuleAutoload {
    public static func wouldLoad(_ module: String, _ modules: ModuleInventory) -> Bool {
        modules.loadableModules == true && modules.status(module).state == .available
    }

    /// Why ctnetlink is not asked here, or nil when asking changes nothing.
    public static func ctnetlinkWithheld(_ modules: ModuleInventory) -> String? {
        guard wouldLoad("nf_conntrack_netlink", modules) else { return nil }
        return "not asked: nf_conntrack_netlink is not loaded, and a ctnetlink request would make the kernel load it"
            + (modules.status("nf_conntrack").isPresent ? "" : " and nf_conntrack")
            + "; ctdoctor does not load modules during a check (`modprobe nf_conntrack_netlink`, or any `conntrack` command, loads it)"
    }
}
