public enum CheckStatus: String, Codable, Sendable, CaseIterable {
    case pass
    case fail
    /// The feature is absent on this kernel, or nothing here needs the check.
    case notApplicable = "not-applicable"
    /// Asked to skip, or not permitted to read what the check needs.
    case skipped
    /// A probe failed; the finding says why.
    case error
    /// A policy waiver covers a failure.
    case waived
}

public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case info, warning, error, critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        case .critical: 3
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }

    /// The share of a check's weight that a failure at this severity costs the score.
    public var scoreFactor: Double {
        switch self {
        case .info: 0.25
        case .warning: 0.5
        case .error: 0.75
        case .critical: 1.0
        }
    }
}

/// What said so: a file, a counter, a command, with the value it gave.
public struct Evidence: Codable, Sendable, Equatable {
    public var source: String
    public var value: String

    public init(_ source: String, _ value: String) {
        self.source = source
        self.value = value
    }
}

public struct Finding: Codable, Sendable, Equatable {
    public var id: String
    public var status: CheckStatus
    /// Set for failures (and waived failures); nil otherwise.
    public var severity: Severity?
    public var title: String
    public var observed: String
    public var expected: String
    public var explanation: String
    public var evidence: [Evidence]
    public var weight: Int
    /// Points this finding takes off the 100-point score (0 unless it failed).
    public var scoreImpact: Double
    public var references: [String]
    public var remediation: Remediation?

    public init(
        id: String, status: CheckStatus, severity: Severity? = nil, title: String,
        observed: String, expected: String, explanation: String,
        evidence: [Evidence] = [], weight: Int, scoreImpact: Double = 0,
        references: [String] = [], remediation: Remediation? = nil
    ) {
        self.id = id
        self.status = status
        self.severity = severity
        self.title = title
        self.observed = observed
        self.expected = expected
        self.explanation = explanation
        self.evidence = evidence
        self.weight = weight
        self.scoreImpact = scoreImpact
        self.references = references
        self.remediation = remediation
    }

    private enum CodingKeys: String, CodingKey {
        case id, status, severity, title, observed, expected, explanation, evidence, weight, scoreImpact, references, remediation
    }

    /// Written out in full, with `null` for an absent severity or remediation, so every finding has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(status, forKey: .status)
        try c.encode(severity, forKey: .severity)
        try c.encode(title, forKey: .title)
        try c.encode(observed, forKey: .observed)
        try c.encode(expected, forKey: .expected)
        try c.encode(explanation, forKey: .explanation)
        try c.encode(evidence, forKey: .evidence)
        try c.encode(weight, forKey: .weight)
        try c.encode(scoreImpact, forKey: .scoreImpact)
        try c.encode(references, forKey: .references)
        try c.encode(remediation, forKey: .remediation)
    }

    /// The area a check belongs to: the part of its id before the first dot.
    public var area: String { String(id.prefix { $0 != "." }) }
}
