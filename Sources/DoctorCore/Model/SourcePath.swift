/// Where a snapshot's values come from, named once: probes read these and findings cite them as evidence.
public enum SourcePath {
    public static let cmdline = "/proc/cmdline"
    public static let dynamicDebugControl = "/proc/dynamic_debug/control"
    /// Where debugfs is usually mounted; dynamic_debug/control lives below it before /proc/dynamic_debug existed.
    public static let usualDebugfs = "/sys/kernel/debug"
    public static let nfLogRegistry = "/proc/net/netfilter/nf_log"
    public static let uptime = "/proc/uptime"
    public static let tableDump = "ctnetlink IPCTNL_MSG_CT_GET dump"
}
