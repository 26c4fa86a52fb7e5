import Foundation
import DoctorCore

public enum PortForwardFlow {
    static let checks = ["rules.invalid-drop", "rules.backend-mix", "rules.trace-leftover", "table.usage", "table.drops",
                         "table.insert-failed", "table.buckets", "table.invalid"]

    public static func make(_ request: FlowRequest) -> FlowMachine {
        FlowMachine(state: FlowState(symptom: .portForward, request: request), stages: [
            Stages.runChecks(checks, title: "Checks that break port forwards"),
            // Before any fix adds rules of ctdoctor's own: which rules does the person's ruleset consist of?
            { _ in [Step(id: "backend", title: "Which rules the trace must follow",
                         explain: "Read-only: with only iptables-legacy rules, nf_tables traces would show none of them; the legacy TRACE target is used instead.",
                         kind: .auto(.traceBackend))] },
            Stages.showChecks(checks),
            Stages.proposeFixes(checks),
            { _ in [FlowRequest.Field.proto, .destination].map(question) },
            { state in state.request.proto == .icmp ? [] : [question(.destinationPort)] },
            { state in
                [Step(id: "locate", title: "How this host reaches \(state.request.destination ?? "?")",
                      explain: "Read-only: `ip route get` tells whether the destination is an address here or behind a route.",
                      kind: .auto(.locate(destination: state.request.destination ?? "")))]
            },
            { state in
                guard state.route?.reachable == true else {
                    return [Step(id: "reproduce", title: "Reproduce the problem while the trace runs",
                                 lines: ["\(state.request.destination ?? "?") is not reachable from here: when the trace starts, connect from the client (\(state.request.duration) s window)."],
                                 explain: "ctdoctor can only generate a test connection to a destination this host can reach.", kind: .show)]
                }
                let target = PacketHeader.endpoint(state.request.destination ?? "?", state.request.destinationPort)
                return [Step(id: "generate", title: "Generate a test connection to \(target) from this host while tracing?",
                             lines: [state.route?.text ?? ""],
                             explain: "ctdoctor opens one \((state.request.proto ?? .tcp).rawValue) connection (or sends one datagram or echo request) from this host, so the trace sees a packet now. Skip it to reproduce from the real client instead.",
                             kind: .confirm(name: "generate"))]
            },
            { state in
                let plan = TracePlan(request: state.request, generate: state.choices["generate"] ?? false, backend: state.traceBackend ?? .nftables)
                return [Step(id: "trace", title: "Trace the flow for \(state.request.duration) s (or \(state.request.packets) packets)",
                             lines: ["match: \(plan.matchText)"] + (plan.backend == .iptablesLegacy ? state.steps.filter { $0.id == "backend" }.flatMap(\.lines) : []),
                             explain: plan.backend == .iptablesLegacy ? LegacyTrace.explain : "A `meta nftrace set 1` rule in ctdoctor's own table, at priority -300 (before conntrack at -200 and NAT), marks the matching packets; nf_tables then reports every rule they hit over netlink (NFNLGRP_NFTRACE), which ctdoctor reads itself. The table is removed when the wizard ends, and is in the journal so `ctdoctor fix --undo` removes it after a crash.",
                             kind: .propose(.trace(plan)))]
            },
            { state in
                guard let trace = state.trace else { return [] }
                return [Step(id: "path", title: "The packet's path", lines: trace.lines(request: state.request),
                             explain: "Each line is a rule the packet matched (its text as `nft -a list ruleset` prints it, with its handle) or a chain's policy. A header that changes between two lines is a NAT rewrite. Conntrack creates an entry only when a packet is accepted at the last hook: a packet dropped on the way leaves no entry and no NEW event.",
                             kind: .show)]
            },
            Stages.escalate(.portForward),
        ])
    }

    static func question(_ field: FlowRequest.Field) -> Step {
        Step(id: "ask-\(field.rawValue)", title: field.question, explain: "The flow as the client sends it: the address and port before any DNAT.", kind: .question(field))
    }
}

extension TraceResult {
    public func lines(request: FlowRequest) -> [String] {
        var out: [String] = []
        if let generated { out.append("test connection: \(generated)") }
        out.append("\(events) trace event(s) in \(String(format: "%.1f", seconds)) s" + (lost > 0 ? "; \(lost) LOST (socket overrun: the path below may have gaps)" : ""))
        if analysis.paths.isEmpty {
            out.append("no packet matched the trace rule's match in the window")
        }
        for (n, path) in analysis.paths.prefix(5).enumerated() {
            out.append("packet \(n + 1)" + (path.first.map { ": \($0.description)" } ?? "") + (path.ids.count > 1 ? " (trace ids \(path.ids.map(String.init).joined(separator: ", ")): looped back)" : ""))
            // ctdoctor's own trace chains, and rules the kernel reports without a handle that only continued, say nothing.
            for hop in path.hops where !hop.place.hasPrefix("inet \(TracePlan.table) ") && !(hop.place.hasPrefix(LegacyTrace.family + " raw ") && hop.kind == .policy) && !(hop.kind == .rule && hop.ruleHandle == nil && hop.verdict == "continue") {
                out.append("    \(Clean.line(hop.text)) → \(hop.verdict ?? "?")")
            }
            for rewrite in path.rewrites { out.append("    rewrite: \(Clean.line(rewrite.text))") }
            out.append("  ⇒ \(Clean.line(path.verdict))")
        }
        if analysis.paths.count > 5 { out.append("… and \(analysis.paths.count - 5) more packet(s)") }
        out.append("conntrack entry:")
        if entries.isEmpty {
            let dropped = analysis.deciding.map { if case .dropped = $0.fate { true } else { false } } ?? false
            out.append("    none" + (dropped ? " — the packet was dropped before conntrack confirmed the connection, so no entry (and no NEW event) exists" : ""))
        }
        out += entries.map { "    " + Clean.line($0) + ($0.contains("[UNREPLIED]") ? "   ← no reply seen" : "") }
        out.append("conntrack events in the window:")
        out += conntrackEvents.isEmpty ? ["    none"] : conntrackEvents.map { "    " + Clean.line($0) }
        out += notes.map { "note: \(Clean.line($0))" }
        return out
    }
}
