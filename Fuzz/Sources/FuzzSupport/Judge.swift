import Checks
import DoctorCore

/// What ctdoctor does with a snapshot once read: every check, then every report format (human-facing ones with the
/// neutraliser), as `check --snapshot` would. A trap anywhere here is a crash libFuzzer reports.
public func judgeAndRender(_ snapshot: HostSnapshot) {
    let findings = CheckEngine.run(Catalog.all, on: snapshot, only: nil, skip: [])
    let report = Report(snapshot: snapshot, findings: findings)
    _ = Gate().outcome(for: report)
    _ = TextReporter(detail: .verbose).render(report)
    _ = MarkdownReporter.render(report)
    _ = TAPReporter.render(report)
    _ = JUnitReporter.render(report)
    _ = PrometheusReporter.render(report, snapshot: snapshot)
    _ = try? JSONReporter.render(report)
    _ = try? SARIFReporter.render(report)
    let plan = FixPlan(findings: findings, only: nil, includeDisruptive: true, initialNamespace: snapshot.host.netns.initial ?? true)
    _ = FixScript.render(plan, header: FixScript.Header(hostname: "h", kernel: "k", netns: "n", time: "t"))
    if let summary = snapshot.tableSummary.value {
        _ = TableReporter().render(TopReport(snapshot: snapshot, summary: summary))
    }
}
