import Checks
import DoctorCore
import DoctorHost
import Foundation
import Testing

/// The binary against copied trees: gating, offline snapshots, the catalog.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct FixtureRootTests {
    static func root(_ name: String) -> String {
        Binary.packageRoot.appendingPathComponent("Tests/DoctorHostTests/Fixtures/roots/\(name)").path
    }

    func report(_ arguments: [String]) throws -> (Report, Int32) {
        let result = try Binary.run(arguments + ["--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        return (report, result.exitStatus)
    }

    @Test func warningGatesOnlyWhenAskedTo() throws {
        let root = Self.root("monolithic-6.18")
        let (report, status) = try report(["check", "--root", root])
        let logInvalid = try #require(report.findings.first { $0.id == "logging.log-invalid" })
        #expect(logInvalid.status == .fail && logInvalid.severity == .warning)
        #expect(status == 0)
        #expect(try Binary.run(["check", "--root", root, "--fail-on", "warning"]).exitStatus == 1)
        #expect(try Binary.run(["check", "--root", root, "--fail-on", "error"]).exitStatus == 0)
    }

    @Test func minScoreGates() throws {
        let root = Self.root("monolithic-6.18")
        let (report, _) = try report(["check", "--root", root])
        #expect(report.score < 100)
        #expect(try Binary.run(["check", "--root", root, "--min-score", String(report.score)]).exitStatus == 0)
        #expect(try Binary.run(["check", "--root", root, "--min-score", String(report.score + 1)]).exitStatus == 1)
    }

    @Test func onlyNarrowsTheReportAndSkipKeepsEveryCheckInIt() throws {
        let root = Self.root("monolithic-6.18")
        let (only, _) = try report(["check", "--root", root, "--only", "events.enabled", "tcp.loose"])
        #expect(only.findings.map(\.id) == ["tcp.loose", "events.enabled"], "catalog order, those two only")
        #expect(!only.findings.contains { $0.status == .skipped })
        // The fixture's lifetime counters (invalid, drop, insert_failed, chaintoolong) are the only warnings.
        let warned = ["logging.log-invalid", "table.drops", "table.insert-failed", "table.buckets", "table.invalid"]
        let (skip, status) = try report(["check", "--root", root, "--skip"] + warned + ["--fail-on", "warning"])
        #expect(warned.allSatisfy { id in skip.findings.first { $0.id == id }?.status == .skipped })
        #expect(status == 0, "the only warnings were skipped")
    }

    @Test(arguments: ["monolithic-6.18", "modular-6.1-nothing-loaded", "modular-5.10-nf_log_ipv4", "modular-5.15-nf_log_syslog"])
    func snapshotFileGivesTheSameFindingsAsTheTree(name: String) throws {
        let dir = try Binary.temporaryDirectory()
        let file = dir.appendingPathComponent("snap.json").path
        let written = try Binary.run(["snapshot", "--root", Self.root(name), "--output", file])
        #expect(written.exitStatus == 0 && written.stdout.isEmpty)
        let (fromTree, treeStatus) = try report(["check", "--root", Self.root(name)])
        let (fromFile, fileStatus) = try report(["check", "--snapshot", file])
        #expect(fromFile.findings == fromTree.findings)
        #expect(fromFile.score == fromTree.score)
        #expect(fileStatus == treeStatus)
        #expect(fromFile.host.source == file)
    }

    @Test func sixOneModularNamespaceIsNotInitial() throws {
        let (report, _) = try report(["check", "--root", Self.root("modular-6.1-nothing-loaded")])
        #expect(report.host.kernel == "6.1.0-27-amd64")
        #expect(report.host.netns.initial == false)
    }

    @Test func catalogListsEveryCheck() throws {
        let text = try Binary.run(["checks"])
        #expect(text.exitStatus == 0)
        let catalogLines = text.stdout.components(separatedBy: "\n\n")[0].split(separator: "\n")
        #expect(catalogLines.map { String($0.prefix { $0 != " " }) } == Catalog.all.map(\.info.id))
        let json = try Binary.run(["checks", "--format", "json"])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == Catalog.all.count)
        #expect(entries.allSatisfy { ($0["rationale"] as? String)?.isEmpty == false })
    }

    @Test func explainPrintsRationaleAndReferences() throws {
        let result = try Binary.run(["explain", "logging.backend"])
        #expect(result.exitStatus == 0)
        #expect(result.stdout.hasPrefix("logging.backend — "))
        #expect(result.stdout.contains("nf_log"))
        #expect(result.stdout.contains("References:"))
    }

    @Test func textReportHasNoColourWhenPiped() throws {
        let result = try Binary.run(["check", "--root", Self.root("monolithic-6.18")])
        #expect(!result.stdout.contains("\u{1B}["))
        #expect(result.stdout.contains("Commands (review them first"))
        #expect(result.stdout.contains("sysctl -w net.netfilter.nf_conntrack_log_invalid=255"))
    }
}
