import Foundation
@testable import DoctorCore
@testable import DoctorHost

/// Command outputs recorded on a real machine by Fixtures/commands/record: one folder per ruleset, one file per
/// command named after its words joined by "_", with FILE.stderr and FILE.status beside it when there were any.
enum RecordedCommands {
    static var folder: String { Fixtures.rootsPath.replacingOccurrences(of: "/roots", with: "/commands") }

    static func recordings(_ set: String) -> [[String]: Result<CommandResult, CommandFailure>] {
        let dir = folder + "/" + set
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var table: [[String]: Result<CommandResult, CommandFailure>] = [:]
        for name in names where !name.contains(".") {
            func read(_ suffix: String) -> String? { try? String(contentsOfFile: "\(dir)/\(name)\(suffix)", encoding: .utf8) }
            let status = read(".status").flatMap { Int32($0.trimmingWhitespace()) } ?? 0
            table[name.split(separator: "_").map(String.init)] =
                .success(CommandResult(exitStatus: status, stdout: read("") ?? "", stderr: read(".stderr") ?? ""))
        }
        return table
    }

    /// A runner answering from the recorded set; any other command is not installed.
    static func runner(_ set: String, overriding: [[String]: Result<CommandResult, CommandFailure>] = [:]) -> ToolTable {
        ToolTable(answers: recordings(set).merging(overriding) { _, new in new })
    }

    static func snapshot(_ runner: any CommandRunner, root: HostRoot = HostRoot("/nonexistent-root"), probes: [any Probe] = [RulesetProbe()]) -> HostSnapshot {
        var snapshot = HostSnapshot()
        let context = ProbeContext(host: root, runner: runner, toolVersion: "test", now: "now")
        for probe in probes { probe.collect(into: &snapshot, context: context) }
        return snapshot
    }
}

/// Answers from a table; a command not in it is a program that is not installed.
struct ToolTable: CommandRunner {
    var answers: [[String]: Result<CommandResult, CommandFailure>]

    func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
        answers[argv] ?? .failure(.notFound(argv.first ?? ""))
    }
}
