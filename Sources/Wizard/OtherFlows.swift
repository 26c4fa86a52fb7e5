import Foundation
import DoctorCore

/// table-full, helpers, events and stuck: existing probes and checks, in the flow's order.
public enum OtherFlows {
    public static func make(_ symptom: Symptom, _ request: FlowRequest) -> FlowMachine {
        let state = FlowState(symptom: symptom, request: request)
        switch symptom {
        case .portForward: return PortForwardFlow.make(request)
        case .invalid: return InvalidFlow.make(request)
        case .tableFull: return TableFullFlow.make(request)
        case .helpers:
            let ids = ["helpers.auto-assign", "helpers.unassigned", "helpers.broad", "helpers.expectations"]
            return FlowMachine(state: state, stages: [
                { s in [Step(id: "helpers", title: "Helpers, the expectation table, and the service's control connections",
                             explain: "Read-only: the expectation table (IPCTNL_MSG_EXP_GET), and the tracked connections to the service's port with the helper each got.",
                             kind: .auto(.inspectHelpers(port: s.request.destinationPort ?? 21, proto: s.request.proto ?? .tcp)))] },
                report("helpers", title: "Helpers and expectations"),
                Stages.showChecks(ids), Stages.proposeFixes(ids),
                { s in [Step(id: "helper-rule", title: "The rule that assigns a helper to the service's port (printed, not run)",
                             lines: helperRule(s.request), explain: "Since Linux 6.0 helpers are used only when a rule assigns them; the rule must be limited to the control connection's port.", kind: .show)] },
                Stages.escalate(symptom),
            ])
        case .events:
            let ids = ["events.enabled", "ctnetlink.available", "lists.unconfirmed-dying"]
            return FlowMachine(state: state, stages: [
                Stages.runChecks(ids, title: "Events and ctnetlink checks"), Stages.showChecks(ids),
                { _ in [Step(id: "listeners", title: "Who subscribes to conntrack events", explain: "Read-only: /proc/net/netlink of this namespace, protocol 12 (nfnetlink), groups NEW/UPDATE/DESTROY.", kind: .auto(.eventListeners))] },
                report("listeners", title: "Conntrack event listeners"),
                Stages.proposeFixes(ids),
                { _ in [Step(id: "live", title: "Live test: create a flow and watch for its NEW event",
                             explain: "ctdoctor subscribes to conntrack events, sends one UDP datagram to 127.0.0.1 and waits for the NEW event of that flow.",
                             kind: .propose(.eventsLiveTest))] },
                report("live", title: "Live event test"),
                Stages.escalate(symptom),
            ])
        case .stuck:
            return FlowMachine(state: state, stages: [
                { _ in [Step(id: "lists", title: "Sample the unconfirmed and dying lists", explain: "Read-only: IPCTNL_MSG_CT_GET_UNCONFIRMED and _DYING, a second apart.", kind: .auto(.sampleLists(times: 3)))] },
                report("lists", title: "Unconfirmed and dying lists"),
                Stages.showChecks(["lists.unconfirmed-dying"]),
                { _ in [Step(id: "collect", title: "What to collect next", lines: [
                    "cat /proc/net/stat/nf_conntrack; conntrack -S",
                    "conntrack -L dying 2>/dev/null | head; conntrack -L unconfirmed 2>/dev/null | head",
                    "grep -r . /sys/module/nf_conntrack/parameters/ 2>/dev/null",
                    "echo t > /proc/sysrq-trigger   # task states, if a process hangs in conntrack",
                ], explain: "A dying list that stays means an event listener (conntrackd, a CNI) is not reading its socket; an unconfirmed list (before 5.19) that stays means packets queued (NFQUEUE) or held.", kind: .show)] },
                Stages.escalate(symptom),
            ])
        }
    }

    /// Shows a read-only effect's lines, recorded under the step id.
    static func report(_ id: String, title: String) -> FlowMachine.Stage {
        { state in
            guard let record = state.steps.last(where: { $0.id == id }), !record.lines.isEmpty else { return [] }
            return [Step(id: id + "-seen", title: title, lines: record.lines.map(Clean.line), explain: "What ctdoctor read.", kind: .show)]
        }
    }

    static func helperRule(_ request: FlowRequest) -> [String] {
        let port = request.destinationPort ?? 21
        let name: String
        switch (request.proto ?? .tcp, port) {
        case (.udp, 69): name = "tftp"
        case (_, 5060): name = "sip"
        default: name = "ftp"
        }
        let proto = (request.proto ?? .tcp) == .udp ? "udp" : "tcp"
        return [
            "nft add table inet ctdoctor_helpers",
            "nft 'add ct helper inet ctdoctor_helpers \(name) { type \"\(name)\" protocol \(proto); }'",
            "nft 'add chain inet ctdoctor_helpers pre { type filter hook prerouting priority filter; }'",
            "nft add rule inet ctdoctor_helpers pre \(proto) dport \(port) ct helper set \\\"\(name)\\\"",
            "# clients on this host too (their connections start in output):",
            "nft 'add chain inet ctdoctor_helpers out { type filter hook output priority filter; }'",
            "nft add rule inet ctdoctor_helpers out \(proto) dport \(port) ct helper set \\\"\(name)\\\"",
            "# iptables: iptables -t raw -A PREROUTING -p \(proto) --dport \(port) -j CT --helper \(name)",
            "#           iptables -t raw -A OUTPUT -p \(proto) --dport \(port) -j CT --helper \(name)",
        ]
    }
}

public enum Flows {
    public static func make(_ symptom: Symptom, _ request: FlowRequest) -> FlowMachine { OtherFlows.make(symptom, request) }
}
