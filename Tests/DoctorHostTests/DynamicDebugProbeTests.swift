import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct DynamicDebugProbeTests {
    func read(_ name: String) -> Reading<DynamicDebug> {
        Fixtures.snapshot(name, [DynamicDebugProbe()]).dynamicDebug
    }

    @Test func kernel515UnderDebugfsWithTcpSitesLeftOn() throws {
        let dd = try #require(read("dyndbg-5.15-debugfs").value)
        #expect(dd.control == "/sys/kernel/debug/dynamic_debug/control")
        #expect(dd.debugfs == "/sys/kernel/debug")
        #expect(dd.totalSites == 14)
        #expect(dd.modules.map(\.name) == ["nf_conntrack", "nf_conntrack_ftp", "nf_defrag_ipv6", "nf_nat"])
        let conntrack = try #require(dd.module("nf_conntrack"))
        #expect(conntrack.total == 8 && conntrack.enabled == 3)
        #expect(conntrack.files.first { $0.path == "net/netfilter/nf_conntrack_proto_tcp.c" } == DynamicDebugFile(
            path: "net/netfilter/nf_conntrack_proto_tcp.c", total: 4, enabled: 3))
        #expect(conntrack.files.contains { $0.path == "include/net/netfilter/nf_conntrack_acct.h" })
        #expect(dd.module("nf_conntrack_ftp")?.enabled == 1)
        #expect(dd.enabled.map(\.line) == [521, 523, 526, 412])
        #expect(dd.enabled[2] == DynamicDebugSite(
            file: "net/netfilter/nf_conntrack_proto_tcp.c", line: 526, module: "nf_conntrack", function: "tcp_in_window",
            flags: "pmf", format: "seq=%u ack=%u+(%d) sack=%u+(%d) win=%u end=%u\\012"))
    }

    @Test func kernel612InProcWithOneTcpSiteAndClassSuffix() throws {
        let dd = try #require(read("dyndbg-6.12-proc").value)
        #expect(dd.control == DynamicDebugProbe.procControl)
        #expect(dd.debugfs == nil)
        #expect(dd.totalSites == 10)
        #expect(dd.modules.map { "\($0.name) \($0.total) \($0.enabled)" } == ["nf_conntrack 6 0", "nf_conntrack_sip 2 0"])
        #expect(dd.module("nf_conntrack")?.files.first { $0.path.hasSuffix("proto_tcp.c") }?.total == 1)
        #expect(dd.enabled.isEmpty)
    }

    @Test func classSuffixStaysOutOfTheFormat() {
        let site = DynamicDebugProbe.parseLine(#"drivers/gpu/drm/drm_print.c:330 [drm]__drm_dev_dbg =_ "%s" class:DRM_UT_CORE"#)
        #expect(site?.format == "%s")
        #expect(site?.isEnabled == false)
        #expect(DynamicDebugProbe.parseLine("# filename:lineno [module]function flags format") == nil)
    }

    @Test func kernelWithoutDynamicDebugIsAbsent() {
        let reading = read(Fixtures.monolithic)
        guard case .absent(let why) = reading else { Issue.record("expected absent, got \(reading)"); return }
        #expect(why.contains("/proc/dynamic_debug/control: No such file or directory"))
        #expect(why.contains("/sys/kernel/debug/dynamic_debug/control: No such file or directory"))
    }

    @Test(.enabled(if: Sosreport.present, "sosreport fixture not found at \(Sosreport.path)"))
    func sosreportHas77DisabledConntrackSites() throws {
        let dd = try #require(DynamicDebugProbe.read(HostRoot(Sosreport.path)).value)
        #expect(dd.control == "/sys/kernel/debug/dynamic_debug/control")
        #expect(dd.module("nf_conntrack")?.total == 77)
        #expect(dd.module("nf_conntrack")?.files.first { $0.path.hasSuffix("proto_tcp.c") }?.total == 15)
        #expect(dd.enabled.isEmpty)
        // Enabled sites elsewhere (init/main.c) are not netfilter's.
        #expect(dd.totalSites == 3441)
    }
}
