import Checks
import DoctorCore

/// What ctdoctor does with a snapshot once read: every check and the gate, then one of the outputs (human-facing ones
/// with the neutraliser), as `check --snapshot` would. A trap anywhere here is a crash libFuzzer reports.
///
/// Rendering all nine outputs costs about 4 ms an input (mostly Foundation string replacement), ten times what
/// decoding and judging cost, so `format` (the caller picks it from the input, which keeps a run reproducible) picks
/// one; libFuzzer reaches each through inputs of different lengths, at about seven times the speed.
public func judgeAndRender(_ snapshot: HostSnapshot, format: Int) {
    let findings = CheckEngine.run(Catalog.all, on: snapshot, only: nil, skip: [])
    let report = Report(snapshot: snapshot, findings: findings)
    _ = Gate().outcome(for: report)
    switch format % 9 {
    case 0: _ = TextReporter(detail: .verbose).render(report)
    case 1: _ = MarkdownReporter.render(report)
    case 2: _ = TAPReporter.render(report)
    case 3: _ = JUnitReporter.render(report)
    case 4: _ = PrometheusReporter.render(report, snapshot: snapshot)
    case 5: _ = try? JSONReporter.render(report)
    case 6: _ = try? SARIFReporter.render(report)
    case 7:
        let plan = FixPlan(findings: findings, only: nil, includeDisruptive: true, initialNamespace: snapshot.host.netns.initial ?? true)
        _ = FixScript.render(plan, header: FixScript.Header(hostname: "h", kernel: "k", netns: "n", time: "t"))
    default:
        if let summary = snapshot.tableSummary.value {
            _ = TableReporter().render(TopReport(snapshot: snapshot, summary: summary))
        }
    }
}
