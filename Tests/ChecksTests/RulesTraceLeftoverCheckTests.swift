import DoctorCore
import DoctorHost
import Foundation
import Testing
@testable import Checks

@Suite struct RulesTraceLeftoverCheckTests {
    let check = RulesTraceLeftoverCheck()
    static let hostileChain = "we ird$(touch /tmp/ctd-pwned-chain)\"q'"
    static let hostileComment = "\"$(touch /tmp/ctd-pwned-comment)\"'q\nsecond line"

    @Test func noTraceRulesPass() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "no TRACE or meta nftrace rules")
    }

    @Test func nftTraceRuleIsDeletedByHandle() {
        var b = SnapshotBuilder()
        b.rules { $0.traces = [SnapshotBuilder.nft("trace-pre", hooks: ["prerouting"], handle: 16, "tcp dport 22 meta nftrace set 1")] }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "1 trace rule: inet filter trace-pre")
        #expect(f.argvs == [["nft", "delete", "rule", "inet", "filter", "trace-pre", "handle", "16"]])
        #expect(f.remediation?.steps.first?.command == "nft delete rule inet filter trace-pre handle 16")
    }

    @Test func iptablesTraceRuleIsDeletedBySpecAndCanBePutBack() {
        var b = SnapshotBuilder()
        let spec = ["-p", "tcp", "-m", "comment", "--comment", Self.hostileComment, "-j", "TRACE"]
        b.rules { $0.traces = [SnapshotBuilder.ipt("iptables-legacy", table: "raw", "PREROUTING", hooks: ["prerouting"], position: 3, spec)] }
        let f = check.evaluate(b.snapshot)
        #expect(f.argvs == [["iptables-legacy", "-t", "raw", "-D", "PREROUTING"] + spec])
        #expect(f.undos == [["iptables-legacy", "-t", "raw", "-I", "PREROUTING", "3"] + spec])
    }

    /// nft reads its arguments as one line, so a chain name with spaces, quotes or `$(…)` goes through its JSON.
    @Test func oddNftNamesUseJSON() throws {
        var b = SnapshotBuilder()
        b.rules { $0.traces = [SnapshotBuilder.nft(Self.hostileChain, hooks: [], handle: 25, "meta nftrace set 1")] }
        let argv = try #require(check.evaluate(b.snapshot).argvs.first ?? nil)
        #expect(argv.count == 3 && argv[0] == "nft" && argv[1] == "-j")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(argv[2].utf8)) as? [String: Any])
        let rule = (((object["nftables"] as? [[String: Any]])?.first?["delete"]) as? [String: Any])?["rule"] as? [String: Any]
        #expect(rule?["chain"] as? String == Self.hostileChain)
        #expect(rule?["handle"] as? Int == 25)
    }

    /// The printed commands, run by a shell, hand every word over unchanged and run nothing else.
    @Test func printedCommandsKeepHostileWordsInert() throws {
        var b = SnapshotBuilder()
        let spec = ["-m", "comment", "--comment", Self.hostileComment, "-j", "TRACE"]
        b.rules {
            $0.traces = [
                SnapshotBuilder.nft(Self.hostileChain, hooks: [], handle: 25, "meta nftrace set 1"),
                SnapshotBuilder.ipt(table: "raw", "q\"x", hooks: ["prerouting"], position: 1, spec),
            ]
        }
        let steps = try #require(check.evaluate(b.snapshot).remediation?.steps)
        for step in steps {
            let argv = try #require(step.argv)
            let command = try #require(step.command)
            #expect(command == ShellQuote.join(argv))
            // The same words given to printf instead of the tool: the shell must pass them through as they are.
            let echoed = "printf '[%s]' " + ShellQuote.join(Array(argv.dropFirst()))
            let result = try SystemCommandRunner().run(["sh", "-c", echoed], timeout: 5).get()
            #expect(result.stdout == argv.dropFirst().map { "[\($0)]" }.joined())
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ctd-pwned-chain"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ctd-pwned-comment"))
    }

    @Test func listedRuleGetsAdviceWithQuotedNames() {
        var b = SnapshotBuilder()
        var listed = SnapshotBuilder.ipt(table: "raw", "a b", hooks: ["prerouting"], position: 2, [])
        listed.command = nil
        listed.spec = nil
        listed.backend = .iptables
        b.rules { $0.traces = [listed] }
        let f = check.evaluate(b.snapshot)
        #expect(f.argvs == [nil])
        #expect(f.remediation?.steps.first?.purpose.contains("iptables -t raw -D 'a b' NUMBER") == true)
    }

    @Test func deniedIsSkipped() {
        var b = SnapshotBuilder()
        b.rules { $0.sources[0].rules = .denied("iptables-legacy-save: Permission denied") }
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }
}
