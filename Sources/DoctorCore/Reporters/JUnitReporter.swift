import Foundation

/// JUnit XML, as CI systems read it (Jenkins, GitLab, GitHub actions that publish test results): one testcase per
/// check; `failure` for fail (message: observed and expected), `skipped` for not-applicable, skipped and waived,
/// `error` for error. Pure: the same report gives the same bytes.
public enum JUnitReporter {
    public static func render(_ report: Report) -> String {
        let s = report.summary
        let failures = s[.fail], errors = s[.error], skipped = s[.notApplicable] + s[.skipped] + s[.waived]
        let counts = "tests=\"\(report.findings.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\""
        var out = [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            "<testsuites name=\"ctdoctor\" \(counts) time=\"0\">",
            "  <testsuite name=\"ctdoctor\" \(counts) time=\"0\" timestamp=\"\(x(report.takenAt))\" hostname=\"\(x(report.host.hostname ?? "unknown"))\">",
            "    <properties>",
        ]
        let properties: [(String, String)] = [
            ("score", String(report.score)), ("kernel", report.host.kernel ?? "unknown"),
            ("netns", report.host.netns.inode.map(String.init) ?? "unknown"), ("source", report.host.source),
            ("ctdoctor", report.tool.version),
        ]
        for (name, value) in properties { out.append("      <property name=\"\(x(name))\" value=\"\(x(value))\"/>") }
        out.append("    </properties>")
        for f in report.findings { out += testcase(f, commands: report.commands(for: f)) }
        out.append("  </testsuite>")
        out.append("</testsuites>")
        return out.joined(separator: "\n") + "\n"
    }

    static func testcase(_ f: Finding, commands: [String]) -> [String] {
        let open = "    <testcase classname=\"ctdoctor.\(x(f.area))\" name=\"\(x(f.id))\" time=\"0\">"
        let severity = f.severity?.rawValue ?? "none"
        switch f.status {
        case .pass:
            return ["    <testcase classname=\"ctdoctor.\(x(f.area))\" name=\"\(x(f.id))\" time=\"0\"/>"]
        case .fail:
            var body = ["\(f.title)", "observed: \(f.observed)", "expected: \(f.expected)", "", f.explanation]
            body += f.evidence.map { "evidence: \($0.source): \($0.value)" }
            if !commands.isEmpty { body += ["", "fix:"] + commands.map { "  " + $0 } }
            return [
                open,
                "      <failure message=\"\(x("[\(severity)] observed: \(f.observed); expected: \(f.expected)"))\" type=\"\(severity)\">\(text(body.joined(separator: "\n")))</failure>",
                "    </testcase>",
            ]
        case .error:
            return [open, "      <error message=\"\(x(f.observed))\" type=\"error\">\(text(f.explanation))</error>", "    </testcase>"]
        case .notApplicable, .skipped, .waived:
            let message = f.status == .waived ? "waived [\(severity)]: \(f.explanation)" : "\(f.status.rawValue): \(f.observed)"
            return [open, "      <skipped message=\"\(x(message))\"/>", "    </testcase>"]
        }
    }

    static func x(_ s: String) -> String { Escape.xml(s) }

    /// Element text keeps its line breaks as they are (only attribute values need them as references).
    static func text(_ s: String) -> String { Escape.xml(s).replacingOccurrences(of: "&#10;", with: "\n") }
}
