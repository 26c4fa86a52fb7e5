import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `ctdoctor fix` on the real kernel, in throwaway network namespaces: apply, verify, undo, roll back.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "fix tests need root to create network namespaces; run the tests as root to include them"))
struct FixKernelTests {
    struct Case: Sendable, CustomStringConvertible {
        var check: String
        var broken: [String]
        var extra: [String] = []
        var description: String { check }
        var keys: [String] { broken.map { String($0.prefix { $0 != "=" }) } }
    }

    static let cases = [
        Case(check: "logging.backend", broken: ["net.netfilter.nf_conntrack_log_invalid=6", "net.netfilter.nf_log.2=NONE"]),
        Case(check: "logging.log-invalid", broken: ["net.netfilter.nf_conntrack_log_invalid=1"]),
        Case(check: "tcp.loose", broken: ["net.netfilter.nf_conntrack_tcp_loose=0"]),
        Case(check: "events.enabled", broken: ["net.netfilter.nf_conntrack_events=0"]),
        Case(check: "tcp.be-liberal", broken: ["net.netfilter.nf_conntrack_tcp_be_liberal=1"], extra: ["--include-disruptive"]),
    ]

    @Test(arguments: cases)
    func applyMakesTheCheckPassAndUndoPutsEveryValueBack(_ c: Case) throws {
        let ns = try Namespace()
        try ns.set(c.broken)
        let before = try ns.values(c.keys + ["net.netfilter.nf_log.2", "net.netfilter.nf_conntrack_tcp_loose"])
        #expect(try ns.statuses()[c.check] == "fail")
        let journal = try Binary.temporaryDirectory().appendingPathComponent("journal.json").path
        let applied = try ns.ctdoctor(["fix", "--only", c.check, "--apply", "--yes", "--journal", journal] + c.extra)
        #expect(applied.exitStatus == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try ns.statuses()[c.check] == "pass")
        let undone = try ns.ctdoctor(["fix", "--undo", journal])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try ns.values(c.keys + ["net.netfilter.nf_log.2", "net.netfilter.nf_conntrack_tcp_loose"]) == before)
        #expect(try ns.statuses()[c.check] == "fail")
    }

    struct RuleCase: Sendable, CustomStringConvertible {
        var check: String
        var setup: String
        var list: String
        var present: String
        var extra: [String] = []
        var description: String { "\(check): \(setup.prefix(40))" }
    }

    static let ruleCases = [
        RuleCase(check: "rules.trace-leftover",
                 setup: "nft add table inet dbg && nft add chain inet dbg pre '{ type filter hook prerouting priority -300; }' && nft add rule inet dbg pre tcp dport 8080 meta nftrace set 1",
                 list: "nft list ruleset", present: "meta nftrace set 1"),
        RuleCase(check: "rules.trace-leftover",
                 setup: "iptables -t raw -A PREROUTING -p tcp --dport 8080 -j TRACE",
                 list: "iptables-save -t raw", present: "-j TRACE"),
        RuleCase(check: "rules.invalid-drop",
                 setup: "nft add table ip nat && nft add chain ip nat post '{ type nat hook postrouting priority 100; }' && nft add rule ip nat post masquerade",
                 list: "nft list table inet ctdoctor 2>/dev/null || true", present: "ct state invalid drop", extra: ["--include-disruptive"]),
    ]

    /// Rule fixes change the ruleset, and undo puts the ruleset back (a deleted rule is added again).
    @Test(arguments: ruleCases)
    func ruleFixesApplyAndUndo(_ c: RuleCase) throws {
        let ns = try Namespace()
        try ns.exec(["sh", "-c", c.setup], mustSucceed: true)
        let listed = { try ns.exec(["sh", "-c", c.list]).stdout.contains(c.present) }
        let before = try listed()
        #expect(try ns.statuses()[c.check] == "fail")
        let journal = try Binary.temporaryDirectory().appendingPathComponent("journal.json").path
        let applied = try ns.ctdoctor(["fix", "--only", c.check, "--apply", "--yes", "--journal", journal] + c.extra)
        #expect(applied.exitStatus == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try ns.statuses()[c.check] == "pass")
        #expect(try listed() != before, "the fix changed the ruleset")
        let undone = try ns.ctdoctor(["fix", "--undo", journal])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try listed() == before, "undo put the ruleset back")
        #expect(try ns.statuses()[c.check] == "fail")
    }

    @Test func aFailedStepRollsBackTheEarlierOnes() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_log_invalid=6", "net.netfilter.nf_log.2=NONE"])
        let dir = try Binary.temporaryDirectory()
        let fake = dir.appendingPathComponent("tcp_loose").path
        try "0\n".write(toFile: fake, atomically: true, encoding: .utf8)
        let journal = dir.appendingPathComponent("journal.json").path
        // In a private mount namespace, tcp_loose reads 0 from a read-only file: its fix (the second step) must fail.
        let key = "/proc/sys/net/netfilter/nf_conntrack_tcp_loose"
        let script = "mount --bind \(fake) \(key) && mount -o remount,bind,ro \(key) && exec \(Binary.path) fix --apply --yes --journal \(journal)"
        let result = try ns.exec(["unshare", "-m", "sh", "-c", script])
        #expect(result.exitStatus == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("FAILED: tcp.loose"))
        #expect(result.stdout.contains("put back: net.netfilter.nf_log.2 = NONE"))
        #expect(try ns.values(["net.netfilter.nf_log.2"]) == ["NONE"])
        #expect(try Journal.load(journal).entries.map(\.state) == [.rolledBack, .failed])
    }

    @Test func thePrintedScriptFixesTheSameThings() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_log_invalid=6", "net.netfilter.nf_log.2=NONE",
                    "net.netfilter.nf_conntrack_tcp_loose=0", "net.netfilter.nf_conntrack_events=0"])
        let script = try Binary.temporaryDirectory().appendingPathComponent("fix.sh").path
        #expect(try ns.ctdoctor(["fix", "--output", script]).exitStatus == 0)
        let ran = try ns.exec(["sh", script])
        #expect(ran.exitStatus == 0, "\(ran.stderr)")
        let statuses = try ns.statuses()
        for id in ["logging.backend", "tcp.loose", "events.enabled"] { #expect(statuses[id] == "pass", "\(id)") }
    }

    @Test func noTerminalAndNoYesChangesNothing() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_tcp_loose=0"])
        let result = try ns.ctdoctor(["fix", "--apply"])
        #expect(result.exitStatus == 2)
        #expect(result.stderr.contains("add --yes"))
        #expect(try ns.values(["net.netfilter.nf_conntrack_tcp_loose"]) == ["0"])
    }

    /// On a terminal (a pty from util-linux `script`), each step is asked: an unknown answer asks again, n skips, y applies.
    @Test func onATerminalEachStepIsAsked() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_log_invalid=6", "net.netfilter.nf_log.2=NONE", "net.netfilter.nf_conntrack_tcp_loose=0"])
        let journal = try Binary.temporaryDirectory().appendingPathComponent("journal.json").path
        let command = "\(Binary.path) fix --apply --journal \(journal)"
        let answers = "(sleep 1; printf 'maybe\\nn\\n'; sleep 1; printf 'y\\n')"
        let result = try ns.exec(["sh", "-c", "\(answers) | script -qec '\(command)' /dev/null"])
        #expect(result.exitStatus == 0, "\(result.stdout)")
        #expect(result.stdout.components(separatedBy: "Apply? [y]es / [n]o / [a]ll / [q]uit:").count == 4, "asked three times")
        #expect(result.stdout.contains("Applied 1 step(s), declined 1."))
        #expect(try ns.values(["net.netfilter.nf_log.2", "net.netfilter.nf_conntrack_tcp_loose"]) == ["NONE", "1"])
    }

    @Test func undoRefusesAnotherNamespace() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_tcp_loose=0"])
        let journal = try Binary.temporaryDirectory().appendingPathComponent("journal.json").path
        #expect(try ns.ctdoctor(["fix", "--apply", "--yes", "--journal", journal]).exitStatus == 0)
        let other = try Namespace()
        let refused = try other.ctdoctor(["fix", "--undo", journal])
        #expect(refused.exitStatus == 2)
        #expect(refused.stderr.contains("recorded in network namespace"))
        #expect(try ns.values(["net.netfilter.nf_conntrack_tcp_loose"]) == ["1"])
    }

    /// The kernel gives a gone namespace's number to the next one made, and numbering restarts at boot. A journal
    /// whose namespace was made at another time, or in another boot, than this one with its number is refused whole;
    /// the real journal of the same namespace still undoes. The namespace is timed from the first moment: its bind
    /// mount (`ip netns add`) shows it is kept.
    @Test func undoRefusesANamespaceThatOnlySharesTheNumber() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_tcp_loose=0"])
        let folder = try Binary.temporaryDirectory()
        let journal = folder.appendingPathComponent("journal.json").path
        #expect(try ns.ctdoctor(["fix", "--only", "tcp.loose", "--apply", "--yes", "--journal", journal]).exitStatus == 0)
        let recorded = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: journal))) as? [String: Any])
        let made = try #require(recorded["netnsMadeAt"] as? Double)
        #expect(abs(made - Date().timeIntervalSince1970) < 60, "the namespace was made seconds ago")
        #expect((recorded["bootID"] as? String)?.count == 36)

        let forgeries: [(change: [String: Any?], says: String)] = [
            (["netnsMadeAt": made - 50], ", the journal's at "),
            (["bootID": "00000000-0000-0000-0000-000000000000"], "written during an earlier boot"),
            (["netnsMadeAt": nil, "bootID": nil, "createdAt": "2001-01-01T00:00:00Z"],
             "after the journal was written (2001-01-01T00:00:00Z)"),
        ]
        for (index, forgery) in forgeries.enumerated() {
            var other = recorded
            for (key, value) in forgery.change { other[key] = value }
            let path = folder.appendingPathComponent("other-\(index).json").path
            try JSONSerialization.data(withJSONObject: other).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o600)
            let refused = try ns.ctdoctor(["fix", "--undo", path])
            #expect(refused.exitStatus == 2, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains(forgery.says), "\(refused.stderr)")
            #expect(refused.stderr.contains("nothing was changed"))
            #expect(try ns.values(["net.netfilter.nf_conntrack_tcp_loose"]) == ["1"])
        }
        let undone = try ns.ctdoctor(["fix", "--undo", journal])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try ns.values(["net.netfilter.nf_conntrack_tcp_loose"]) == ["0"])
    }
}
