import DoctorCore
import Testing
@testable import Wizard

/// The card stack and the flows, driven by inputs alone: no terminal, no host.
struct CardStackTests {
    func menu() -> CardStack { CardStack(MenuCard { Flows.make($0, FlowRequest()) }) }

    @Test func menuListsEverySymptomWithItsKeyAndQuitEnds() {
        var stack = menu()
        guard case .show(let card) = stack.next else { Issue.record("menu not shown"); return }
        let text = card.render(.plain)
        for s in Symptom.allCases { #expect(text.contains("[\(s.key)] \(s.words)")) }
        stack.accept(.key("q"))
        guard case .done(let quit) = stack.next else { Issue.record("q did not end"); return }
        #expect(quit)
    }

    @Test func unknownKeyStaysWithANoteAndControlBytesAreShownAsHex() {
        var stack = menu()
        stack.accept(.key("\u{7}"))
        #expect(stack.note?.contains("0x7") == true)
        #expect(stack.cards.count == 1)
    }

    @Test func pickingPortForwardRunsItsChecksWithoutAsking() {
        var stack = menu()
        stack.accept(.key("p"))
        guard case .perform(.runChecks(let ids)) = stack.next else { Issue.record("no automatic checks"); return }
        #expect(ids.contains("rules.invalid-drop") && ids.contains("rules.trace-leftover"))
    }

    /// Walks the port-forward flow: checks → questions → locate → generate? → trace proposal.
    @Test func portForwardAsksForTheFlowThenProposesTheScopedTrace() throws {
        var stack = CardStack(FlowCard(Flows.make(.portForward, FlowRequest())))
        stack.deliver(.findings([]))
        guard case .perform(.traceBackend) = stack.next else { Issue.record("the ruleset's backends are not read first"); return }
        stack.deliver(.backend(.nftables, why: "rules: nftables 2"))
        guard case .show(let q1) = stack.next else { Issue.record("no question"); return }
        #expect(q1.mode == .line)
        stack.accept(.line(""))  // proto defaults to tcp
        stack.accept(.line("not-an-address"))
        #expect(stack.note?.contains("--dst") == true)
        stack.accept(.line("127.0.0.1"))
        stack.accept(.line("99999"))
        #expect(stack.note?.contains("--dport") == true)
        stack.accept(.line("8080"))
        guard case .perform(.locate(let dst)) = stack.next else { Issue.record("no locate"); return }
        #expect(dst == "127.0.0.1")
        stack.deliver(.located(Route(local: true, reachable: true, text: "local 127.0.0.1 dev lo")))
        stack.accept(.key("r"))  // generate: yes
        guard case .show(let card) = stack.next else { Issue.record("no trace proposal"); return }
        #expect(card.render(.plain).contains("meta nftrace set 1"))
        stack.accept(.key("e"))
        guard case .show(let explain) = stack.next, explain is ExplainCard else { Issue.record("e did not explain"); return }
        stack.accept(.key("x"))
        stack.accept(.key("r"))
        guard case .perform(.trace(let plan)) = stack.next else { Issue.record("r did not trace"); return }
        #expect(plan.generate)
        #expect(plan.match(inbound: true) == "ip daddr 127.0.0.1 tcp dport 8080")
    }

    @Test func flagsSkipTheirQuestions() {
        let machine = Flows.make(.portForward, FlowRequest(proto: .tcp, destination: "10.0.0.1", destinationPort: 80))
        var stack = CardStack(FlowCard(machine))
        stack.deliver(.findings([]))
        stack.deliver(.backend(.nftables, why: ""))
        guard case .perform(.locate) = stack.next else { Issue.record("asked a question a flag answered"); return }
    }

    /// Only iptables-legacy rules: the trace proposed is the legacy TRACE one, with the note about the raw table.
    @Test func aLegacyOnlyRulesetGetsTheLegacyTrace() {
        var stack = CardStack(FlowCard(Flows.make(.portForward, FlowRequest(proto: .tcp, destination: "10.0.0.1", destinationPort: 80))))
        stack.deliver(.findings([]))
        stack.deliver(.backend(.iptablesLegacy, why: "only iptables-legacy rules. NOTE: raw stays"))
        stack.deliver(.located(Route(local: false, reachable: false, text: "")))
        stack.accept(.key("\r"))
        guard case .show(let card) = stack.next else { Issue.record("no trace proposal"); return }
        let text = card.render(.plain)
        #expect(text.contains("iptables-legacy -t raw -I OUTPUT 1 -d 10.0.0.1 -p tcp --dport 80 -j TRACE"), "\(text)")
        #expect(text.contains("NOTE: raw stays"))
        #expect(!text.contains("nftrace"))
    }

    @Test func quitFinishesTheFlowAndKeepsItsState() {
        var stack = CardStack(FlowCard(Flows.make(.invalid, FlowRequest(proto: .tcp))))
        stack.deliver(.findings([]))
        stack.accept(.key("q"))
        guard case .done(let quit) = stack.next else { Issue.record("not done"); return }
        #expect(quit)
        #expect(stack.finished?.quit == true)
    }

    @Test func unattendedDryRunSkipsEveryChangeAndYesTakesIt() {
        let card = FlowCard(Flows.make(.invalid, FlowRequest(proto: .udp)))
        var stack = CardStack(card)
        stack.deliver(.findings([]))
        guard case .show(let proposal) = stack.next else { Issue.record("no proposal"); return }
        #expect(proposal.unattended(takeSteps: false) == .key("s"))
        #expect(proposal.unattended(takeSteps: true) == .key("r"))
        #expect(proposal.render(.plain).contains("nf_conntrack_log_invalid=17"))
    }

    @Test func invalidReasonsLeadToTheirRemedies() {
        var stack = CardStack(FlowCard(Flows.make(.invalid, FlowRequest(proto: .tcp))))
        let drop = Finding(id: "rules.invalid-drop", status: .fail, severity: .warning, title: "t", observed: "o", expected: "e",
                           explanation: "x", evidence: [], weight: 1, references: [],
                           remediation: Remediation(summary: "drop INVALID", steps: [RemediationStep(purpose: "p", argv: ["nft", "add", "rule"], scope: .runtime)]))
        stack.deliver(.findings([drop]))
        stack.accept(.key("\r"))  // the checks seen
        stack.accept(.key("r"))   // listen
        let messages = [
            InvalidMessage(prefix: "nf_ct_proto_6: invalid tcp flag combination ", packet: PacketHeader(source: "10.0.0.1", destination: "10.0.0.2", proto: "tcp", sourcePort: 1, destinationPort: 80)),
            InvalidMessage(prefix: "nf_ct_proto_6: SEQ is under the lower bound (already ACKed data retransmitted) ", packet: nil),
            InvalidMessage(prefix: "nf_ct_proto_6: invalid tcp flag combination ", packet: PacketHeader(source: "10.0.0.1", destination: "10.0.0.2", proto: "tcp", sourcePort: 1, destinationPort: 80)),
        ]
        stack.deliver(.invalid(InvalidResult(messages: messages, lost: 0, seconds: 1)))
        guard case .show(let reasons) = stack.next else { Issue.record("no reasons"); return }
        let text = reasons.render(.plain)
        #expect(text.contains("2× invalid tcp flag combination"))
        #expect(text.contains("2× tcp 10.0.0.1:1 → 10.0.0.2:80"))
        stack.accept(.key("\r"))
        guard case .show(let fix) = stack.next else { Issue.record("no remedy"); return }
        #expect(fix.render(.plain).contains("rules.invalid-drop"))
        stack.accept(.key("s"))
        guard case .show(let window) = stack.next else { Issue.record("no window remedy"); return }
        #expect(window.render(.plain).contains("nf_conntrack_tcp_be_liberal=1"))
    }
}
