import Foundation

/// The report for people: grouped by area, failures in full, the score with what took points off,
/// and every command gathered at the end as one block to copy.
public struct TextReporter: Sendable {
    public enum Detail: Sendable { case quiet, normal, verbose }

    public var palette: Palette
    public var detail: Detail
    public var width = 100

    public init(palette: Palette = .plain, detail: Detail = .normal) {
        self.palette = palette
        self.detail = detail
    }

    public func render(_ report: Report) -> String {
        let report = report.neutralised()
        var out: [String] = [header(report), ""]
        var lastArea = ""
        for f in report.findings where detail != .quiet || f.status == .fail {
            if f.area != lastArea {
                out.append(palette.bold(f.area))
                lastArea = f.area
            }
            out.append(contentsOf: lines(for: f))
        }
        if detail == .quiet && !report.findings.contains(where: { $0.status == .fail }) {
            out.append("  no failing checks")
        }
        for (title, lines) in [("Not filled from this source:", report.unfilled), ("Notes:", report.notes)] {
            guard let lines, !lines.isEmpty else { continue }
            out.append("")
            out.append(palette.bold(title))
            for line in lines {
                let body = wrap(line, indent: "    ")
                out += ["  - " + body[0].drop { $0 == " " }] + body.dropFirst()
            }
        }
        out.append("")
        out.append(scoreLine(report))
        out.append(summaryLine(report))
        let fixes = remediationBlock(report)
        if !fixes.isEmpty {
            out.append("")
            out.append(contentsOf: fixes)
        }
        return out.joined(separator: "\n") + "\n"
    }

    func header(_ r: Report) -> String {
        var ns = "netns " + (r.host.netns.inode.map(String.init) ?? "(inode unknown)")
        switch r.host.netns.initial {
        case true?: ns += " (initial)"
        case false?: ns += " (not the initial namespace" + (r.host.netns.name.map { ", /run/netns/\($0)" } ?? "") + ")"
        case nil: ns += " (initial or not: unknown)"
        }
        if let found = r.host.netns.found, found != r.host.netns.name.map({ "/run/netns/" + $0 }) { ns += " via \(found)" }
        var parts = ["ctdoctor \(r.tool.version)", "host \(r.host.hostname ?? "?")", "kernel \(r.host.kernel ?? "?")", ns]
        if r.host.source != "/" { parts.append("read from \(r.host.source)") }
        return palette.bold(parts.joined(separator: " · "))
    }

    func badge(_ f: Finding) -> String {
        switch f.status {
        case .pass: return palette.green("PASS  ")
        case .fail:
            let word = "FAIL  "
            return (f.severity ?? .info) >= .error ? palette.red(word) : palette.yellow(word)
        case .notApplicable: return palette.dim("N/A   ")
        case .skipped: return palette.dim("SKIP  ")
        case .error: return palette.red("ERROR ")
        case .waived: return palette.dim("WAIVED")
        }
    }

    func lines(for f: Finding) -> [String] {
        let severity = f.severity.map { " [\($0.rawValue)]" } ?? ""
        var out = ["  \(badge(f)) \(f.id)\(severity)  \(f.title)"]
        let indent = "         "
        let full = f.status == .fail || detail == .verbose
        if full {
            out += labelled("observed", f.observed, indent)
            out += labelled("expected", f.expected, indent)
            out += labelled("why", f.explanation, indent)
            for e in f.evidence { out += labelled("evidence", "\(e.source): \(e.value)", indent) }
        } else {
            out += wrap(f.observed, indent: indent).map { palette.dim($0) }
        }
        return out
    }

    func labelled(_ label: String, _ text: String, _ indent: String) -> [String] {
        let pad = label.padding(toLength: 9, withPad: " ", startingAt: 0)
        let body = wrap(text, indent: indent + String(repeating: " ", count: 9))
        guard let first = body.first else { return [] }
        let firstText = first.drop { $0 == " " }
        return [indent + palette.dim(pad) + firstText] + body.dropFirst()
    }

    func scoreLine(_ r: Report) -> String {
        guard Gate.reachedAVerdict(r) else { return palette.bold("Score: none") + "  (no check reached a verdict, so nothing was judged)" }
        let losses = r.findings.filter { $0.scoreImpact > 0 }.sorted { $0.scoreImpact > $1.scoreImpact }
        let detail = losses.map { "− \($0.id) \(format($0.scoreImpact))" }.joined(separator: " ")
        return palette.bold("Score \(r.score)/100") + (detail.isEmpty ? "" : "  (100 \(detail))")
    }

    func summaryLine(_ r: Report) -> String {
        let parts = CheckStatus.allCases.map { "\(r.summary[$0]) \($0.rawValue)" }
        return "\(r.findings.count) checks: " + parts.joined(separator: ", ")
    }

    /// The same plan `ctdoctor fix` prints, in the same words: held steps are commented out here too.
    func remediationBlock(_ r: Report) -> [String] {
        let lines = PlanText.lines(FixPlan(report: r))
        guard !lines.isEmpty else { return [] }
        return [palette.bold(Self.commandsTitle)] + lines
    }

    public static let commandsTitle = "Commands (review them first; run as root in the namespace that was checked):"

    func wrap(_ text: String, indent: String) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = indent
            for word in paragraph.split(separator: " ") {
                if line.count > indent.count && line.count + 1 + word.count > width {
                    lines.append(line)
                    line = indent
                }
                line += (line.count > indent.count ? " " : "") + word
            }
            lines.append(line)
        }
        return lines
    }

    func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(format1: x)
    }
}

extension String {
    init(format1 x: Double) { self = Self.fixed(x, places: 1) }

    init(format2 x: Double) { self = Self.fixed(x, places: 2) }

    /// `x` with one or two decimals ("-0.50"); a value no Int holds at that scale (NaN, infinite, beyond ±1e15, which
    /// only a hostile snapshot gives) as Swift prints it, never a trap.
    static func fixed(_ x: Double, places: Int) -> String {
        let unit = places == 1 ? 10 : 100
        let scaled = (x * Double(unit)).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else { return "\(x)" }
        let n = Int(scaled), magnitude = abs(n)
        let fraction = String(magnitude % unit)
        return (n < 0 ? "-" : "") + "\(magnitude / unit)." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}
