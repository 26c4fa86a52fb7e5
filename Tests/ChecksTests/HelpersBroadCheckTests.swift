import DoctorCore
import Testing
@testable import Checks

@Suite struct HelpersBroadCheckTests {
    let check = HelpersBroadCheck()

    @Test func portLimitedHelperRulesPass() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "1 helper rule, each limited to destination ports")
    }

    @Test func noHelperRuleIsNotApplicable() {
        var b = SnapshotBuilder()
        b.rules { $0.helperAssignments = [] }
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }

    @Test func iptablesRuleWithoutPortIsNarrowedInPlace() {
        var b = SnapshotBuilder()
        let spec = ["-i", "eth0", "-p", "tcp", "-j", "CT", "--helper", "ftp"]
        b.rules {
            $0.helperAssignments.append(HelperRule(helper: "ftp", rule: SnapshotBuilder.ipt(
                table: "raw", "PREROUTING", hooks: ["prerouting"], position: 4, spec, match: RuleMatch(protocols: ["tcp"], inInterface: "eth0"))))
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "1 of 2 helper rules match no port: ftp in ip raw PREROUTING (iptables-nft)")
        let narrowed = ["-i", "eth0", "-p", "tcp", "-m", "tcp", "--dport", "21", "-j", "CT", "--helper", "ftp"]
        #expect(f.argvs == [
            ["iptables-nft", "-t", "raw", "-I", "PREROUTING", "4"] + narrowed,
            ["iptables-nft", "-t", "raw", "-D", "PREROUTING"] + spec,
        ])
        #expect(f.undos == [["iptables-nft", "-t", "raw", "-D", "PREROUTING"] + narrowed, ["iptables-nft", "-t", "raw", "-I", "PREROUTING", "4"] + spec])
    }

    @Test func nftRuleWithoutPortIsNarrowedByHandle() {
        var b = SnapshotBuilder()
        b.rules {
            $0.helperAssignments = [HelperRule(helper: "ftp", object: "ftp-std", rule: SnapshotBuilder.nft("helpers", hooks: ["prerouting"], handle: 22,
                match: RuleMatch(protocols: ["tcp"]), "meta l4proto tcp ct helper set \"ftp-std\""))]
        }
        #expect(check.evaluate(b.snapshot).argvs == [
            ["nft", "insert", "rule", "inet", "filter", "helpers", "position", "22", "tcp", "dport", "21", "ct", "helper", "set", "\"ftp-std\""],
            ["nft", "delete", "rule", "inet", "filter", "helpers", "handle", "22"],
        ])
    }

    @Test func whatCannotBeRewrittenSafelyIsAdvice() {
        var b = SnapshotBuilder()
        b.rules {
            $0.helperAssignments = [
                HelperRule(helper: "ftp", object: "ftp-std", rule: SnapshotBuilder.nft("helpers", hooks: ["prerouting"], handle: 23,
                    match: RuleMatch(protocols: ["tcp"], inInterface: "eth0"), "iifname eth0 ct helper set \"ftp-std\"")),
                HelperRule(helper: "tns", object: "tns", rule: SnapshotBuilder.nft("helpers", hooks: ["prerouting"], handle: 24, "ct helper set \"tns\"")),
            ]
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.argvs == [nil, nil])
    }
}
