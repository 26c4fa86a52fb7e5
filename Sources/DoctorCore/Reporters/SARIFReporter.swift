import Foundation

/// SARIF 2.1.0 (OASIS), for code-scanning dashboards: the rules are every check in the report (built-in and policy),
/// the results are the failing checks, with the level from their severity; waived failures are results too, marked
/// with an accepted external suppression carrying the waiver's reason.
public enum SARIFReporter {
    public static let schemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

    struct Log: Encodable {
        var schema = SARIFReporter.schemaURI
        var version = "2.1.0"
        var runs: [Run]
        enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
    }

    struct Run: Encodable {
        var tool: Tool
        var results: [Result]
        var properties: [String: String]
    }

    struct Tool: Encodable { var driver: Driver }

    struct Driver: Encodable {
        var name = "ctdoctor"
        var version: String
        var semanticVersion: String
        var rules: [Rule]
    }

    struct Message: Encodable { var text: String }

    struct Rule: Encodable {
        var id: String
        var name: String
        var shortDescription: Message
        var help: Message
        var properties: RuleProperties
    }

    struct RuleProperties: Encodable {
        var weight: Int
        var tags: [String]
    }

    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Message
        var locations: [Location]?
        var suppressions: [Suppression]?
        var properties: ResultProperties
    }

    struct Location: Encodable {
        struct Logical: Encodable {
            var name: String
            var kind = "resource"
        }
        var logicalLocations: [Logical]
    }

    struct Suppression: Encodable {
        var kind = "external"
        var status = "accepted"
        var justification: String
    }

    struct ResultProperties: Encodable {
        var status: String
        var severity: String?
        var observed: String
        var expected: String
        var scoreImpact: Double
        var commands: [String]
    }

    /// The SARIF level of a failure: error for error and critical, warning, note for info.
    public static func level(_ severity: Severity?) -> String {
        switch severity ?? .info {
        case .critical, .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    public static func render(_ report: Report) throws -> String {
        var index: [String: Int] = [:]
        var rules: [Rule] = []
        for f in report.findings where index[f.id] == nil {
            index[f.id] = rules.count
            rules.append(Rule(
                id: f.id, name: f.id, shortDescription: Message(text: f.title), help: Message(text: f.title),
                properties: RuleProperties(weight: f.weight, tags: [f.area])))
        }
        let results = report.findings.filter { $0.status == .fail || $0.status == .waived }.map { f in
            Result(
                ruleId: f.id, ruleIndex: index[f.id] ?? 0, level: level(f.severity),
                message: Message(text: "\(f.title): observed \(f.observed); expected \(f.expected). \(f.explanation)"),
                locations: evidenceLocations(f),
                suppressions: f.status == .waived ? [Suppression(justification: f.explanation)] : nil,
                properties: ResultProperties(
                    status: f.status.rawValue, severity: f.severity?.rawValue, observed: f.observed, expected: f.expected,
                    scoreImpact: f.scoreImpact, commands: report.commands(for: f)))
        }
        var properties = ["score": String(report.score), "takenAt": report.takenAt, "source": report.host.source]
        properties["hostname"] = report.host.hostname
        properties["kernel"] = report.host.kernel
        let log = Log(runs: [Run(
            tool: Tool(driver: Driver(version: report.tool.version, semanticVersion: report.tool.version, rules: rules)),
            results: results, properties: properties)])
        return try JSONReporter.encode(log)
    }

    /// What said so, as logical locations (files under /proc and counters are not source files to point into).
    /// One logical location per evidence source; SARIF requires them unique, and a finding may cite one file twice.
    static func evidenceLocations(_ f: Finding) -> [Location]? {
        guard !f.evidence.isEmpty else { return nil }
        var seen = Set<String>()
        let sources = f.evidence.map(\.source).filter { seen.insert($0).inserted }
        return [Location(logicalLocations: sources.map { Location.Logical(name: $0) })]
    }
}
