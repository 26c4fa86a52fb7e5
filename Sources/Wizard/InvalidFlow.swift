import Foundation
import DoctorCore

public enum InvalidFlow {
    static let checks = ["logging.log-invalid", "logging.backend", "logging.module", "logging.all-netns", "tcp.be-liberal",
                         "tcp.loose", "table.invalid", "rules.invalid-drop"]

    public static func make(_ request: FlowRequest) -> FlowMachine {
        FlowMachine(state: FlowState(symptom: .invalid, request: request), stages: [
            Stages.runChecks(checks, title: "Checks about INVALID packets"),
            Stages.showChecks(checks),
            { _ in [PortForwardFlow.question(.proto)] },
            { state in
                let plan = InvalidPlan(request: state.request)
                return [Step(id: "listen", title: "Listen for INVALID \((state.request.proto ?? .tcp).rawValue) packets for \(state.request.duration) s (or \(state.request.packets) reasons)",
                             lines: ["Reproduce the problem while ctdoctor listens."],
                             explain: "nf_conntrack_log_invalid=\(plan.protocolNumber) makes conntrack log every INVALID packet of that protocol with its reason; binding nfnetlink_log as this namespace's logger sends those lines to netlink (group 0), where ctdoctor reads them itself — no syslog, nf_log_all_netns or dmesg needed. Both values are journaled and put back when the wizard ends.",
                             kind: .propose(.listenInvalid(plan)))]
            },
            { state in
                guard let result = state.invalid else { return [] }
                return [Step(id: "reasons", title: "INVALID reasons, as the kernel states them", lines: result.lines(),
                             explain: InvalidKind.allCases.map { "\($0.rawValue): \($0.meaning)" }.joined(separator: "\n\n"), kind: .show)]
            },
            { state in remedies(state) },
            Stages.escalate(.invalid),
        ])
    }

    /// The steps that fit the reasons seen.
    static func remedies(_ state: FlowState) -> [Step] {
        guard let result = state.invalid, result.total > 0 else { return [] }
        var steps: [Step] = []
        let kinds = result.kinds
        if kinds.contains(where: { [.flags, .state, .malformed, .other].contains($0) }),
           let finding = state.finding("rules.invalid-drop"), finding.status == .fail {
            steps += Stages.proposeFixes(["rules.invalid-drop"])(state)
        }
        if kinds.contains(.window) {
            if let finding = state.finding("tcp.loose"), finding.status == .fail { steps += Stages.proposeFixes(["tcp.loose"])(state) }
            let step = RemediationStep.sysctl("net.netfilter.nf_conntrack_tcp_be_liberal", "1", previous: nil,
                                              purpose: "Stop TCP window checks (be_liberal=1): out-of-window packets are no longer INVALID", risk: .disruptive)
            steps.append(Step(id: "fix-be-liberal", title: "Only if the routing is confirmed symmetric and the cause is offload or loss: turn off window checks",
                              lines: ["DISRUPTIVE: the tracker stops rejecting out-of-window packets (an attacker's blind injection too)."],
                              explain: InvalidKind.window.meaning,
                              kind: .propose(.applyFix([FixPlan.Item(checkID: "wizard.invalid", why: "window", step: step)]))))
        }
        if kinds.contains(.checksum) {
            let step = RemediationStep.sysctl("net.netfilter.nf_conntrack_checksum", "0", previous: nil,
                                              purpose: "Stop conntrack's checksum check (offloaded checksums are filled later)", risk: .disruptive)
            steps.append(Step(id: "fix-checksum", title: "If the checksums are offloaded: stop conntrack checking them",
                              lines: ["Better: find the offload (ethtool -k IFACE) and fix it there."], explain: InvalidKind.checksum.meaning,
                              kind: .propose(.applyFix([FixPlan.Item(checkID: "wizard.invalid", why: "checksum", step: step)]))))
        }
        return steps
    }
}

extension InvalidResult {
    public func lines() -> [String] {
        var out = ["\(total) INVALID packet(s) in \(String(format: "%.1f", seconds)) s" + (lost > 0 ? "; \(lost) LOST (socket overrun: the counts below are low)" : "")
                   + (enlargedBuffer.map { "; the listener's buffer was enlarged to \($0) bytes" } ?? "")]
        if tracking == false { out += Wrap.lines("WARNING: " + Self.notTracking, width: 100) }
        for group in groups {
            out.append("\(group.count)× \(Clean.line(group.reason))")
            out += group.flows.map { "      \($0.count)× \(Clean.line($0.flow))" }
        }
        if total == 0 { out.append("none: no INVALID packet of this protocol arrived while listening") }
        for kind in kinds { out += Wrap.lines("\(kind.rawValue): \(kind.meaning)", width: 96).map { "  " + $0 } }
        return out
    }
}
