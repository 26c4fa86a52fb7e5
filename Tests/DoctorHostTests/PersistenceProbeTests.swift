import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct PersistenceProbeTests {
    static let root = "debian-12-persistence"

    func read(_ root: HostRoot) throws -> PersistedSettings {
        try #require(PersistenceProbe.read(root).value)
    }

    @Test func systemdOrderSameNameMaskAndBothSpellings() throws {
        let p = try read(Fixtures.root(Self.root))
        #expect(p.sysctlFiles == [
            "/usr/lib/sysctl.d/50-conntrack-vendor.conf",
            "/etc/sysctl.d/60-site.conf",
            "/run/sysctl.d/80-run.conf",
            "/etc/sysctl.d/99-custom.conf",
            "/etc/sysctl.d/99-sysctl.conf -> /etc/sysctl.conf",
            "/etc/sysctl.d/99-zz-override.conf",
        ])
        let max = try #require(p.sysctls["net.netfilter.nf_conntrack_max"])
        #expect(max.value == "524288" && max.location == "/etc/sysctl.d/99-zz-override.conf:1")
        #expect(max.written == "-net/netfilter/nf_conntrack_max" && max.ignoreErrors)
        #expect(max.overrides == [
            ConfigEntry(value: "65536", file: "/usr/lib/sysctl.d/50-conntrack-vendor.conf", line: 2),
            ConfigEntry(value: "262144", file: "/etc/sysctl.d/99-custom.conf", line: 2),
        ])
        // /etc/60-site.conf hides /usr/lib/60-site.conf; 70-masked.conf is a link to /dev/null.
        #expect(p.sysctls["net.netfilter.nf_conntrack_tcp_loose"]?.location == "/etc/sysctl.d/60-site.conf:1")
        #expect(p.sysctls["net.netfilter.nf_conntrack_tcp_loose"]?.overrides == [])
        #expect(p.sysctls["net.netfilter.nf_conntrack_udp_timeout"] == nil)
        // /etc/sysctl.conf through Debian's 99-sysctl.conf link, in that link's place.
        let established = try #require(p.sysctls["net.netfilter.nf_conntrack_tcp_timeout_established"])
        #expect(established.value == "432000" && established.location == "/etc/sysctl.conf:4")
        #expect(p.sysctls["net.netfilter.nf_conntrack_generic_timeout"]?.location == "/run/sysctl.d/80-run.conf:2")
        #expect(p.sysctls["net.netfilter.nf_conntrack_helper"]?.ignoreErrors == true)
        #expect(p.sysctls["net.ipv4.ip_forward"] == nil)
        #expect(p.problems.isEmpty)
    }

    @Test func modulesOptionsAndCommandLine() throws {
        let p = try read(Fixtures.root(Self.root))
        // Sorted by file name across folders; /etc/modules comes once, through the modules.conf link.
        #expect(p.modulesLoad == [
            ConfigEntry(value: "loop", file: "/usr/lib/modules-load.d/loop.conf", line: 1),
            ConfigEntry(value: "br_netfilter", file: "/etc/modules", line: 2),
        ])
        #expect(p.loadsAtBoot("nf_conntrack") == nil)
        #expect(p.conntrackOptions["hashsize"] == ConfigEntry(value: "65536", file: "/etc/modprobe.d/nf_conntrack.conf", line: 1))
        #expect(p.conntrackOptions["acct"]?.value == "1")
        #expect(p.udevSysctlRules.isEmpty)
    }

    @Test func modulesLoadDotDUdevAndKernelCommandLine() throws {
        let temp = try Fixtures.copy(Self.root)
        try temp.write("/etc/modules-load.d/conntrack.conf", "# for sysctl.d\nnf-conntrack\n")
        try temp.write("/proc/cmdline", "ro quiet modules-load=nf_nat,xt_conntrack nf_conntrack.hashsize=131072\n")
        try temp.write("/etc/udev/rules.d/99-conntrack.rules",
                       #"ACTION=="add", SUBSYSTEM=="module", KERNEL=="nf_conntrack", RUN+="/usr/lib/systemd/systemd-sysctl --prefix=/net/netfilter""# + "\n")
        let p = try read(temp.root)
        #expect(p.loadsAtBoot("nf_conntrack") == ConfigEntry(value: "nf_conntrack", file: "/etc/modules-load.d/conntrack.conf", line: 2))
        #expect(p.modulesLoad.filter { $0.file == PersistenceProbe.cmdline }.map(\.value) == ["nf_nat", "xt_conntrack"])
        #expect(p.conntrackOptions["hashsize"] == ConfigEntry(value: "131072", file: "/proc/cmdline", line: 1))
        #expect(p.udevSysctlRules.map(\.location) == ["/etc/udev/rules.d/99-conntrack.rules:1"])
    }

    @Test func sysctlConfIsReadLastWithoutALink() throws {
        let temp = try Fixtures.copy(Self.root)
        try temp.remove("/etc/sysctl.d/99-sysctl.conf")
        let p = try read(temp.root)
        #expect(p.sysctlFiles.last == "/etc/sysctl.conf")
        #expect(p.sysctls["net.netfilter.nf_conntrack_tcp_timeout_established"]?.location == "/etc/sysctl.conf:4")
    }

    @Test func absoluteLinksStayInsideTheRoot() throws {
        let temp = try Fixtures.copy(Self.root)
        try temp.write("/srv/conntrack.conf", "net.netfilter.nf_conntrack_expect_max = 8192\n")
        try temp.remove("/etc/sysctl.d/99-custom.conf")
        symlink("/srv/conntrack.conf", temp.root.resolve("/etc/sysctl.d/99-custom.conf"))
        let p = try read(temp.root)
        #expect(p.sysctls["net.netfilter.nf_conntrack_expect_max"]?.location == "/srv/conntrack.conf:1")
    }

    @Test func spellings() {
        #expect(PersistenceProbe.parseSysctl("net.netfilter.nf_log.2 = nf_log_ipv4")?.key == "net.netfilter.nf_log.2")
        #expect(PersistenceProbe.parseSysctl("net/netfilter/nf_log/2=NONE")?.key == "net.netfilter.nf_log.2")
        #expect(PersistenceProbe.parseSysctl("-net.nf_conntrack_max=1")?.ignoreErrors == true)
        #expect(PersistenceProbe.parseSysctl("net.netfilter.* = 1") == nil)
        #expect(PersistenceProbe.parseSysctl("../sysctl.conf") == nil)
    }

    @Test func rootWithoutEtcIsAbsent() {
        let reading = PersistenceProbe.read(Fixtures.root(Fixtures.monolithic))
        guard case .absent = reading else { Issue.record("expected absent, got \(reading)"); return }
    }

    @Test(.enabled(if: Sosreport.present, "sosreport fixture not found at \(Sosreport.path)"))
    func sosreportSetsNoNetfilterKeyAndLoadsOnlyBrNetfilter() throws {
        let p = try read(HostRoot(Sosreport.path))
        #expect(p.sysctls.isEmpty)
        // The sosreport stores links as files holding their target, so 99-sysctl.conf reads "../sysctl.conf"
        // (no assignment) and /etc/sysctl.conf is read last as `sysctl --system` would.
        #expect(p.sysctlFiles.contains("/etc/sysctl.d/50-kubernetes-charm.conf"))
        #expect(p.sysctlFiles.contains("/usr/lib/sysctl.d/50-default.conf"))
        #expect(p.sysctlFiles.last == "/etc/sysctl.conf")
        #expect(p.modulesLoad == [ConfigEntry(value: "br_netfilter", file: "/etc/modules", line: 6)])
        #expect(p.conntrackOptions.isEmpty)
    }
}
