import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Every exit status DESIGN.md defines, through the built binary.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct ExitCodeTests {
    @Test func versionAndHelpExitZero() throws {
        let version = try Binary.run(["--version"])
        #expect(version.exitStatus == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        let help = try Binary.run(["--help"])
        #expect(help.exitStatus == 0)
        #expect(help.stdout.contains("Exit status:"))
        #expect(help.stdout.contains("3  nothing could be judged"))
    }

    @Test(arguments: [
        (["--only", "no.such-check"], "--only: unknown check id 'no.such-check'"),
        (["check", "--skip", "logging.backend,bogus"], "--skip: unknown check id 'bogus'"),
        (["--root", "/nonexistent/root"], "--root /nonexistent/root: no such directory"),
        (["explain", "nope"], "explain: unknown check id 'nope'"),
    ])
    func badInputIsOneLineAndExitTwo(arguments: [String], message: String) throws {
        let result = try Binary.run(arguments)
        #expect(result.exitStatus == 2)
        #expect(result.stderr == "ctdoctor: \(message) (`ctdoctor checks` lists them)\n" || result.stderr == "ctdoctor: \(message)\n")
        #expect(result.stdout.isEmpty)
    }

    @Test(arguments: [["--format", "yaml"], ["--min-score", "101"], ["--fail-on", "sometimes"], ["--bogus-flag"],
                      ["--snapshot", "x.json", "--root", "/"]])
    func usageErrorsExitTwoNot64(arguments: [String]) throws {
        let result = try Binary.run(arguments)
        #expect(result.exitStatus == 2, "\(result.stderr)")
        #expect(result.stderr.contains("Error:"))
    }

    @Test func truncatedAndForeignSnapshotsExitTwo() throws {
        let dir = try Binary.temporaryDirectory()
        let truncated = dir.appendingPathComponent("truncated.json").path
        let foreign = dir.appendingPathComponent("foreign.json").path
        try "{\"schema\": \"ctdoctor.snapshot/1\", \"host\": {".write(toFile: truncated, atomically: true, encoding: .utf8)
        try "{\"apiVersion\": \"v1\", \"kind\": \"Pod\"}".write(toFile: foreign, atomically: true, encoding: .utf8)
        for (file, words) in [(truncated, "not valid JSON"), (foreign, "not a ctdoctor snapshot")] {
            let result = try Binary.run(["check", "--snapshot", file])
            #expect(result.exitStatus == 2)
            #expect(result.stderr.hasPrefix("ctdoctor: --snapshot \(file): \(words)"), "\(result.stderr)")
            #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
        }
    }

    @Test(.enabled(if: Binary.isRoot, "needs root to drop to an unprivileged user"))
    func nothingReadableIsExitThree() throws {
        let dir = try Binary.temporaryDirectory()
        let root = dir.appendingPathComponent("sealed")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: dir.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: root.path)
        let result = try Binary.run(["check", "--root", root.path, "--format", "json"], asNobody: true)
        #expect(result.exitStatus == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\"skipped\""))
    }

    @Test func outputFileIsWrittenAndStdoutStaysEmpty() throws {
        let dir = try Binary.temporaryDirectory()
        let out = dir.appendingPathComponent("report.json").path
        let result = try Binary.run(["check", "--format", "json", "--output", out, "--fail-on", "critical"])
        #expect([0, 1].contains(result.exitStatus))
        #expect(result.stdout.isEmpty)
        let json = try String(contentsOfFile: out, encoding: .utf8)
        #expect(json.contains("\"schema\" : \"ctdoctor.report/1\""))
    }
}

/// One run per documented exit status, told apart: threshold reached (1) is not a usage error (2), which is not
/// "could not run" (3); and the policy's ways in and out of each.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct ExitStatusTableTests {
    let root = FixtureRootTests.root("monolithic-6.18")

    /// A snapshot in which no probe ran: every check ends in error or skipped, nothing can be judged.
    func unjudgeableSnapshot() throws -> String {
        try Binary.temporaryFile(JSONReporter.encode(HostSnapshot(takenAt: "2026-11-23T00:00:00Z", toolVersion: "0.1.0")), named: "empty.json")
    }

    func policy(_ yaml: String) throws -> String { try Binary.temporaryFile(yaml, named: "policy.yaml") }

    @Test func everyStatusFromOneTree() throws {
        let cases: [([String], Int32, String)] = [
            (["check", "--root", root], 0, "only a warning fails, below the default --fail-on error"),
            (["check", "--root", root, "--fail-on", "warning"], 1, "threshold reached"),
            (["check", "--root", root, "--min-score", "100"], 1, "score below --min-score"),
            (["check", "--root", root, "--fail-on", "sometimes"], 2, "usage error: bad value"),
            (["check", "--root", root, "--policy", "/nonexistent.yaml"], 2, "input error: unreadable policy"),
            (["check", "--snapshot", try unjudgeableSnapshot()], 3, "could not run: nothing judged"),
        ]
        for (arguments, status, why) in cases {
            let result = try Binary.run(arguments)
            #expect(result.exitStatus == status, "\(why): \(arguments) gave \(result.exitStatus): \(result.stderr)")
        }
    }

    @Test func couldNotRunWinsOverThresholdAndIsNotAUsageError() throws {
        let result = try Binary.run(["check", "--snapshot", try unjudgeableSnapshot(), "--fail-on", "info", "--format", "json"])
        #expect(result.exitStatus == 3)
        #expect(result.stderr.isEmpty, "a report, not an error message: \(result.stderr)")
        #expect(result.stdout.contains("\"schema\" : \"ctdoctor.report/1\""))
    }

    @Test func waivedErrorDoesNotTripButAnUnwaivedOneDoes() throws {
        let raised = "severity: {logging.log-invalid: critical}\n"
        #expect(try Binary.run(["check", "--root", root, "--policy", try policy(raised)]).exitStatus == 1)
        let waived = raised + "waivers:\n  - {check: logging.log-invalid, reason: accepted on logging hosts}\n"
        #expect(try Binary.run(["check", "--root", root, "--policy", try policy(waived)]).exitStatus == 0)
    }

    @Test func helpDocumentsPolicyAndBaseline() throws {
        let help = try Binary.run(["--help"]).stdout
        #expect(help.contains("a malformed --policy (FILE:LINE:COLUMN: what is\n     wrong) or --baseline"), "\(help)")
        #expect(help.contains("waived checks and failures already in the\n     --baseline report do not count"))
        #expect(!help.split(separator: "\n").contains { $0.count > 80 }, "no line wraps at 80 columns")
    }
}
