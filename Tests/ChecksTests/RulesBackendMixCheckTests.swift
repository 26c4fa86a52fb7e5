import DoctorCore
import Testing
@testable import Checks

@Suite struct RulesBackendMixCheckTests {
    let check = RulesBackendMixCheck()

    @Test func oneBackendPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "iptables-legacy 0, iptables-nft 0, nftables 7 rules")
        var b = SnapshotBuilder()
        b.rules {
            $0.sources[0].rules = .value(12)
            $0.sources[4].rules = .value(0)
        }
        #expect(check.evaluate(b.snapshot).status == .pass, "legacy alone is one backend")
    }

    @Test func legacyBesideNfTablesFails() {
        var b = SnapshotBuilder()
        b.rules {
            $0.sources[0].rules = .value(5)
            $0.sources[1].rules = .value(40)
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "iptables-legacy 5, iptables-nft 40, nftables 7 rules")
        #expect(f.explanation.contains("show nothing of the 5 legacy rules"))
        #expect(f.argvs == [nil, nil])
        #expect(f.remediation?.steps.last?.risk == .disruptive)
        #expect(f.evidence.contains(Evidence("iptables-legacy-save", "5 rules")))
    }

    /// issue 13 defect 5: rules whose backend a listing does not record are not "0 legacy, 0 nft": the check cannot tell.
    @Test func aSosreportListingOfUnknownBackendIsSkipped() {
        var b = SnapshotBuilder()
        b.rules { $0.sources.append(RulesetSource(backend: .iptables, origin: "sos_commands/firewall_tables/iptables_-t_nat_-nvL", rules: .value(30))) }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed.contains("iptables (backend not recorded) 30"))
        #expect(f.explanation.contains("30 rules come from `iptables -nvL` listings"))
    }

    @Test func aBackendNotCollectedIsSaidSo() {
        var b = SnapshotBuilder()
        b.rules {
            $0.sources = [
                RulesetSource(backend: .iptablesLegacy, origin: "iptables-legacy-save", rules: .value(3)),
                RulesetSource(backend: .nftables, origin: "sos_commands/nftables", rules: .absent("not collected: no nft ruleset in this sosreport")),
            ]
            $0.uncollected = ["nftables: no nft ruleset in this sosreport"]
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed == "iptables-legacy 3 rules; nftables not collected: which backend holds the rules cannot be told")
        #expect(!f.observed.contains("nftables 0"))
    }
}
