import DoctorCore
import Testing
@testable import Checks

@Suite struct RulesInvalidDropCheckTests {
    let check = RulesInvalidDropCheck()

    @Test func natWithInvalidDropPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "1 NAT rule (masquerade) for ip; INVALID packets dropped in forward and input")
    }

    @Test func natWithoutInvalidDropFailsWithRulesInCtdoctorsTable() throws {
        var b = SnapshotBuilder()
        b.rules { $0.invalidDrops = [] }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("no rule drops ct state INVALID in forward or input for ip"))
        #expect(f.explanation.contains("asymmetric routes"))
        #expect(f.argvs == [
            ["nft", "add", "table", "inet", "ctdoctor"],
            ["nft", "add", "chain", "inet", "ctdoctor", "invalid-forward", "{ type filter hook forward priority 0; policy accept; }"],
            ["nft", "add", "rule", "inet", "ctdoctor", "invalid-forward", "ct", "state", "invalid", "drop"],
            ["nft", "add", "chain", "inet", "ctdoctor", "invalid-input", "{ type filter hook input priority 0; policy accept; }"],
            ["nft", "add", "rule", "inet", "ctdoctor", "invalid-input", "ct", "state", "invalid", "drop"],
            nil,
        ])
        let steps = try #require(f.remediation?.steps)
        #expect(steps[1].undo == ["nft", "delete", "chain", "inet", "ctdoctor", "invalid-forward"])
        #expect(steps[2].risk == .disruptive && steps[4].risk == .disruptive)
        #expect(steps[5].purpose.contains("net.netfilter.nf_conntrack_tcp_be_liberal=1"))
        #expect(steps[5].purpose.contains("kube-proxy"))
    }

    @Test func aDropForAnotherFamilyOrOutOfReachDoesNotCount() {
        var b = SnapshotBuilder()
        b.rules {
            $0.invalidDrops = [
                SnapshotBuilder.nft("forward", hooks: ["forward"], handle: 2,
                    match: RuleMatch(ctStates: ["invalid"]), "ct state invalid drop", family: "ip6"),
                SnapshotBuilder.nft("unused", hooks: [], handle: 3, match: RuleMatch(ctStates: ["invalid"]), "ct state invalid drop", family: "ip"),
            ]
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.contains("for ip;"))
    }

    @Test func liberalWindowTrackingIsTheAlternative() {
        var b = SnapshotBuilder()
        b.rules { $0.invalidDrops = [] }
        b.set("net.netfilter.nf_conntrack_tcp_be_liberal", "1")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.hasSuffix("but net.netfilter.nf_conntrack_tcp_be_liberal = 1"))
    }

    @Test func withoutNftTheFixUsesTheNatRulesIptables() {
        var b = SnapshotBuilder()
        b.rules {
            $0.sources[4].rules = .absent("nft is not installed")
            $0.invalidDrops = []
            $0.nat = [NatRule(kind: .masquerade, fullyRandom: false, rule: SnapshotBuilder.ipt(
                "iptables-legacy", table: "nat", "POSTROUTING", hooks: ["postrouting"], position: 1, ["-o", "eth0", "-j", "MASQUERADE"]))]
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.argvs == [
            ["iptables-legacy", "-I", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"],
            ["iptables-legacy", "-I", "INPUT", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"],
            nil,
        ])
        #expect(f.undos.first == ["iptables-legacy", "-D", "FORWARD", "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"])
    }

    @Test func noNatIsNotApplicable() {
        var b = SnapshotBuilder()
        b.rules { $0.nat = [] }
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }

    @Test func unreadableRules() {
        var b = SnapshotBuilder()
        b.rules { $0.sources[4].rules = .denied("nft -j list ruleset: Operation not permitted (you must be root)") }
        let denied = check.evaluate(b.snapshot)
        #expect(denied.status == .skipped)
        #expect(denied.evidence.contains(Evidence("nft -j list ruleset", "(denied: nft -j list ruleset: Operation not permitted (you must be root))")))
        b.rules { $0.sources[4].rules = .failed("nft -j list ruleset gave no answer within 10 s and was stopped") }
        #expect(check.evaluate(b.snapshot).status == .error)
        b.rules { $0.sources = $0.sources.map { RulesetSource(backend: $0.backend, origin: $0.origin, rules: .absent("not run")) } }
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.snapshot.ruleset = Ruleset()
        #expect(check.evaluate(b.snapshot).status == .error, "not probed")
    }
}
