import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `--policy` and `--baseline` through the built binary, on a copied tree whose values are fixed
/// (monolithic-6.18: nf_conntrack_max = 262144, logging.log-invalid fails at warning).
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct PolicyCLITests {
    let root = FixtureRootTests.root("monolithic-6.18")

    func policy(_ yaml: String) throws -> String { try Binary.temporaryFile(yaml, named: "policy.yaml") }

    func check(_ extra: [String]) throws -> (Report?, CommandResult) {
        let result = try Binary.run(["check", "--root", root, "--format", "json"] + extra)
        return (try? JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)), result)
    }

    @Test func policyChecksAppearAndGate() throws {
        let strict = try policy("sysctls:\n  net.netfilter.nf_conntrack_max: {min: 1048576}\nmodules:\n  loaded: [nf_conntrack]\n")
        let (report, result) = try check(["--policy", strict])
        #expect(result.exitStatus == 1, "\(result.stderr)")
        let max = try #require(report?.findings.first { $0.id == "policy.sysctl.net.netfilter.nf_conntrack_max" })
        #expect(max.status == .fail && max.severity == .error)
        #expect(max.observed == "net.netfilter.nf_conntrack_max = 262144" && max.expected == "≥ 1048576")
        #expect(max.scoreImpact > 0)
        #expect(report?.findings.first { $0.id == "policy.module.nf_conntrack" }?.status == .pass)
        let lenient = try policy("sysctls:\n  net.netfilter.nf_conntrack_max: {min: 65536}\n")
        #expect(try check(["--policy", lenient]).1.exitStatus == 0)
    }

    @Test(arguments: [
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {minimum: 5}\n", ":2:36: unknown key 'minimum'"),
        ("require: [no.such-check]\n", ":1:11: require: unknown check id 'no.such-check'"),
        ("waivers:\n  - check: tcp.loose\n", ":2:5: a waiver needs a reason"),
        ("sysctls: [\n", ":2:1: not valid YAML"),
    ])
    func malformedPolicyExitsTwoNamingFileAndLine(yaml: String, message: String) throws {
        let path = try policy(yaml)
        let result = try Binary.run(["check", "--root", root, "--policy", path])
        #expect(result.exitStatus == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix("ctdoctor: --policy \(path)\(message)"), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
    }

    @Test func fixTakesThePolicyAndPrintsItsFixes() throws {
        let strict = try policy("sysctls:\n  net.netfilter.nf_conntrack_tcp_timeout_established: {max: 86400}\n")
        let id = "policy.sysctl.net.netfilter.nf_conntrack_tcp_timeout_established"
        let script = try Binary.run(["fix", "--root", root, "--policy", strict, "--only", id])
        #expect(script.exitStatus == 0, "\(script.stderr)")
        #expect(script.stdout.contains("\nsysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=86400\n"), "\(script.stdout)")
        #expect(!script.stdout.contains("nf_conntrack_log_invalid"), "--only keeps the built-in fixes out")
        let without = try Binary.run(["fix", "--root", root, "--only", id])
        #expect(without.exitStatus == 2 && without.stderr.contains("unknown check id"), "without the policy the id does not exist")
    }

    @Test func unreadablePolicyExitsTwo() throws {
        let result = try Binary.run(["check", "--root", root, "--policy", "/nonexistent/site.yaml"])
        #expect(result.exitStatus == 2)
        #expect(result.stderr.hasPrefix("ctdoctor: --policy /nonexistent/site.yaml: cannot read"), "\(result.stderr)")
    }

    /// The warning becomes an error by policy; a waiver then keeps it from tripping, until the waiver expires.
    @Test func waiversHoldUntilTheyExpire() throws {
        let raised = "severity:\n  logging.log-invalid: error\n"
        #expect(try check(["--policy", try policy(raised)]).1.exitStatus == 1)

        let waived = try policy(raised + "waivers:\n  - check: logging.log-invalid\n    reason: OPS-1 logging host\n    expires: 2999-12-31\n")
        let (report, result) = try check(["--policy", waived])
        #expect(result.exitStatus == 0, "a waived error does not trip --fail-on")
        let finding = try #require(report?.findings.first { $0.id == "logging.log-invalid" })
        #expect(finding.status == .waived && finding.severity == .error)
        #expect(report?.summary[.waived] == 1)

        let expired = try policy(raised + "waivers:\n  - check: logging.log-invalid\n    reason: OPS-1 logging host\n    expires: 2020-01-31\n")
        let (late, lateResult) = try check(["--policy", expired])
        #expect(lateResult.exitStatus == 1)
        #expect(late?.findings.first { $0.id == "logging.log-invalid" }?.status == .fail)
        let waiver = try #require(late?.findings.first { $0.id == "policy.waiver.logging.log-invalid" })
        #expect(waiver.status == .fail && waiver.observed.hasPrefix("waiver expired on 2020-01-31"))
        let text = try Binary.run(["check", "--root", root, "--policy", expired, "--quiet", "--no-color"])
        #expect(text.stdout.contains("waiver expired on 2020-01-31"), "\(text.stdout)")
    }

    /// An old failure (in the baseline report) does not trip; a new one does.
    @Test func baselineGatesOnlyNewFailures() throws {
        let dir = try Binary.temporaryDirectory()
        let baseline = dir.appendingPathComponent("baseline.json").path
        let before = try Binary.run(["check", "--root", root, "--format", "json", "--fail-on", "warning", "--output", baseline])
        #expect(before.exitStatus == 1, "logging.log-invalid fails at warning")
        let after = try Binary.run(["check", "--root", root, "--fail-on", "warning", "--baseline", baseline])
        #expect(after.exitStatus == 0)
        #expect(after.stderr.hasPrefix("ctdoctor: --baseline \(baseline): 5 failing check(s) already failed there and do not gate: logging.log-invalid, "), "\(after.stderr)")
        let newFailure = try policy("sysctls:\n  net.netfilter.nf_conntrack_tcp_loose: 0\n")
        #expect(try Binary.run(["check", "--root", root, "--fail-on", "warning", "--baseline", baseline, "--policy", newFailure]).exitStatus == 1)
    }

    @Test func unreadableOrForeignBaselineExitsTwo() throws {
        let snapshot = try Binary.temporaryDirectory().appendingPathComponent("snap.json").path
        #expect(try Binary.run(["snapshot", "--root", root, "--output", snapshot]).exitStatus == 0)
        for (path, words) in [("/nonexistent/r.json", "cannot read"), (snapshot, "not a ctdoctor report")] {
            let result = try Binary.run(["check", "--root", root, "--baseline", path])
            #expect(result.exitStatus == 2)
            #expect(result.stderr.hasPrefix("ctdoctor: --baseline \(path): \(words)"), "\(result.stderr)")
        }
    }
}
