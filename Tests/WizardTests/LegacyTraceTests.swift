import DoctorCore
import DoctorHost
import Testing
@testable import Wizard

/// The iptables-legacy trace, pure: when it is chosen, the TRACE lines as the kernel logs them, the rules and
/// verdicts from iptables-legacy-save, one path per packet across NAT and loopback, and the allow-list.
struct LegacyTraceTests {
    static let save = """
        *raw
        :PREROUTING ACCEPT [0:0]
        :OUTPUT ACCEPT [0:0]
        -A PREROUTING -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j TRACE
        -A OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j TRACE
        COMMIT
        *filter
        :INPUT ACCEPT [0:0]
        :FORWARD DROP [0:0]
        :OUTPUT ACCEPT [0:0]
        -A INPUT -p tcp -m tcp --dport 2222 -j DROP
        COMMIT
        *nat
        :OUTPUT ACCEPT [0:0]
        :POSTROUTING ACCEPT [0:0]
        -A OUTPUT -p tcp -m tcp --dport 8080 -j DNAT --to-destination 127.0.0.1:2222
        COMMIT
        """

    /// An IPv4 SYN from 127.0.0.1:40000 to 127.0.0.1:port with IP id 0x1234.
    static func syn(port: UInt16) -> [UInt8] {
        [0x45, 0, 0, 40, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
         0x9c, 0x40, UInt8(port >> 8), UInt8(port & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0]
    }

    @Test func chosenOnlyWhenEveryRuleReadIsALegacyOne() {
        func source(_ b: RulesetBackend, _ n: Reading<Int>) -> RulesetSource { RulesetSource(backend: b, origin: "", rules: n) }
        #expect(LegacyTrace.onlyLegacy([source(.nftables, .value(0)), source(.iptablesNft, .value(0)), source(.iptablesLegacy, .value(2))]) == true)
        #expect(LegacyTrace.onlyLegacy([source(.nftables, .value(1)), source(.iptablesLegacy, .value(2))]) == false)
        #expect(LegacyTrace.onlyLegacy([source(.nftables, .value(0)), source(.iptablesLegacy, .value(0))]) == false)
        #expect(LegacyTrace.onlyLegacy([source(.nftables, .denied("no")), source(.iptablesLegacy, .value(2))]) == nil, "unknown is not legacy")
        #expect(LegacyTrace.onlyLegacy([source(.nftables, .absent("no nft")), source(.iptablesLegacy, .value(2))]) == true)
    }

    @Test func traceLinesAsTheKernelLogsThem() {
        #expect(LegacyTrace.parse(prefix: "TRACE: raw:PREROUTING:policy:2 ")! == ("raw", "PREROUTING", .policy, 2))
        #expect(LegacyTrace.parse(prefix: "TRACE: nat:OUTPUT:rule:1 ")! == ("nat", "OUTPUT", .rule, 1))
        #expect(LegacyTrace.parse(prefix: "TRACE: filter:mychain:return:3 ")! == ("filter", "mychain", .return, 3))
        for bad in ["nf_ct_proto_6: invalid", "TRACE: nat:OUTPUT:jump:1", "TRACE: :OUTPUT:rule:1", "TRACE: nat:OUTPUT:rule:-1", "TRACE: a:b:rule"] {
            #expect(LegacyTrace.parse(prefix: bad) == nil, "\(bad)")
        }
    }

    @Test func rulesVerdictsAndPolicies() {
        let rules = LegacyRules.parse(Self.save)
        #expect(rules.rule(table: "filter", chain: "INPUT", number: 1) == "-p tcp -m tcp --dport 2222 -j DROP")
        #expect(rules.rule(table: "filter", chain: "INPUT", number: 2) == nil && rules.rule(table: "filter", chain: "INPUT", number: 0) == nil)
        #expect(rules.verdict(table: "filter", chain: "INPUT", number: 1) == "drop")
        #expect(rules.verdict(table: "nat", chain: "OUTPUT", number: 1) == "accept")
        #expect(rules.verdict(table: "raw", chain: "OUTPUT", number: 1) == "continue")
        #expect(rules.policies["filter FORWARD"] == "DROP")
    }

    @Test func onePathPerPacketNamesTheDNATAndTheDroppingRule() throws {
        let rules = LegacyRules.parse(Self.save)
        let lines: [(String, UInt16)] = [("TRACE: raw:OUTPUT:policy:2 ", 8080), ("TRACE: nat:OUTPUT:rule:1 ", 8080),
                                         ("TRACE: filter:OUTPUT:policy:1 ", 2222), ("TRACE: raw:PREROUTING:policy:2 ", 2222),
                                         ("TRACE: filter:INPUT:rule:1 ", 2222)]
        let records = lines.compactMap { LegacyTrace.record(prefix: $0.0, payload: Self.syn(port: $0.1), rules: rules) }
        #expect(records.count == 5 && Set(records.map(\.id)).count == 1, "NAT and loopback keep the packet's id")
        let analysis = TraceAnalysis(events: records, rules: rules.ruleText)
        let path = try #require(analysis.paths.first)
        #expect(analysis.paths.count == 1)
        #expect(path.verdict == "dropped by `iptables-legacy filter INPUT: -p tcp -m tcp --dport 2222 -j DROP` (rule 1), after DNAT 127.0.0.1:8080 → 127.0.0.1:2222 in iptables-legacy nat OUTPUT: -p tcp -m tcp --dport 8080 -j DNAT --to-destination 127.0.0.1:2222")
        // Another packet (another IP id) is another path.
        var other = Self.syn(port: 8080)
        other[5] = 0x35
        #expect(LegacyTrace.record(prefix: "TRACE: raw:OUTPUT:policy:2 ", payload: other, rules: rules)?.id != records[0].id)
    }

    @Test func theTraceChangesAndTheirUndoPassTheAllowList() {
        let request = FlowRequest(proto: .tcp, destination: "127.0.0.1", destinationPort: 8080)
        let changes = TracePlan(request: request, generate: false, backend: .iptablesLegacy).changes
        #expect(changes.compactMap(\.command) == [
            "sysctl -w net.netfilter.nf_log.2=nfnetlink_log",
            "iptables-legacy -t raw -I PREROUTING 1 -d 127.0.0.1 -p tcp --dport 8080 -j TRACE",
            "iptables-legacy -t raw -I OUTPUT 1 -d 127.0.0.1 -p tcp --dport 8080 -j TRACE",
        ])
        for step in changes {
            #expect(ChangePolicy.refusal(step.action) == nil)
            let entry = Journal.Entry(checkID: "wizard.trace", purpose: "", action: step.action, previous: "nf_log_ipv4", existed: nil,
                                      undo: step.undo, state: .verified, message: nil)
            #expect(ChangePolicy.refusal(undoing: entry) == nil, "\(step.undo ?? [])")
        }
        // An undo that is not the TRACE rule's own deletion is refused.
        let forged = Journal.Entry(checkID: "wizard.trace", purpose: "", action: changes[1].action, previous: nil, existed: nil,
                                   undo: ["iptables-legacy", "-t", "raw", "-D", "PREROUTING", "-j", "ACCEPT"], state: .verified, message: nil)
        #expect(ChangePolicy.refusal(undoing: forged) != nil)
    }

    @Test func escalationForALegacyRulesetIsTheTraceByHandWithTRACE() {
        let request = FlowRequest(proto: .tcp, destination: "127.0.0.1", destinationPort: 8080)
        let lines = Escalation.commands(for: request, symptom: .portForward, backend: .iptablesLegacy)
        #expect(lines.contains("iptables-legacy -t raw -I PREROUTING 1 -d 127.0.0.1 -p tcp --dport 8080 -j TRACE"))
        #expect(!lines.contains { $0.hasPrefix("nft ") })
        #expect(lines.contains("conntrack -E -p tcp --orig-dst 127.0.0.1 --orig-port-dst 8080"), "\(lines)")
        #expect(Escalation.commands(for: request, symptom: .portForward).contains("nft monitor trace"))
    }
}
