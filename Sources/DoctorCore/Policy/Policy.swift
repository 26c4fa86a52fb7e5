/// A site's expectations of a host, read from a `--policy` YAML file (see README "Policy file").
/// Plain data: `PolicyParser` fills it, `PolicyEvaluator` judges a snapshot and a report's findings with it.
public struct Policy: Sendable, Equatable {
    /// Where an item was written, so findings and errors can point at it.
    public struct Origin: Sendable, Equatable, CustomStringConvertible {
        public var file: String
        public var line: Int

        public init(file: String, line: Int) {
            self.file = file
            self.line = line
        }

        public var description: String { "\(file):\(line)" }
    }

    /// What one `net.netfilter.*` key must be. Every constraint given must hold.
    public struct SysctlExpectation: Sendable, Equatable {
        public var key: String
        public var equals: String?
        public var min: Int?
        public var max: Int?
        public var oneOf: [String]?
        /// true: the key must not exist on this kernel; false: it must exist.
        public var absent: Bool?
        public var severity: Severity
        public var weight: Int
        public var origin: Origin

        public init(
            key: String, equals: String? = nil, min: Int? = nil, max: Int? = nil, oneOf: [String]? = nil,
            absent: Bool? = nil, severity: Severity = Policy.defaultSeverity, weight: Int = Policy.defaultWeight,
            origin: Origin = Origin(file: "policy", line: 0)
        ) {
            self.key = key
            self.equals = equals
            self.min = min
            self.max = max
            self.oneOf = oneOf
            self.absent = absent
            self.severity = severity
            self.weight = weight
            self.origin = origin
        }

        /// The constraints in words, e.g. "≥ 262144 and ≤ 1048576".
        public var expected: String {
            var parts: [String] = []
            if absent == true { parts.append("not present on this kernel") }
            if absent == false { parts.append("present") }
            if let equals { parts.append("= \(equals)") }
            if let min { parts.append("≥ \(min)") }
            if let max { parts.append("≤ \(max)") }
            if let oneOf { parts.append("one of \(oneOf.joined(separator: ", "))") }
            return parts.joined(separator: " and ")
        }
    }

    public struct ModuleExpectation: Sendable, Equatable {
        public var module: String
        /// true: loaded or built in; false: neither.
        public var loaded: Bool
        public var severity: Severity
        public var origin: Origin

        public init(module: String, loaded: Bool, severity: Severity = Policy.defaultSeverity, origin: Origin = Origin(file: "policy", line: 0)) {
            self.module = module
            self.loaded = loaded
            self.severity = severity
            self.origin = origin
        }
    }

    /// A built-in (or policy) check that must end in `pass`.
    public struct Requirement: Sendable, Equatable {
        public var check: String
        public var origin: Origin

        public init(check: String, origin: Origin = Origin(file: "policy", line: 0)) {
            self.check = check
            self.origin = origin
        }
    }

    public struct SeverityOverride: Sendable, Equatable {
        public var check: String
        public var severity: Severity
        public var origin: Origin

        public init(check: String, severity: Severity, origin: Origin = Origin(file: "policy", line: 0)) {
            self.check = check
            self.severity = severity
            self.origin = origin
        }
    }

    public struct Waiver: Sendable, Equatable {
        public var check: String
        public var reason: String
        /// The last day the waiver holds, "YYYY-MM-DD" (UTC); nil for no expiry.
        public var expires: String?
        public var origin: Origin

        public init(check: String, reason: String, expires: String? = nil, origin: Origin = Origin(file: "policy", line: 0)) {
            self.check = check
            self.reason = reason
            self.expires = expires
            self.origin = origin
        }

        /// Expired once `today` (YYYY-MM-DD, UTC) is after the expiry day; ISO dates compare as text.
        public func isExpired(today: String) -> Bool { expires.map { today > $0 } ?? false }
    }

    public static let defaultSeverity: Severity = .error
    public static let defaultWeight = 5

    public var file: String
    public var sysctls: [SysctlExpectation]
    public var modules: [ModuleExpectation]
    public var require: [Requirement]
    public var severity: [SeverityOverride]
    public var waivers: [Waiver]

    public init(
        file: String = "policy", sysctls: [SysctlExpectation] = [], modules: [ModuleExpectation] = [],
        require: [Requirement] = [], severity: [SeverityOverride] = [], waivers: [Waiver] = []
    ) {
        self.file = file
        self.sysctls = sysctls
        self.modules = modules
        self.require = require
        self.severity = severity
        self.waivers = waivers
    }
}
