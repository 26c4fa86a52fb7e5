import Foundation

/// Markdown for tickets and pull requests: a header line, a table of every check, then each failing check in full
/// with its commands in a shell code block.
public enum MarkdownReporter {
    public static func render(_ report: Report) -> String {
        let report = report.neutralised()
        let h = report.host
        var out = ["# ctdoctor report: \(Escape.markdownText(h.hostname ?? "unknown host"))", ""]
        var facts = ["kernel \(Escape.markdownText(h.kernel ?? "unknown"))", "netns \(h.netns.inode.map(String.init) ?? "unknown")"]
        if let initial = h.netns.initial { facts[1] += initial ? " (initial)" : " (not the initial namespace)" }
        facts.append("taken \(Escape.markdownText(report.takenAt))")
        if h.source != "/" { facts.append("read from `\(h.source.replacingOccurrences(of: "`", with: "'"))`") }
        facts.append("ctdoctor \(report.tool.version)")
        out.append(facts.joined(separator: " · "))
        out.append("")
        let s = report.summary
        out.append("**Score \(report.score)/100** · " + CheckStatus.allCases.map { "\(s[$0]) \($0.rawValue)" }.joined(separator: ", "))
        out.append("")
        out.append("| status | check | severity | observed | points off |")
        out.append("|---|---|---|---|---:|")
        for f in report.findings {
            let cells = [
                f.status.rawValue.uppercased(), "`\(f.id)`", f.severity?.rawValue ?? "", Escape.markdownCell(f.observed),
                f.scoreImpact > 0 ? PrometheusReporter.number(f.scoreImpact) : "",
            ]
            out.append("| " + cells.joined(separator: " | ") + " |")
        }
        let failing = report.findings.filter { $0.status == .fail || $0.status == .error }
        if failing.isEmpty {
            out += ["", "No failing checks."]
        } else {
            out += ["", "## Failing checks"]
        }
        for f in failing {
            out.append("")
            out += contentsOf(f, commands: report.commands(for: f))
        }
        return out.joined(separator: "\n") + "\n"
    }

    static func contentsOf(_ f: Finding, commands: [String]) -> [String] {
        let severity = f.severity.map { " (\($0.rawValue))" } ?? (f.status == .error ? " (error: the check could not run)" : "")
        var out = [
            "### `\(f.id)`\(severity): \(Escape.markdownText(f.title))", "",
            "- **Observed:** \(Escape.markdownText(f.observed))",
            "- **Expected:** \(Escape.markdownText(f.expected))",
        ]
        out += f.evidence.map { "- **Evidence:** \(Escape.markdownText($0.source)): \(Escape.markdownText($0.value))" }
        out += ["", Escape.markdownText(f.explanation)]
        if let rem = f.remediation, !rem.steps.isEmpty {
            out += ["", "**Fix:** \(Escape.markdownText(rem.summary))"]
            let advice = rem.steps.filter { $0.argv == nil }.map { "- \(Escape.markdownText($0.purpose))" }
            if !advice.isEmpty { out += [""] + advice }
            if !commands.isEmpty {
                let body = commands.joined(separator: "\n")
                let fence = Escape.fence(for: body)
                out += ["", fence + "sh", body, fence]
            }
        }
        return out
    }
}
