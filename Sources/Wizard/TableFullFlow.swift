import Foundation
import DoctorCore

/// table-full: the counters as rates and what fills the table, the checks, the limit and hash size (printed when only
/// the host may change them), shorter timeouts for what fills it (runnable here), persistence, escalation.
public enum TableFullFlow {
    static let checks = ["table.usage", "table.drops", "table.insert-failed", "table.buckets", "timeouts.tcp-established", "sysctl.persistence"]

    public static func make(_ request: FlowRequest) -> FlowMachine {
        FlowMachine(state: FlowState(symptom: .tableFull, request: request), stages: [
            { s in [Step(id: "sample", title: "Sample the counters for \(seconds(s.request)) s and stream the table once",
                         explain: "Rates, not lifetime totals: drops and failed inserts that happen now. The table is broken down by state, protocol and top talkers from one streamed dump.",
                         kind: .auto(.sampleTable(seconds: seconds(s.request))))] },
            OtherFlows.report("sample", title: "Rates now, and what fills the table"),
            Stages.showChecks(checks), Stages.proposeFixes(checks),
            sizing, timeouts,
            Stages.escalate(.tableFull),
        ])
    }

    static func seconds(_ request: FlowRequest) -> Int { min(max(request.duration, 1), 10) }

    /// The failing checks' steps that cannot run here (the limit and the hash size are global, set from the initial
    /// namespace) and the persistence advice, printed.
    static let sizing: FlowMachine.Stage = { state in
        let failing = checks.compactMap { state.finding($0) }.filter { $0.status == .fail }
        let held = FixPlan(findings: failing, includeDisruptive: true, initialNamespace: nil).held
        guard !held.isEmpty else { return [] }
        var lines: [String] = []
        for (item, reason) in held {
            switch reason {
            case .advice: lines += Wrap.lines("# " + Clean.line(item.step.purpose), width: 100)
            case .initialNamespaceOnly:
                lines += Wrap.lines("# " + Clean.line(item.step.purpose) + " (on the host, in the initial network namespace)", width: 100)
                lines.append(Clean.line(FixScript.line(for: item.step)))
            default: lines.append(Clean.line(FixScript.line(for: item.step)))
            }
        }
        return [Step(id: "sizing", title: "Sizing: the limit, the hash size, and making them persist (printed, not run)", lines: lines,
                     explain: "nf_conntrack_max and nf_conntrack_buckets are one global value each, writable only from the initial network namespace; each namespace may fill up to the limit. Since 5.15 the default limit equals the bucket count, so grow both together.",
                     kind: .show)]
    }

    /// One proposal per timeout that fits what fills the table.
    static let timeouts: FlowMachine.Stage = { state in
        (state.table?.timeoutSteps() ?? []).map { step in
            Step(id: "fix-timeout", title: "Shorten a timeout: \(step.purpose)", lines: [Clean.line(FixScript.line(for: step))],
                 explain: "The table holds entries until their timeout; what fills it decides which timeout to shorten. This is per network namespace and takes effect for new and refreshed entries.",
                 kind: .propose(.applyFix([FixPlan.Item(checkID: "wizard.table-full", why: "timeouts", step: step)])))
        }
    }
}
