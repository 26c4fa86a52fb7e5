import DoctorCore
import Foundation
import Yams

/// What is wrong with a policy file, and where: "FILE:LINE:COLUMN: what".
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem is not at one place (an unreadable or empty file).
    public var line: Int?
    public var column: Int?
    public var problem: String

    public init(file: String, line: Int? = nil, column: Int? = nil, problem: String) {
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        return "\(place): \(problem)"
    }
}

/// Reads the YAML policy format into a `Policy`. Walks YAML nodes rather than decoding, so every error (an
/// unknown key included) carries the line it is on.
public struct PolicyParser: Sendable {
    public static let topLevelKeys = ["version", "sysctls", "modules", "require", "severity", "waivers"]
    static let sysctlKeys = ["equals", "min", "max", "oneOf", "absent", "severity", "weight"]
    static let moduleKeys = ["loaded", "notLoaded", "severity"]
    static let waiverKeys = ["check", "reason", "expires"]

    var file: String
    /// Ids a policy may name in `require`, `severity` and `waivers`, besides the policy's own checks.
    var knownChecks: Set<String>
    /// Modules the probes report on; expecting anything else could never be judged.
    var knownModules: Set<String>

    public init(file: String, knownChecks: Set<String>, knownModules: Set<String> = Set(ModuleInventory.tracked)) {
        self.file = file
        self.knownChecks = knownChecks
        self.knownModules = knownModules
    }

    /// Parses the policy file read from `path` (named in errors only).
    public static func decode(_ raw: [UInt8], path: String, knownChecks: Set<String>) throws(PolicyError) -> Policy {
        guard let text = String(bytes: raw, encoding: .utf8) else { throw PolicyError(file: path, problem: "not UTF-8 text") }
        return try PolicyParser(file: path, knownChecks: knownChecks).parse(text)
    }

    public func parse(_ yaml: String) throws(PolicyError) -> Policy {
        if let (line, column) = YAMLNesting.firstTooDeep(yaml) {
            throw PolicyError(file: file, line: line, column: column,
                              problem: "nested more than \(YAMLNesting.limit) levels deep; a policy needs about 5")
        }
        // Yams composes recursively: on a thread with a large stack, even nesting the scan misjudged cannot overflow.
        let parser = self
        let result = BigStack.run { () -> Result<Policy, PolicyError> in
            Result { () throws(PolicyError) -> Policy in try parser.parseChecked(yaml) }
        }
        return try result.get()
    }

    func parseChecked(_ yaml: String) throws(PolicyError) -> Policy {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw yamlError(error)
        } catch {
            throw PolicyError(file: file, problem: "not valid YAML: \(error)")
        }
        if let root, let node = YAMLExpansion.firstOverBudget(root) {
            throw self.error(node, "aliases expand to more than \(YAMLExpansion.nodeBudget) values or \(YAMLExpansion.textBudget / 1_048_576) MiB of text")
        }
        guard let root else { throw PolicyError(file: file, problem: "empty: a policy needs at least one of \(Self.topLevelKeys.joined(separator: ", "))") }
        let top = try mapping(root, "the policy", allowed: Self.topLevelKeys)
        var policy = Policy(file: file)
        if let version = top["version"] {
            guard try scalar(version.value, "version") == "1" else { throw error(version.value, "version must be 1") }
        }
        if let sysctls = top["sysctls"] { policy.sysctls = try parseSysctls(sysctls.value) }
        if let modules = top["modules"] { policy.modules = try parseModules(modules.value) }
        let ownIDs = Set(PolicyEvaluator.checkIDs(sysctls: policy.sysctls, modules: policy.modules))
        var known = knownChecks.union(ownIDs)
        if let require = top["require"] {
            policy.require = try list(require.value, "require").map { node throws(PolicyError) in
                Policy.Requirement(check: try checkID(node, "require", known: known), origin: origin(node))
            }
            try refuseRepeats(policy.require.map { ($0.check, $0.origin) }, in: "require", saying: "is required twice")
        }
        // A requirement is a check too: its severity can be set and it can be waived.
        known.formUnion(policy.require.map { PolicyEvaluator.requireID($0.check) })
        if let severity = top["severity"] {
            policy.severity = try pairs(severity.value, "severity").map { key, value throws(PolicyError) in
                Policy.SeverityOverride(
                    check: try checkID(key, "severity", known: known), severity: try self.severity(value), origin: origin(key))
            }
        }
        if let waivers = top["waivers"] {
            policy.waivers = try list(waivers.value, "waivers").map { node throws(PolicyError) in try parseWaiver(node, known: known) }
            // Two waivers of one check would give one finding two reasons and expiries: which one holds is a guess.
            try refuseRepeats(policy.waivers.map { ($0.check, $0.origin) }, in: "waivers", saying: "has two waivers")
        }
        return policy
    }

    func parseSysctls(_ node: Node) throws(PolicyError) -> [Policy.SysctlExpectation] {
        try pairs(node, "sysctls").map { keyNode, value throws(PolicyError) in
            let key = try scalar(keyNode, "a sysctls key")
            guard key.hasPrefix("net.netfilter."), key.count > "net.netfilter.".count else {
                throw error(keyNode, "sysctls: '\(key)' is not a net.netfilter.* key")
            }
            var e = Policy.SysctlExpectation(key: key, origin: origin(keyNode))
            // `key: value` is short for `key: {equals: value}`.
            if value.scalar != nil {
                e.equals = try scalar(value, key)
                return e
            }
            let fields = try mapping(value, key, allowed: Self.sysctlKeys)
            if let v = fields["equals"] { e.equals = try scalar(v.value, "\(key).equals") }
            if let v = fields["min"] { e.min = try int(v.value, "\(key).min") }
            if let v = fields["max"] { e.max = try int(v.value, "\(key).max") }
            if let v = fields["oneOf"] {
                e.oneOf = try list(v.value, "\(key).oneOf").map { n throws(PolicyError) in try scalar(n, "\(key).oneOf") }
                if e.oneOf?.isEmpty == true { throw error(v.value, "\(key).oneOf is empty") }
            }
            if let v = fields["absent"] { e.absent = try bool(v.value, "\(key).absent") }
            if let v = fields["severity"] { e.severity = try severity(v.value) }
            if let v = fields["weight"] {
                let w = try int(v.value, "\(key).weight")
                guard (0...100).contains(w) else { throw error(v.value, "\(key).weight must be between 0 and 100, got \(w)") }
                e.weight = w
            }
            if let min = e.min, let max = e.max, min > max { throw error(value, "\(key): min \(min) is above max \(max)") }
            if e.absent == true && (e.equals != nil || e.min != nil || e.max != nil || e.oneOf != nil) {
                throw error(value, "\(key): absent: true cannot be combined with a value constraint")
            }
            guard e.absent != nil || e.equals != nil || e.min != nil || e.max != nil || e.oneOf != nil else {
                throw error(value, "\(key): no constraint (give one of equals, min, max, oneOf, absent)")
            }
            return e
        }
    }

    func parseModules(_ node: Node) throws(PolicyError) -> [Policy.ModuleExpectation] {
        let fields = try mapping(node, "modules", allowed: Self.moduleKeys)
        let level = try fields["severity"].map { v throws(PolicyError) in try severity(v.value) } ?? Policy.defaultSeverity
        var out: [Policy.ModuleExpectation] = []
        var seen: [String: Bool] = [:]
        for (key, loaded) in [("loaded", true), ("notLoaded", false)] {
            guard let v = fields[key] else { continue }
            for n in try list(v.value, "modules.\(key)") {
                let name = try scalar(n, "modules.\(key)")
                guard knownModules.contains(name) else {
                    throw error(n, "modules.\(key): ctdoctor does not probe module '\(name)'; it knows \(knownModules.sorted().joined(separator: ", "))")
                }
                if seen[name] != nil { throw error(n, "modules: '\(name)' is listed twice") }
                seen[name] = loaded
                out.append(Policy.ModuleExpectation(module: name, loaded: loaded, severity: level, origin: origin(n)))
            }
        }
        return out
    }

    func parseWaiver(_ node: Node, known: Set<String>) throws(PolicyError) -> Policy.Waiver {
        let fields = try mapping(node, "a waiver", allowed: Self.waiverKeys)
        guard let check = fields["check"] else { throw error(node, "a waiver needs check: ID") }
        guard let reason = fields["reason"] else { throw error(node, "a waiver needs a reason (why the failure is accepted, and who said so)") }
        let why = try scalar(reason.value, "reason").trimmingWhitespace()
        guard !why.isEmpty else { throw error(reason.value, "the waiver's reason is empty") }
        var waiver = Policy.Waiver(check: try checkID(check.value, "waivers", known: known), reason: why, origin: origin(node))
        if let expires = fields["expires"] {
            let day = try scalar(expires.value, "expires")
            guard Self.isDate(day) else { throw error(expires.value, "expires must be a date as YYYY-MM-DD, got '\(day)'") }
            waiver.expires = day
        }
        return waiver
    }

    /// The first id named twice, as an error at its second place naming the first.
    func refuseRepeats(_ entries: [(id: String, origin: Policy.Origin)], in what: String, saying: String) throws(PolicyError) {
        var first: [String: Int] = [:]
        for (id, origin) in entries {
            if let line = first[id] {
                throw PolicyError(file: file, line: origin.line, problem: "\(what): '\(id)' \(saying) (first at line \(line))")
            }
            first[id] = origin.line
        }
    }

    static func isDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return false }
        let days = [31, (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return (1...12).contains(m) && (1...days[m - 1]).contains(d)
    }

    // MARK: YAML nodes, with the line of every problem

    func origin(_ node: Node) -> Policy.Origin { Policy.Origin(file: file, line: node.mark?.line ?? 0) }

    func error(_ node: Node, _ problem: String) -> PolicyError {
        PolicyError(file: file, line: node.mark?.line, column: node.mark?.column, problem: problem)
    }

    func yamlError(_ e: YamlError) -> PolicyError {
        switch e {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
            return PolicyError(file: file, line: mark.line, column: mark.column, problem: "not valid YAML: \(what)")
        default:
            return PolicyError(file: file, problem: "not valid YAML: \(e)")
        }
    }

    /// A mapping's entries by key, refusing unknown and repeated keys.
    func mapping(_ node: Node, _ what: String, allowed: [String]) throws(PolicyError) -> [String: (key: Node, value: Node)] {
        var out: [String: (key: Node, value: Node)] = [:]
        for (key, value) in try pairs(node, what) {
            let name = try scalar(key, "a key of \(what)")
            guard allowed.contains(name) else {
                throw error(key, "unknown key '\(name)' in \(what) (allowed: \(allowed.joined(separator: ", ")))")
            }
            out[name] = (key, value)
        }
        return out
    }

    func pairs(_ node: Node, _ what: String) throws(PolicyError) -> [(Node, Node)] {
        guard let m = node.mapping else { throw error(node, "\(what) must be a mapping (key: value lines)") }
        var seen = Set<String>()
        var out: [(Node, Node)] = []
        for (key, value) in m {
            if let name = key.scalar?.string, !seen.insert(name).inserted { throw error(key, "'\(name)' appears twice in \(what)") }
            out.append((key, value))
        }
        return out
    }

    func list(_ node: Node, _ what: String) throws(PolicyError) -> [Node] {
        guard let s = node.sequence else { throw error(node, "\(what) must be a list") }
        return Array(s)
    }

    func scalar(_ node: Node, _ what: String) throws(PolicyError) -> String {
        guard let s = node.scalar else { throw error(node, "\(what) must be a single value, not a list or mapping") }
        return s.string
    }

    func int(_ node: Node, _ what: String) throws(PolicyError) -> Int {
        let text = try scalar(node, what)
        guard let n = Int(text) else { throw error(node, "\(what) must be a whole number, got '\(text)'") }
        return n
    }

    func bool(_ node: Node, _ what: String) throws(PolicyError) -> Bool {
        switch try scalar(node, what).lowercased() {
        case "true", "yes": return true
        case "false", "no": return false
        case let other: throw error(node, "\(what) must be true or false, got '\(other)'")
        }
    }

    func severity(_ node: Node) throws(PolicyError) -> Severity {
        let text = try scalar(node, "severity")
        guard let s = Severity(rawValue: text) else {
            throw error(node, "severity must be one of \(Severity.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return s
    }

    func checkID(_ node: Node, _ what: String, known: Set<String>) throws(PolicyError) -> String {
        let id = try scalar(node, what)
        guard known.contains(id) else { throw error(node, "\(what): unknown check id '\(id)' (`ctdoctor checks` lists them; policy checks are policy.sysctl.KEY and policy.module.NAME)") }
        return id
    }
}
