import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// Host text carrying characters a terminal acts on reaches no human-facing output raw (issue 15, item 8).
@Suite struct TerminalSafetyTests {
    /// ESC (a CSI that clears the screen), BEL (ends an OSC title), CR, a C1 CSI, DEL, NUL, and the bidi override,
    /// isolate and mark characters that reorder what is shown ("trojan source").
    static let characters: [String] = ["\u{1B}[2J", "\u{1B}]0;pwned\u{07}", "\u{07}", "\r", "\u{9B}31m", "\u{7F}", "\u{00}",
                                       "\u{202E}", "\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}", "\u{200F}", "\u{061C}", "\u{2028}"]

    static func hostile(_ c: String) -> String { "evil\(c)name" }

    static func report(_ c: String) -> (Report, HostSnapshot) {
        let text = hostile(c)
        var snap = GoldenReport.snapshot
        snap.host.hostname = .value(text)
        snap.host.kernelRelease = .value("6.18\(c)")
        snap.host.netns.name = text
        snap.stats = .value(ConntrackStats(source: "/proc/net/stat/nf_conntrack", cpus: 1, counters: ["drop\(c)": 1]))
        let info = CheckInfo(id: "rules.trace-leftover", title: "No trace rules", weight: 4, rationale: "")
        let finding = info.fail(
            .warning, observed: "1 trace rule: inet \(text) pre", expected: "none", explanation: "comment \(text)",
            evidence: [Evidence("nft -j list ruleset", "chain \(text)")],
            remediation: Remediation(summary: "Delete \(text).", steps: [
                RemediationStep(purpose: "delete the rule in \(text)", argv: ["nft", "delete", "rule", "inet", text, "pre", "handle", "2"], scope: .runtime),
                .advice("ask \(text)"),
            ]))
        let skipped = CheckInfo(id: "ctnetlink.available", title: "ctnetlink answers", weight: 5, rationale: "").skipped("denied \(text)")
        return (Report(snapshot: snap, findings: [finding, skipped]), snap)
    }

    /// True when `output` holds a character a terminal would act on, other than line feed and tab.
    static func raw(_ output: String) -> Unicode.Scalar? {
        output.unicodeScalars.first { Neutralise.isUnsafe($0) }
    }

    @Test(arguments: characters)
    func textReport(_ c: String) {
        let (report, _) = Self.report(c)
        for detail in [TextReporter.Detail.normal, .verbose, .quiet] {
            let out = TextReporter(palette: .plain, detail: detail).render(report)
            #expect(Self.raw(out) == nil, "\(detail): \(out.debugDescription)")
            #expect(out.contains("evil\\u{"), "shown escaped, not dropped")
        }
    }

    /// With colour on, the only escape sequences are the palette's own.
    @Test(arguments: characters)
    func colouredTextReport(_ c: String) {
        let (report, _) = Self.report(c)
        var out = TextReporter(palette: Palette(enabled: true), detail: .verbose).render(report)
        for code in ["\u{1B}[0m", "\u{1B}[1m", "\u{1B}[2m", "\u{1B}[31m", "\u{1B}[32m", "\u{1B}[33m"] {
            out = out.replacingOccurrences(of: code, with: "")
        }
        #expect(Self.raw(out) == nil, "\(out.debugDescription)")
    }

    @Test(arguments: characters)
    func markdownPrometheusAndTap(_ c: String) {
        let (report, snap) = Self.report(c)
        for (name, out) in [("markdown", MarkdownReporter.render(report)), ("prometheus", PrometheusReporter.render(report, snapshot: snap)),
                            ("tap", TAPReporter.render(report))] {
            #expect(Self.raw(out) == nil, "\(name): \(out.debugDescription)")
        }
    }

    @Test(arguments: characters)
    func fixScript(_ c: String) {
        let (report, snap) = Self.report(c)
        let plan = FixPlan(findings: report.findings, only: nil, includeDisruptive: false, initialNamespace: true)
        let header = FixScript.Header(hostname: Self.hostile(c), kernel: "6.18", netns: Self.hostile(c), time: snap.takenAt)
        let script = FixScript.render(plan, header: header, warnings: ["warn \(Self.hostile(c))"])
        #expect(Self.raw(script) == nil, "\(script.debugDescription)")
    }

    @Test(arguments: characters)
    func topReport(_ c: String) {
        var snap = GoldenReport.snapshot
        snap.host.kernelRelease = .value("6.18\(c)")
        snap.host.netns.name = Self.hostile(c)
        var summary = TableSummary(entries: 1)
        summary.helpers = Tally(counts: [Self.hostile(c): 1], other: 0)
        let out = TableReporter().render(TopReport(snapshot: snap, summary: summary))
        #expect(Self.raw(out) == nil, "\(out.debugDescription)")
    }

    /// A command keeps its exact argument (it must still name the chain) but shows the character as a printf escape,
    /// and the shell turns it back into the same bytes.
    @Test(arguments: characters.filter { !$0.contains("\u{00}") })
    func quotedCommandRunsAsTheArgumentVector(_ c: String) throws {
        let word = Self.hostile(c)
        let quoted = ShellQuote.quote(word)
        #expect(Self.raw(quoted) == nil, "\(quoted.debugDescription)")
        let result = Validator.run(["sh", "-c", "printf %s " + quoted])
        #expect(result.status == 0)
        #expect(result.output == word, "\(quoted) gave \(result.output.debugDescription)")
    }

    @Test func plainTextIsUnchanged() {
        let text = "net.netfilter.nf_log.2 = NONE\n\tévidence: ✓ 日本語 'quoted' \"x\" `y` $z"
        #expect(Neutralise.text(text) == text)
        #expect(Neutralise.line("a\nb") == "a\\u{A}b")
        #expect(Neutralise.text("a\u{1B}[31mb\u{202E}c") == "a\\u{1B}[31mb\\u{202E}c")
        #expect(Neutralise.text(Neutralise.text("\u{1B}")) == Neutralise.text("\u{1B}"), "idempotent")
    }
}
