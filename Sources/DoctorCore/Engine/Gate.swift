/// Turns a report into the process exit status, as DESIGN.md defines it.
public struct Gate: Sendable, Equatable {
    public enum Outcome: Int32, Sendable {
        /// No failure at or above the threshold, and the score is high enough.
        case ok = 0
        /// A failure at or above `--fail-on`, or the score is below `--min-score`.
        case thresholdReached = 1
        /// Bad flag, unreadable or foreign input file.
        case usageError = 2
        /// Nothing could be judged: every selected check ended in error or could not read its data.
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
        let selected = report.findings.filter { !($0.status == .skipped && $0.observed == CheckEngine.skippedOnRequest) }
        let verdicts = selected.filter { [.pass, .fail, .waived].contains($0.status) }.count
        let unjudged = selected.filter { $0.status == .error || $0.status == .skipped }.count
        if verdicts == 0 && unjudged > 0 { return .couldNotRun }
        if !tripping(report).isEmpty { return .thresholdReached }
        if let minScore, report.score < minScore { return .thresholdReached }
        return .ok
    }
}
