import ArgumentParser
import DoctorCore
import DoctorHost
import Testing
@testable import CTDoctorCLI

/// Parsing in-process: routing, defaults and flag combinations.
@Suite struct ParseTests {
    @Test func noCommandMeansCheck() throws {
        let command = try CTDoctor.parseAsRoot([])
        #expect(command is CheckCommand)
    }

    @Test func optionsReachTheDefaultCommand() throws {
        let command = try #require(try CTDoctor.parseAsRoot(["--format", "json", "--fail-on", "warning", "--only", "a,b", "c"]) as? CheckCommand)
        #expect(command.output.format == .json)
        #expect(command.gating.failOn == .warning)
        #expect(SelectionOptions.split(command.selection.only) == ["a", "b", "c"])
    }

    @Test func defaultsAreTextAndError() throws {
        let command = try #require(try CTDoctor.parseAsRoot(["check"]) as? CheckCommand)
        #expect(command.output.format == .text)
        #expect(command.gating.failOn == .error)
        #expect(command.gating.minScore == nil)
    }

    @Test func snapshotAndRootExcludeEachOther() {
        #expect(throws: (any Error).self) { try CTDoctor.parseAsRoot(["check", "--snapshot", "f.json", "--root", "/"]) }
    }

    @Test func minScoreMustBeAPercentage() {
        #expect(throws: (any Error).self) { try CTDoctor.parseAsRoot(["check", "--min-score", "-1"]) }
        #expect(throws: (any Error).self) { try CTDoctor.parseAsRoot(["check", "--min-score", "101"]) }
    }

    @Test func helpListsFormatsAndSeverities() {
        let help = CTDoctor.helpMessage(for: CheckCommand.self, columns: 200)
        #expect(help.contains("--format <format>"))
        #expect(help.contains("values: text, json, junit, sarif, tap, prometheus, markdown"))
        #expect(help.contains("--policy <file>") && help.contains("--baseline <report.json>"))
        #expect(help.contains("values: info, warning, error, critical"))
    }
}
