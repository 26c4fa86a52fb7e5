import Checks
import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `--only` narrows the report to the named checks; `checks` and `explain` know the checks a policy adds.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct SelectionCLITests {
    let root = FixtureRootTests.root("monolithic-6.18")

    @Test func onlyPrintsTheNamedChecksAndNoSkipLines() throws {
        let result = try Binary.run(["check", "--root", root, "--only", "tcp.loose,table.usage", "--no-color"])
        let statusLines = result.stdout.split(separator: "\n").filter {
            ["PASS", "FAIL", "SKIP", "N/A", "ERROR", "WAIVED"].contains($0.split(separator: " ").first.map(String.init) ?? "")
        }
        #expect(statusLines.count == 2, "\(result.stdout)")
        #expect(statusLines.allSatisfy { $0.contains("tcp.loose") || $0.contains("table.usage") })
        let json = try Binary.run(["check", "--root", root, "--only", "tcp.loose", "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8))
        #expect(report.findings.map(\.id) == ["tcp.loose"])
    }

    @Test func checksListsPolicyKindsAndWithAPolicyItsChecks() throws {
        let plain = try Binary.run(["checks"])
        #expect(plain.exitStatus == 0)
        for family in PolicyEvaluator.families { #expect(plain.stdout.contains(family.pattern)) }
        let policy = try Binary.temporaryFile(
            "sysctls:\n  net.netfilter.nf_conntrack_max: {min: 1048576}\nrequire: [tcp.loose]\n", named: "policy.yaml")
        let listed = try Binary.run(["checks", "--policy", policy, "--format", "json"])
        let ids = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]).compactMap { $0["id"] as? String }
        #expect(ids == Catalog.all.map(\.info.id) + ["policy.sysctl.net.netfilter.nf_conntrack_max", "policy.require.tcp.loose"])
        let explained = try Binary.run(["explain", "policy.sysctl.net.netfilter.nf_conntrack_max", "--policy", policy])
        #expect(explained.exitStatus == 0, "\(explained.stderr)")
        #expect(explained.stdout.contains("policy.yaml:2"), "\(explained.stdout)")
        let family = try Binary.run(["explain", "policy.module.nf_nat"])
        #expect(family.exitStatus == 0 && family.stdout.contains("modules.loaded"), "\(family.stdout)")
        #expect(try Binary.run(["explain", "no.such-check"]).exitStatus == 2)
    }
}
