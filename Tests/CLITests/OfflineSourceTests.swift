import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `check --sos DIR` on the real Ubuntu 5.4 Kubernetes-node sosreport under Tests/DoctorHostTests/Fixtures/sosreport.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: SosFixture.present, "sosreport fixture not found at \(SosFixture.path)"))
struct SosCheckTests {
    func check(_ extra: [String] = []) throws -> (Report, CommandResult) {
        let result = try Binary.run(["check", "--sos", SosFixture.path, "--format", "json"] + extra)
        return (try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)), result)
    }

    /// Worked out by reading the sosreport's files.
    @Test func findingsMatchWhatTheFilesSay() throws {
        let (report, result) = try check()
        #expect(result.exitStatus == 0, "\(result.stderr)")
        func finding(_ id: String) -> Finding? { report.findings.first { $0.id == id } }
        #expect(report.host.kernel == "5.4.0-99-generic")
        // proc/sys/net/netfilter/nf_conntrack_count 901 of nf_conntrack_max 131072.
        #expect(finding("table.usage")?.observed == "901 of 131072 entries (0%)")
        // Every nf_log.N is NONE, but nf_conntrack_log_invalid = 0 asks nothing of them: not-applicable, not "bound".
        #expect(finding("logging.backend")?.status == .notApplicable)
        // KUBE-FORWARD: -m conntrack --ctstate INVALID -j DROP, for IPv4 and IPv6.
        #expect(finding("rules.invalid-drop")?.status == .pass)
        #expect(finding("rules.invalid-drop")?.evidence.contains { $0.source == "ip filter KUBE-FORWARD (iptables)" && $0.value.hasSuffix("ctstate INVALID") } == true)
        // sys/kernel/debug/dynamic_debug/control: 77 [nf_conntrack] sites, none enabled.
        #expect(finding("debug.dynamic-debug")?.status == .pass)
        #expect(finding("debug.dynamic-debug")?.evidence.contains(Evidence("/sys/kernel/debug/dynamic_debug/control", "nf_conntrack: 77 sites (0 enabled)")) == true)
        // kube-proxy's 15 NAT rules; modules from proc/modules.
        #expect(finding("conntrack.present")?.status == .pass)
        #expect(finding("ctnetlink.available")?.status == .notApplicable)
    }

    @Test func reportListsWhatTheSosreportCouldNotFill() throws {
        let (report, _) = try check()
        let unfilled = try #require(report.unfilled)
        #expect(unfilled.contains { $0.hasPrefix("conntrack statistics: ") })
        #expect(unfilled.contains { $0.hasPrefix("ctnetlink: not a live host") })
        #expect(unfilled.contains { $0.hasPrefix("nf_conntrack slab: ") })
        #expect(!unfilled.contains { $0.hasPrefix("netfilter sysctls") || $0.hasPrefix("nf_log registry") || $0.hasPrefix("dynamic debug") })
        #expect(report.notes?.first?.contains("proc/sys/net/netfilter/nf_conntrack_count holds 901, sos_commands/kernel/sysctl_-a:1004 printed 832") == true)

        let text = try Binary.run(["check", "--sos", SosFixture.path, "--no-color"]).stdout
        #expect(text.contains("\nNot filled from this source:\n  - kernel config: "))
        #expect(text.contains("\nNotes:\n  - net.netfilter.nf_conntrack_count: "))
    }

    @Test func aFolderWithoutSosCommandsIsRefused() throws {
        let dir = try Binary.temporaryDirectory()
        let result = try Binary.run(["check", "--sos", dir.path])
        #expect(result.exitStatus == 2)
        #expect(result.stderr == "ctdoctor: --sos \(dir.path): not an unpacked sosreport (it has no sos_commands folder)\n")
    }
}

enum SosFixture {
    static func path(_ name: String) -> String {
        Binary.packageRoot.appendingPathComponent("Tests/DoctorHostTests/Fixtures/sosreport/\(name)").standardized.path
    }

    static let path = path("ubuntu-5.4-kubernetes-node")
    static let present = FileManager.default.fileExists(atPath: path + "/sos_commands")
}

/// A snapshot taken here and checked later gives the findings `check` gives here. Both run in one fresh namespace,
/// which holds no traffic, so nothing in between changes; the kernel log is the host's, so findings built on it
/// are compared by verdict only.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "needs root to create a network namespace"))
struct SnapshotParityTests {
    @Test func snapshotThenCheckEqualsCheck() throws {
        let ns = try Namespace()
        let file = try Binary.temporaryDirectory().appendingPathComponent("snap.json").path
        let taken = try ns.ctdoctor(["snapshot", "--output", file])
        #expect(taken.exitStatus == 0, "\(taken.stderr)")
        let live = try ns.ctdoctor(["check", "--format", "json"])
        let offline = try Binary.run(["check", "--snapshot", file, "--format", "json"])
        let a = try JSONDecoder().decode(Report.self, from: Data(live.stdout.utf8))
        let b = try JSONDecoder().decode(Report.self, from: Data(offline.stdout.utf8))
        #expect(live.exitStatus == offline.exitStatus)
        #expect(a.score == b.score)
        #expect(a.findings.map(\.id) == b.findings.map(\.id))
        for (x, y) in zip(a.findings, b.findings) {
            #expect(x.status == y.status, "\(x.id)")
            #expect(x.severity == y.severity, "\(x.id)")
            if !Self.kernelLogChecks.contains(x.id) { #expect(x.observed == y.observed, "\(x.id)") }
        }
        #expect(a.host.netns == b.host.netns)
    }

    static let kernelLogChecks: Set<String> = ["table.drops", "table.invalid", "helpers.unassigned"]
}
