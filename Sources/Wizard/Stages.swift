import Foundation
import Checks
import DoctorCore

/// Stage builders every flow shares: run checks, show them, propose their fixes, escalate.
enum Stages {
    static func rationale(_ id: String) -> String {
        Catalog.all.first { $0.info.id == id }?.info.rationale ?? "No explanation recorded for \(id)."
    }

    static func runChecks(_ ids: [String], title: String) -> FlowMachine.Stage {
        { _ in [Step(id: "checks", title: title, explain: "Read-only: ctdoctor reads the host and runs these checks: \(ids.joined(separator: ", ")).", kind: .auto(.runChecks(ids)))] }
    }

    static func showChecks(_ ids: [String]) -> FlowMachine.Stage {
        { state in
            let lines = ids.compactMap { id -> String? in
                guard let f = state.finding(id) else { return nil }
                let status = f.status == .fail ? "FAIL [\(f.severity?.rawValue ?? "?")]" : f.status.rawValue.uppercased()
                return "\(status.padding(toLength: 16, withPad: " ", startingAt: 0)) \(f.id): \(Clean.line(f.observed))"
            }
            guard !lines.isEmpty else { return [] }
            return [Step(id: "checks-seen", title: "What the checks found", lines: lines,
                         explain: ids.map { "\($0): \(rationale($0))" }.joined(separator: "\n\n"), kind: .show)]
        }
    }

    /// One proposal per failing check with something to run; disruptive steps say so.
    static func proposeFixes(_ ids: [String]) -> FlowMachine.Stage {
        { state in
            let failing = ids.compactMap { state.finding($0) }.filter { $0.status == .fail }
            let plan = FixPlan(findings: failing, includeDisruptive: true, initialNamespace: nil)
            return failing.compactMap { finding -> Step? in
                let items = plan.steps.filter { $0.checkID == finding.id }
                guard !items.isEmpty else { return nil }
                var lines = [Clean.line(finding.observed)]
                if items.contains(where: { $0.step.risk == .disruptive }) {
                    lines.append("DISRUPTIVE: \(items.first { $0.step.risk == .disruptive }!.step.purpose)")
                }
                return Step(id: "fix-\(finding.id)", title: "Fix \(finding.id): \(finding.remediation?.summary ?? finding.title)",
                            lines: lines, explain: rationale(finding.id) + "\n\n" + Clean.line(finding.explanation),
                            kind: .propose(.applyFix(items)))
            }
        }
    }

    static func escalate(_ symptom: Symptom) -> FlowMachine.Stage {
        { state in
            guard !FlowReport.causeFound(state) else { return [] }
            return [Step(id: "escalate", title: "Not found yet: the next commands to run by hand (printed, not run)",
                         lines: Escalation.commands(for: state.request, symptom: symptom, backend: state.traceBackend),
                         explain: "pwru and retis show the kernel function that frees a packet and why; nft monitor trace and conntrack -E show rules and state changes live; tcpdump shows whether the packets arrive at all.",
                         kind: .show)]
        }
    }
}

/// Text from the host or the kernel, made safe for a terminal: control characters become '?'.
public enum Clean {
    public static func line(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || ($0.value >= 0x7f && $0.value < 0xa0) ? "?" : $0 }))
    }
}
