import Testing
@testable import Wizard

struct TraceAnalysisTests {
    static let ruleset = """
        table ip nat { # handle 3
        \tchain out { # handle 1
        \t\ttype nat hook output priority -100; policy accept;
        \t\ttcp dport 8080 dnat to 127.0.0.1:2222 # handle 2
        \t}
        }
        table inet f { # handle 4
        \tset ports { # handle 5
        \t\ttype inet_service
        \t\telements = { 1, 2 }
        \t}
        \tchain inp { # handle 1
        \t\ttype filter hook input priority filter; policy accept;
        \t\ttcp dport { 22, 80,
        \t\t\t     443 } accept # handle 3
        \t\ttcp dport 2222 drop # handle 2
        \t}
        }
        """

    @Test func ruleTextIsFoundByFamilyTableChainAndHandle() {
        let rules = RuleText.parse(Self.ruleset)
        #expect(rules.rule(.init(family: "ip", table: "nat", chain: "out", handle: 2)) == "tcp dport 8080 dnat to 127.0.0.1:2222")
        #expect(rules.rule(.init(family: "inet", table: "f", chain: "inp", handle: 2)) == "tcp dport 2222 drop")
        #expect(rules.rule(.init(family: "inet", table: "f", chain: "inp", handle: 3)) == "tcp dport { 22, 80, 443 } accept")
        #expect(rules.rule(.init(family: "inet", table: "f", chain: "inp", handle: 5)) == nil)
    }

    static let before = PacketHeader(source: "127.0.0.1", destination: "127.0.0.1", proto: "tcp", sourcePort: 40000, destinationPort: 8080)
    static let after = PacketHeader(source: "127.0.0.1", destination: "127.0.0.1", proto: "tcp", sourcePort: 40000, destinationPort: 2222)

    /// Output with DNAT, then the loopback re-entry under a new trace id, dropped in inet f inp.
    static let events = [
        TraceRecord(id: 7, family: "inet", table: "ctdoctor_trace", chain: "out", kind: .rule, ruleHandle: 4, verdict: "continue", packet: before),
        TraceRecord(id: 7, family: "inet", table: "ctdoctor_trace", chain: "out", kind: .policy, verdict: "accept", packet: before),
        TraceRecord(id: 7, family: "ip", table: "nat", chain: "out", kind: .rule, ruleHandle: 2, verdict: "accept", packet: before),
        TraceRecord(id: 7, family: "inet", table: "f", chain: "outp", kind: .policy, verdict: "accept", packet: after),
        TraceRecord(id: 9, family: "inet", table: "f", chain: "inp", kind: .rule, ruleHandle: 2, verdict: "drop", packet: after),
    ]

    @Test func namesTheDroppingRuleAndTheDNATAcrossTheLoopback() throws {
        let analysis = TraceAnalysis(events: Self.events, rules: RuleText.parse(Self.ruleset))
        #expect(analysis.paths.count == 1)
        let path = try #require(analysis.deciding)
        #expect(path.ids == [7, 9])
        #expect(path.verdict == "dropped by `inet f inp: tcp dport 2222 drop` (handle 2), after DNAT 127.0.0.1:8080 → 127.0.0.1:2222 in ip nat out: tcp dport 8080 dnat to 127.0.0.1:2222")
    }

    @Test func aPathWithoutADropIsAcceptedAndOneWithoutVerdictIsUnknown() {
        let accepted = TraceAnalysis(events: Array(Self.events.prefix(2)), rules: RuleText())
        #expect(accepted.paths.first?.fate == .accepted)
        let unknown = TraceAnalysis(events: [Self.events[0]], rules: RuleText())
        #expect(unknown.paths.first?.fate == .unknown)
    }

    @Test func policyDropIsNamedAsAPolicy() {
        let events = [TraceRecord(id: 1, family: "ip", table: "filter", chain: "INPUT", kind: .policy, verdict: "drop", packet: Self.before)]
        #expect(TraceAnalysis(events: events, rules: RuleText()).paths.first?.verdict == "dropped by the policy drop of ip filter INPUT")
    }

    @Test func headersDecodeFromIPv4AndIPv6BytesAndShortOnesAreRefused() {
        let v4: [UInt8] = [0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x03]
        let h = PacketHeader.decode(network: v4)
        #expect(h?.description == "tcp 10.0.0.1:40000 → 10.0.0.2:8080 [SYN,FIN]")
        #expect(PacketHeader.decode(network: Array(v4.prefix(12))) == nil)
        var v6: [UInt8] = [0x60, 0, 0, 0, 0, 8, 17, 64] + [UInt8](repeating: 0, count: 32)
        v6[23] = 1
        v6[24] = 0x20; v6[25] = 0x01; v6[26] = 0x0d; v6[27] = 0xb8; v6[39] = 2
        let h6 = PacketHeader.decode(network: v6, transport: [0, 53, 0, 54])
        #expect(h6?.description == "udp [::1]:53 → [2001:db8::2]:54")
        #expect(PacketHeader.decode(network: []) == nil)
    }

    @Test func invalidReasonsAreCleanedGroupedAndKinded() {
        let m = InvalidMessage(prefix: "nf_ct_proto_6: ACK is over the upper bound 1234 (ACKed data not seen yet)\u{1B}[2J ", packet: nil)
        #expect(m.reason == "ACK is over the upper bound 1234 (ACKed data not seen yet)?[2J")
        #expect(m.kind == .window)
        #expect(InvalidKind(reason: "invalid tcp flag combination") == .flags)
        #expect(InvalidKind(reason: "bad checksum") == .checksum)
        #expect(InvalidKind(reason: "truncated packet") == .malformed)
    }

    @Test func requestRefusesAnythingThatIsNotAPlainValue() {
        var r = FlowRequest()
        #expect(r.set(.destination, "127.0.0.1; drop") != nil)
        #expect(r.set(.interface, "eth0\"; flush ruleset") != nil)
        #expect(r.set(.interface, "veth-a.1") == nil)
        #expect(r.set(.destinationPort, "0") != nil)
        #expect(r.set(.destination, "2001:db8::1") == nil)
        #expect(TracePlan(request: r, generate: false).match(inbound: true).hasPrefix("iifname \"veth-a.1\" ip6 daddr 2001:db8::1"))
    }
}
