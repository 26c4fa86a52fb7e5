import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct ModuleProbeTests {
    static let inOrder: [any Probe] = [HostIdentityProbe(), KernelConfigProbe(), NfLogProbe(), ModuleProbe()]

    func modules(_ root: HostRoot, _ probes: [any Probe] = inOrder) -> ModuleInventory {
        Fixtures.snapshot(root, probes).modules
    }

    @Test func monolithic618EverythingBuiltIn() {
        let inv = modules(Fixtures.root(Fixtures.monolithic))
        #expect(inv.loadableModules == false)
        #expect(inv.moduleTree == nil)
        #expect(Set(inv.modules.keys) == Set(ModuleInventory.tracked))
        let conntrack = inv.status("nf_conntrack")
        #expect(conntrack.state == .builtIn)
        #expect(conntrack.evidence == "/sys/module/nf_conntrack exists and there is no /proc/modules")
        #expect(inv.status("nf_conntrack_netlink") == ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_CT_NETLINK=y in /proc/config.gz"))
        #expect(inv.status("nf_log_syslog") == ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_LOG_SYSLOG=y in /proc/config.gz"))
        #expect(inv.status("nfnetlink_log") == ModuleStatus(state: .builtIn, evidence: "CONFIG_NETFILTER_NETLINK_LOG=y in /proc/config.gz"))
        // Old logger names are part of nf_log_syslog since 5.13, even nf_log_arp whose compat switch is off.
        for name in ["nf_log_ipv4", "nf_log_ipv6", "nf_log_arp", "nf_log_bridge", "nf_log_netdev"] {
            let status = inv.status(name)
            #expect(status.state == .builtIn, "\(name): \(status)")
            #expect(status.evidence.contains("CONFIG_NF_LOG_SYSLOG=y"))
            #expect(status.evidence.contains("part of nf_log_syslog since 5.13"))
        }
        #expect(inv.status("nf_log_common") == ModuleStatus(
            state: .missing, evidence: "CONFIG_NF_LOG_COMMON does not appear in /proc/config.gz"))
    }

    @Test func helperModulesAreTrackedToo() {
        let inv = modules(Fixtures.root(Fixtures.monolithic))
        #expect(inv.status("nf_conntrack_ftp") == ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_CONNTRACK_FTP=y in /proc/config.gz"))
        #expect(inv.status("nf_conntrack_sip") == ModuleStatus(
            state: .missing, evidence: "CONFIG_NF_CONNTRACK_SIP does not appear in /proc/config.gz"))
        #expect(ModuleProbe.configOption["nf_conntrack_h323"] == "CONFIG_NF_CONNTRACK_H323")
    }

    @Test func monolithicWithoutConfigFallsBackToRegisteredLoggers() {
        // Like the build machine without /proc/config.gz: /sys/module has no nf_log_syslog (it takes no parameters).
        let inv = modules(Fixtures.root(Fixtures.monolithic), [HostIdentityProbe(), NfLogProbe(), ModuleProbe()])
        let ipv4 = inv.status("nf_log_ipv4")
        #expect(ipv4.state == .builtIn)
        #expect(ipv4.evidence == "logger nf_log_ipv4 is registered in /proc/net/netfilter/nf_log and the kernel has no /proc/modules")
        #expect(inv.status("nfnetlink_log").state == .builtIn)
        let syslog = inv.status("nf_log_syslog")
        #expect(syslog.state == .builtIn)
        #expect(syslog.evidence.contains("nf_log_arp, nf_log_bridge, nf_log_ipv4, nf_log_ipv6, nf_log_netdev are registered"))
        #expect(inv.status("nf_conntrack").state == .builtIn)
        let netlink = inv.status("nf_conntrack_netlink")
        #expect(netlink.state == .unknown)
        #expect(netlink.evidence.contains("there is no /proc/modules"))
        #expect(netlink.evidence.contains("/lib/modules/6.18.44-fc-v782 is missing"))
        #expect(netlink.evidence.contains("CONFIG_NF_CT_NETLINK unknown"))
    }

    @Test func debian61NothingLoaded() {
        let inv = modules(Fixtures.root(Fixtures.modular61))
        let tree = "/lib/modules/6.1.0-27-amd64"
        #expect(inv.loadableModules == true)
        #expect(inv.moduleTree == tree)
        #expect(inv.status("nf_conntrack") == ModuleStatus(state: .loaded, evidence: "/proc/modules lists nf_conntrack"))
        #expect(inv.status("nf_log_syslog") == ModuleStatus(state: .available, evidence: tree + "/kernel/net/netfilter/nf_log_syslog.ko"))
        #expect(inv.status("nfnetlink_log") == ModuleStatus(state: .available, evidence: tree + "/kernel/net/netfilter/nfnetlink_log.ko"))
        #expect(inv.status("nf_conntrack_netlink").state == .available)
        let ipv4 = inv.status("nf_log_ipv4")
        #expect(ipv4.state == .available)
        #expect(ipv4.evidence.hasPrefix(tree + "/kernel/net/netfilter/nf_log_syslog.ko"))
        let common = inv.status("nf_log_common")
        #expect(common.state == .missing)
        #expect(common.evidence == "nf_log_common is not in /proc/modules, not in \(tree)/modules.builtin and not in \(tree)/modules.dep")
    }

    @Test func debian510PerFamilyLoggerModules() {
        let inv = modules(Fixtures.root(Fixtures.modular510))
        let tree = "/lib/modules/5.10.0-28-amd64"
        #expect(inv.loadableModules == true)
        #expect(inv.moduleTree == tree)
        #expect(inv.status("nf_log_ipv4") == ModuleStatus(state: .loaded, evidence: "/proc/modules lists nf_log_ipv4"))
        #expect(inv.status("nf_log_common").state == .loaded)
        #expect(inv.status("nf_conntrack").state == .loaded)
        #expect(inv.status("nf_log_ipv6") == ModuleStatus(state: .available, evidence: tree + "/kernel/net/ipv6/netfilter/nf_log_ipv6.ko"))
        #expect(inv.status("nf_log_bridge").evidence == tree + "/kernel/net/bridge/netfilter/nf_log_bridge.ko")
        #expect(inv.status("nfnetlink_log").state == .available)
        // nf_log_syslog did not exist before 5.13.
        #expect(inv.status("nf_log_syslog").state == .missing)
    }

    @Test func ubuntu515NfLogSyslogLoaded() {
        let inv = modules(Fixtures.root(Fixtures.modular515))
        #expect(inv.status("nf_log_syslog") == ModuleStatus(state: .loaded, evidence: "/proc/modules lists nf_log_syslog"))
        #expect(inv.status("nf_conntrack_netlink").state == .loaded)
        let ipv6 = inv.status("nf_log_ipv6")
        #expect(ipv6.state == .loaded)
        #expect(ipv6.evidence == "/proc/modules lists nf_log_syslog (nf_log_ipv6 is part of nf_log_syslog since 5.13)")
        #expect(inv.status("nfnetlink_log").state == .available)
        #expect(inv.status("nf_log_common").state == .missing)
    }

    @Test func builtinListAndSysModuleOnAModularKernel() throws {
        let temp = try Fixtures.copy(Fixtures.modular61)
        try temp.write("/lib/modules/6.1.0-27-amd64/modules.builtin", "kernel/net/netfilter/nfnetlink_log.ko\n")
        try temp.mkdir("/sys/module/nf_conntrack_netlink/parameters")
        let inv = modules(temp.root)
        #expect(inv.status("nfnetlink_log") == ModuleStatus(
            state: .builtIn, evidence: "/lib/modules/6.1.0-27-amd64/modules.builtin lists nfnetlink_log"))
        #expect(inv.status("nf_conntrack_netlink") == ModuleStatus(
            state: .builtIn, evidence: "/sys/module/nf_conntrack_netlink exists and /proc/modules does not list it"))
    }

    @Test func configSaysNotSetWithoutAModuleTree() throws {
        let temp = try Fixtures.copy(Fixtures.modular61)
        try temp.remove("/lib/modules")
        let inv = modules(temp.root)
        #expect(inv.moduleTree == nil)
        #expect(inv.status("nf_conntrack").state == .loaded)
        let bridge = inv.status("nf_log_common")
        #expect(bridge == ModuleStatus(state: .missing, evidence: "CONFIG_NF_LOG_COMMON does not appear in /boot/config-6.1.0-27-amd64"))
        // =m and nothing on disk to look at: cannot tell.
        let syslog = inv.status("nf_log_syslog")
        #expect(syslog.state == .unknown)
        #expect(syslog.evidence.contains("/proc/modules does not list nf_log_syslog"))
        #expect(syslog.evidence.contains("CONFIG_NF_LOG_SYSLOG=m in /boot/config-6.1.0-27-amd64"))
    }

    @Test func nothingReadableIsUnknown() throws {
        let temp = try TemporaryRoot()
        let inv = modules(temp.root)
        #expect(inv.loadableModules == false)
        #expect(inv.modules.values.allSatisfy { $0.state == .unknown })
    }

    @Test(arguments: [
        ("kernel/net/netfilter/nf_log_syslog.ko", "nf_log_syslog"),
        ("kernel/net/netfilter/nf_log_syslog.ko.zst", "nf_log_syslog"),
        ("kernel/net/netfilter/nf_log_syslog.ko.xz", "nf_log_syslog"),
        ("kernel/net/netfilter/nf_log_syslog.ko.gz", "nf_log_syslog"),
        ("/lib/modules/x/kernel/drivers/foo-bar.ko", "foo_bar"),
        ("nfnetlink_log.ko", "nfnetlink_log"),
    ])
    func moduleNames(_ path: String, _ name: String) {
        #expect(ModuleProbe.moduleName(fromPath: path) == name)
    }

    @Test func modulesDepAndProcModulesParsing() {
        let dep = "kernel/net/netfilter/nf_log_syslog.ko.zst:\nkernel/net/netfilter/nf_conntrack.ko: kernel/lib/libcrc32c.ko\n\n"
        #expect(ModuleProbe.parseModulesDep(dep, tree: "/lib/modules/r") == [
            "nf_log_syslog": "/lib/modules/r/kernel/net/netfilter/nf_log_syslog.ko.zst",
            "nf_conntrack": "/lib/modules/r/kernel/net/netfilter/nf_conntrack.ko",
        ])
        #expect(ModuleProbe.parseProcModules("nf_conntrack 176128 0 - Live 0x0\nlibcrc32c\t16384 1 nf_conntrack, Live 0x0\n")
            == ["nf_conntrack", "libcrc32c"])
    }
}
