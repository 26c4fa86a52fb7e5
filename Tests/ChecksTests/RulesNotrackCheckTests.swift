import DoctorCore
import Testing
@testable import Checks

@Suite struct RulesNotrackCheckTests {
    let check = RulesNotrackCheck()

    @Test func bothDirectionsWithoutNatConflictPass() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "2 NOTRACK rules, each with its reply direction covered; none overlaps a NAT rule")
    }

    @Test func noNotrackRulesIsNotApplicable() {
        var b = SnapshotBuilder()
        b.rules { $0.notracks = [] }
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }

    @Test func oneDirectionFailsWithTheMirrorRule() {
        var b = SnapshotBuilder()
        b.rules { $0.notracks.removeLast() }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "1 NOTRACK rule: 1 without a rule for the other direction (inet filter raw-pre)")
        #expect(f.argvs == [
            ["nft", "add", "table", "inet", "ctdoctor"],
            ["nft", "add", "chain", "inet", "ctdoctor", "notrack-output", "{ type filter hook output priority -300; policy accept; }"],
            ["nft", "add", "rule", "inet", "ctdoctor", "notrack-output", "udp", "sport", "53", "notrack"],
        ])
    }

    @Test func iptablesOneDirectionGetsTheSameTool() {
        var b = SnapshotBuilder()
        b.rules {
            $0.notracks = [SnapshotBuilder.ipt("iptables-legacy", table: "raw", "PREROUTING", hooks: ["prerouting"], position: 2,
                                               ["-p", "udp", "-m", "udp", "--dport", "123", "-j", "NOTRACK"],
                                               match: RuleMatch(protocols: ["udp"], destinationPorts: [PortRange(123)]))]
        }
        let f = check.evaluate(b.snapshot)
        let spec = ["-p", "udp", "-m", "udp", "--sport", "123", "-j", "CT", "--notrack"]
        #expect(f.argvs == [["iptables-legacy", "-t", "raw", "-A", "OUTPUT"] + spec])
        #expect(f.undos == [["iptables-legacy", "-t", "raw", "-D", "OUTPUT"] + spec])
    }

    @Test func notrackUnderADnatFails() {
        var b = SnapshotBuilder()
        let web = RuleMatch(protocols: ["tcp"], destinationPorts: [PortRange(8080)])
        b.rules {
            $0.nat.append(NatRule(kind: .dnat, fullyRandom: false, rule: SnapshotBuilder.nft("prerouting", hooks: ["prerouting"], handle: 6,
                match: web, "tcp dport 8080 dnat to 10.0.0.2:80", family: "ip", table: "nat")))
            $0.notracks.append(SnapshotBuilder.nft("raw-pre", hooks: ["prerouting"], handle: 10, match: web, "tcp dport 8080 notrack"))
            $0.notracks.append(SnapshotBuilder.nft("raw-out", hooks: ["output"], handle: 11,
                match: RuleMatch(protocols: ["tcp"], sourcePorts: [PortRange(8080)]), "tcp sport 8080 notrack"))
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed == "4 NOTRACK rules: 1 NAT rule overlapping untracked traffic (ip nat prerouting)")
        #expect(f.explanation.contains("leave untranslated"))
        #expect(f.argvs == [nil])
    }

    @Test func untrackingAWholeProtocolBreaksMasquerade() {
        var b = SnapshotBuilder()
        b.rules {
            $0.notracks = [
                SnapshotBuilder.nft("raw-pre", hooks: ["prerouting", "output"], handle: 6,
                    match: RuleMatch(protocols: ["udp"]), "meta l4proto udp notrack"),
            ]
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.contains("1 NAT rule overlapping untracked traffic (ip nat postrouting)"))
    }
}
