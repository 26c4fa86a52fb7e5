import Foundation

/// TAP version 14: the plan, one test point per check, `# SKIP` for not-applicable, skipped and waived, and a YAML
/// diagnostics block under every failure and error.
public enum TAPReporter {
    public static func render(_ report: Report) -> String {
        let report = report.neutralised()
        var out = ["TAP version 14", "1..\(report.findings.count)"]
        for (n, f) in report.findings.enumerated() {
            let description = "\(n + 1) - \(escape(f.id)): \(escape(f.title))"
            switch f.status {
            case .pass:
                out.append("ok \(description)")
            case .notApplicable, .skipped, .waived:
                let why = f.status == .waived ? "waived: \(f.explanation)" : "\(f.status.rawValue): \(f.observed)"
                out.append("ok \(description) # SKIP \(escape(oneLine(why)))")
            case .fail, .error:
                out.append("not ok \(description)")
                out += diagnostics(f, commands: report.commands(for: f))
            }
        }
        let s = report.summary
        out.append("# score \(report.score)/100; " + CheckStatus.allCases.map { "\(s[$0]) \($0.rawValue)" }.joined(separator: ", "))
        return out.joined(separator: "\n") + "\n"
    }

    static func diagnostics(_ f: Finding, commands: [String]) -> [String] {
        var lines = ["  ---", "  status: \(f.status.rawValue)"]
        if let severity = f.severity { lines.append("  severity: \(severity.rawValue)") }
        lines.append("  observed: \(Escape.quoted(f.observed))")
        lines.append("  expected: \(Escape.quoted(f.expected))")
        lines.append("  explanation: \(Escape.quoted(f.explanation))")
        if !f.evidence.isEmpty {
            lines.append("  evidence:")
            for e in f.evidence { lines.append("    - {source: \(Escape.quoted(e.source)), value: \(Escape.quoted(e.value))}") }
        }
        if !commands.isEmpty {
            lines.append("  commands:")
            lines += commands.map { "    - \(Escape.quoted($0))" }
        }
        lines.append("  ...")
        return lines
    }

    /// `#` starts a directive and `\` escapes in a TAP description, so both are escaped; line breaks would end it.
    static func escape(_ s: String) -> String {
        oneLine(s).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "#", with: "\\#")
    }

    static func oneLine(_ s: String) -> String { s.split(whereSeparator: \.isNewline).joined(separator: " ") }
}
