/// What a check is, independent of any host: the catalog entry.
public struct CheckInfo: Sendable, Equatable {
    public var id: String
    public var title: String
    /// Share of the score this check carries when it applies.
    public var weight: Int
    /// Why the check exists and what it looks at, for `ctdoctor explain`.
    public var rationale: String
    public var references: [String]

    public init(id: String, title: String, weight: Int, rationale: String, references: [String] = []) {
        self.id = id
        self.title = title
        self.weight = weight
        self.rationale = rationale
        self.references = references
    }

    public var area: String { String(id.prefix { $0 != "." }) }
}

/// A pure judgement of a snapshot. Checks never touch the host.
public protocol Check: Sendable {
    var info: CheckInfo { get }
    func evaluate(_ snapshot: HostSnapshot) -> Finding
}

// Finding builders, so every check fills the same fields the same way.
extension CheckInfo {
    public func pass(observed: String, expected: String, explanation: String, evidence: [Evidence] = []) -> Finding {
        finding(.pass, nil, observed, expected, explanation, evidence, nil)
    }

    public func fail(
        _ severity: Severity, observed: String, expected: String, explanation: String,
        evidence: [Evidence] = [], remediation: Remediation?
    ) -> Finding {
        finding(.fail, severity, observed, expected, explanation, evidence, remediation)
    }

    public func notApplicable(_ why: String, evidence: [Evidence] = []) -> Finding {
        finding(.notApplicable, nil, why, "-", why, evidence, nil)
    }

    public func skipped(_ why: String, explanation: String? = nil, evidence: [Evidence] = [], remediation: Remediation? = nil) -> Finding {
        finding(.skipped, nil, why, "-", explanation ?? why, evidence, remediation)
    }

    public func error(_ why: String, evidence: [Evidence] = []) -> Finding {
        finding(.error, nil, why, "-", why, evidence, nil)
    }

    /// The finding for a reading that has no value: absent → not-applicable, denied → skipped, failed → error.
    public func unreadable<V>(_ reading: Reading<V>, what: String) -> Finding {
        switch reading {
        case .value: return error("\(what): read, but the check did not use it (a bug in ctdoctor)")
        case .absent(let why): return notApplicable("\(what) is not there: \(why)")
        case .denied(let why): return skipped("\(what) could not be read: \(why)")
        case .failed(let why): return error("\(what) could not be read: \(why)")
        }
    }

    /// The finding for a sysctl that has no usable value: absent from this kernel → not-applicable, not visible
    /// here → skipped (the text says what would make it visible), unreadable or out of range → error.
    public func unreadable<V>(_ reading: SysctlReading<V>, what: String? = nil) -> Finding {
        let prefix = what.map { "\($0): " } ?? ""
        switch reading {
        case .value: return error("\(prefix)read, but the check did not use it (a bug in ctdoctor)")
        case .absent(let why): return notApplicable(prefix + why)
        case .hidden(let why): return skipped(prefix + why)
        case .error(let why): return error(prefix + why)
        }
    }

    private func finding(
        _ status: CheckStatus, _ severity: Severity?, _ observed: String, _ expected: String,
        _ explanation: String, _ evidence: [Evidence], _ remediation: Remediation?
    ) -> Finding {
        Finding(
            id: id, status: status, severity: severity, title: title, observed: observed,
            expected: expected, explanation: explanation, evidence: evidence, weight: weight,
            references: references, remediation: remediation)
    }
}
