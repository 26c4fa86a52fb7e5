/// The one remediation plan: every step of the failing findings, in report order, each once, with why it is held back
/// when it is. The text report's command block, the JSON report's `plan`, the `fix` script and `fix --apply` all
/// come from it, so they cannot disagree about a command, its order, or whether it runs.
public struct FixPlan: Sendable, Equatable, Codable {
    public struct Item: Sendable, Equatable, Codable {
        public var checkID: String
        public var why: String
        public var step: RemediationStep
        /// Nil when `fix --apply` runs the step (and the script runs it); otherwise why it does not.
        public var held: Held?

        public init(checkID: String, why: String, step: RemediationStep, held: Held? = nil) {
            self.checkID = checkID
            self.why = why
            self.step = step
            self.held = held
        }

        private enum CodingKeys: String, CodingKey { case checkID = "check", why, step, held }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(checkID, forKey: .checkID)
            try c.encode(why, forKey: .why)
            try c.encode(step, forKey: .step)
            try c.encode(held, forKey: .held)
        }
    }

    public enum Held: String, Sendable, Equatable, Codable {
        /// Needs `--include-disruptive`.
        case disruptive
        /// Global: only from the initial network namespace, and this is not it.
        case initialNamespaceOnly = "initial-namespace-only"
        /// Advice: nothing to run.
        case advice
        /// The check could not judge (skipped: not permitted to read): its step is shown, never run.
        case notJudged = "not-judged"
    }

    /// Every step, runnable or held, in order.
    public private(set) var items: [Item]

    /// Steps to run, in order; each action appears once.
    public var steps: [Item] { items.filter { $0.held == nil } }

    /// Steps held back, with the reason.
    public var held: [(item: Item, reason: Held)] { items.compactMap { item in item.held.map { (item, $0) } } }

    /// The plan for every failing finding (or those in `only`), in report order. A skipped finding's steps are shown
    /// but held: the check could not judge.
    public init(findings: [Finding], only: Set<String>? = nil, includeDisruptive: Bool, initialNamespace: Bool?) {
        items = []
        for finding in findings where finding.status == .fail || finding.status == .skipped {
            if let only, !only.contains(finding.id) { continue }
            guard let remediation = finding.remediation else { continue }
            for step in remediation.steps {
                let held = Self.hold(step, judged: finding.status == .fail, includeDisruptive: includeDisruptive,
                                     initialNamespace: initialNamespace)
                append(Item(checkID: finding.id, why: remediation.summary, step: step, held: held))
            }
        }
    }

    /// A plan of exactly these items, in this order (the wizard's own changes).
    public init(items: [Item]) {
        self.items = items
    }

    /// What `fix` does with a report: the default plan (no disruptive steps) for its namespace.
    public init(report: Report) {
        self.init(findings: report.findings, includeDisruptive: false, initialNamespace: report.host.netns.initial)
    }

    /// Adds an item unless the plan already has its action (advice: its text). A runnable item replaces a held copy
    /// of itself, so a command appears once, and runs if any finding may run it.
    public mutating func append(_ item: Item) {
        guard let i = items.firstIndex(where: { Self.same($0.step, item.step) }) else {
            items.append(item)
            return
        }
        if items[i].held != nil && item.held == nil {
            items.remove(at: i)
            items.append(item)
        }
    }

    /// Encoded as the list of items.
    public init(from decoder: any Decoder) throws {
        items = try decoder.singleValueContainer().decode([Item].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(items)
    }

    static func same(_ a: RemediationStep, _ b: RemediationStep) -> Bool {
        a.action == b.action && (a.action != .advice || a.purpose == b.purpose)
    }

    static func hold(_ step: RemediationStep, judged: Bool, includeDisruptive: Bool, initialNamespace: Bool?) -> Held? {
        if step.action == .advice { return .advice }
        if step.scope == .initialNamespaceOnly && initialNamespace != true { return .initialNamespaceOnly }
        if !judged { return .notJudged }
        if step.risk == .disruptive && !includeDisruptive { return .disruptive }
        return nil
    }
}
