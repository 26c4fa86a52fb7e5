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

    /// `CTDoctorCLI.parse` hands a line that names a subcommand to that subcommand alone; anything it does not take
    /// goes through the whole tree, so the result is the tree's.
    @Test func aNamedSubcommandParsesAsThroughTheTree() throws {
        let direct = try #require(try CTDoctorCLI.parse(["check", "--format", "json", "--only", "a,b"]) as? CheckCommand)
        let tree = try #require(try CTDoctor.parseAsRoot(["check", "--format", "json", "--only", "a,b"]) as? CheckCommand)
        #expect(direct.output.format == tree.output.format)
        #expect(direct.selection.only == tree.selection.only)
        #expect(try CTDoctorCLI.parse([]) is CheckCommand)
        #expect(try CTDoctorCLI.parse(["--fail-on", "warning"]) is CheckCommand)
        #expect(try CTDoctorCLI.parse(["explain", "table.usage"]) is ExplainCommand)
        #expect(try CTDoctorCLI.parse(["fix"]) is FixCommand)
    }

    @Test func whatASubcommandAloneRejectsGetsTheTreesAnswer() throws {
        // Help through the tree names the whole command ("ctdoctor check"), not "check" alone.
        #expect(!(try CTDoctorCLI.parse(["check", "--help"]) is CheckCommand))
        for line in [["check", "--version"], ["check", "--bogus"], ["--format", "bogus"], ["check", "--min-score", "101"], ["nosuch"]] {
            var direct = "", tree = ""
            do { _ = try CTDoctorCLI.parse(line) } catch { direct = CTDoctor.fullMessage(for: error) }
            do { _ = try CTDoctor.parseAsRoot(line) } catch { tree = CTDoctor.fullMessage(for: error) }
            #expect(!tree.isEmpty, "\(line)")
            #expect(direct == tree, "\(line)")
        }
    }

    @Test func theKernelLogIsReadEarlyOnlyForALiveSnapshot() {
        for line in [[], ["check"], ["--format", "json"], ["fix"], ["snapshot", "--deep"], ["check", "--netns", "x"]] {
            #expect(EarlyReads.takesLiveSnapshot(line), "\(line)")
        }
        for line in [["check", "--root", "/tmp"], ["check", "--sos=/x"], ["check", "--snapshot", "f.json"], ["fix", "--undo"],
                     ["--help"], ["check", "-h"], ["--version"], ["explain", "table.usage"], ["checks"], ["top"], ["watch"], ["wizard"]] {
            #expect(!EarlyReads.takesLiveSnapshot(line), "\(line)")
        }
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
