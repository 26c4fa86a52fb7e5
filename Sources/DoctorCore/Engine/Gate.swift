/// Turns a report into the process exit status, as DESIGN.md defines it.
public struct Gate: Sendable, Equatable {
    public enum Outcome: Int32, Sendable {
        /// No failure at or above the threshold, and the score is high enough.
        case ok = 0
        /// A failure at or above `--fail-on`, or the score is below `--min-score`.
        case thresholdReached = 1
        /// Bad flag, unreadable or foreign input file.
        case usageError = 2
        /// Nothing could be judged: no selected check reached a verdict (pass, fail or waived): each ended in error,
        /// could not read its data, found nothing it applies to, or none was selected at all (`--skip` of every check).
        /// The score then counts no weight, so its 100 says nothing.
        case couldNotRun = 3
    }

    public var failOn: Severity
    public var minScore: Int?
    /// Checks already failing in an earlier report (`--baseline`): their failures do not trip `failOn`.
    public var baseline: Set<String>

    public init(failOn: Severity = .error, minScore: Int? = nil, baseline: Set<String> = []) {
        self.failOn = failOn
        self.minScore = minScore
        self.baseline = baseline
    }

    /// Failures at or above the threshold that the baseline does not already hold. Waived checks are not failures.
    public func tripping(_ report: Report) -> [Finding] {
        atThreshold(report).filter { !baseline.contains($0.id) }
    }

    /// Failures at or above the threshold that do not trip because the baseline already held them.
    public func excused(_ report: Report) -> [Finding] {
        atThreshold(report).filter { baseline.contains($0.id) }
    }

    func atThreshold(_ report: Report) -> [Finding] {
        report.findings.filter { $0.status == .fail && ($0.severity ?? .info) >= failOn }
    }

    public func outcome(for report: Report) -> Outcome {
        if !Self.reachedAVerdict(report) { return .couldNotRun }
        if !tripping(report).isEmpty { return .thresholdReached }
        if let minScore, report.score < minScore { return .thresholdReached }
        return .ok
    }

    /// Whether any check ended in pass, fail or waived: one that was not selected, was skipped on request, is
    /// not applicable, could not read its data or errored judged nothing.
    public static func reachedAVerdict(_ report: Report) -> Bool { reachedAVerdict(report.findings) }

    public static func reachedAVerdict(_ findings: [Finding]) -> Bool {
        findings.contains { [.pass, .fail, .waived].contains($0.status) }
    }
}
