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

    public init(failOn: Severity = .error, minScore: Int? = nil) {
        self.failOn = failOn
        self.minScore = minScore
    }

    public func outcome(for report: Report) -> Outcome {
        let selected = report.findings.filter {
            !($0.status == .skipped && [CheckEngine.skippedOnRequest, CheckEngine.notSelected].contains($0.observed))
        }
        let verdicts = selected.filter { [.pass, .fail, .waived].contains($0.status) }.count
        let unjudged = selected.filter { $0.status == .error || $0.status == .skipped }.count
        if verdicts == 0 && unjudged > 0 { return .couldNotRun }
        let tripped = report.findings.contains { $0.status == .fail && ($0.severity ?? .info) >= failOn }
        if tripped { return .thresholdReached }
        if let minScore, report.score < minScore { return .thresholdReached }
        return .ok
    }
}
