/// The steps `ctdoctor fix` would take, in order, and the ones it leaves to a person, with why.
public struct FixPlan: Sendable, Equatable {
    public struct Item: Sendable, Equatable {
        public var checkID: String
        public var why: String
        public var step: RemediationStep

        public init(checkID: String, why: String, step: RemediationStep) {
            self.checkID = checkID
            self.why = why
            self.step = step
        }
    }

    public enum Held: Sendable, Equatable {
        /// Needs `--include-disruptive`.
        case disruptive
        /// Global: only from the initial network namespace, and this is not it.
        case initialNamespaceOnly
        /// Advice: nothing to run.
        case advice
    }

    /// Steps to run, in order; each action appears once.
    public var steps: [Item]
    /// Steps held back, with the reason.
    public var held: [(item: Item, reason: Held)]

    public static func == (a: Self, b: Self) -> Bool {
        a.steps == b.steps && a.held.map(\.item) == b.held.map(\.item) && a.held.map(\.reason) == b.held.map(\.reason)
    }

    /// The plan for every failing finding (or those in `only`), in report order.
    public init(findings: [Finding], only: Set<String>? = nil, includeDisruptive: Bool, initialNamespace: Bool?) {
        steps = []
        held = []
        var seen: [RemediationStep.Action] = []
        for finding in findings where finding.status == .fail {
            if let only, !only.contains(finding.id) { continue }
            guard let remediation = finding.remediation else { continue }
            for step in remediation.steps {
                let item = Item(checkID: finding.id, why: remediation.summary, step: step)
                if step.action == .advice {
                    held.append((item, .advice))
                } else if step.scope == .initialNamespaceOnly && initialNamespace != true {
                    held.append((item, .initialNamespaceOnly))
                } else if step.risk == .disruptive && !includeDisruptive {
                    held.append((item, .disruptive))
                } else if !seen.contains(step.action) {
                    seen.append(step.action)
                    steps.append(item)
                }
            }
        }
    }
}
