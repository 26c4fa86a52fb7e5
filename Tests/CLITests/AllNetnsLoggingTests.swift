import DoctorCore
import DoctorHost
import Foundation
import Testing

/// logging.all-netns fails for real under `--all-netns`: the initial namespace's nf_log_all_netns (read there, never
/// changed) is joined with a child namespace that asks for INVALID lines through a syslog logger.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "needs root to create a network namespace"))
struct AllNetnsLoggingTests {
    @Test func childAskingForLinesTheHostSuppresses() throws {
        let hostValue = try String(contentsOfFile: "/proc/sys/net/netfilter/nf_log_all_netns", encoding: .utf8).trimmingWhitespace()
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_log_invalid=6", "net.netfilter.nf_log.2=nf_log_ipv4"])
        // Every namespace on the machine is snapshotted; on a busy machine with many that takes a while.
        let result = try Binary.run(["check", "--all-netns", "--only", "logging.all-netns", "--format", "json"], timeout: 300)
        let all = try JSONDecoder().decode(NamespaceReports.self, from: Data(result.stdout.utf8))
        let child = try #require(all.reports.first { $0.host.netns.name == ns.name })
        let f = try #require(child.findings.first { $0.id == "logging.all-netns" })
        #expect(f.evidence.contains { $0.source.hasPrefix("/proc/sys/net/netfilter/nf_log_all_netns in the initial namespace") && $0.value == hostValue })
        if hostValue == "0" {
            #expect(f.status == .fail)
            #expect(f.severity == .warning)
            #expect(f.observed.hasPrefix("nf_log_all_netns = 0 on the host"))
            #expect(f.remediation?.steps.first?.scope == .initialNamespaceOnly)
        } else {
            #expect(f.status == .pass)
        }
        // Checked alone, the same namespace cannot tell and skips.
        let alone = try ns.ctdoctor(["check", "--only", "logging.all-netns", "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(alone.stdout.utf8))
        #expect(report.findings.first { $0.id == "logging.all-netns" }?.status == .skipped)
    }
}
