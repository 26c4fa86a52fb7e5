import ArgumentParser
import Checks
import DoctorCore
import DoctorHost

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check this host's connection tracking setup, score it, and print the fixes.")

    @OptionGroup(title: "Source") var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Check a snapshot file (from `ctdoctor snapshot`) instead of this host.", valueName: "file"))
    var snapshot: String?

    @Flag(name: .long, help: """
        Check every network namespace: ctdoctor's own, pid 1's, each under /run/netns and each of a running process \
        (once per namespace), one report section each. Needs CAP_SYS_ADMIN (setns). With --sos: the sosreport's host, \
        then each namespace it collected with `ip netns exec`.
        """)
    var allNetns = false

    @OptionGroup(title: "Collection") var collection: CollectionOptions
    @OptionGroup(title: "Selection") var selection: SelectionOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Gating") var gating: GateOptions

    func validate() throws {
        if snapshot != nil && source.isCopy {
            throw ValidationError("--snapshot cannot be used with --root or --sos")
        }
        if collection.isSet && (snapshot != nil || source.isCopy) {
            // Name the flag given: a sosreport user reads "--sos", not "--root" (issue 13 defect 10).
            let offline = snapshot != nil ? "--snapshot" : source.sos != nil ? "--sos" : "--root"
            throw ValidationError("\(collection.flags) cannot be used with \(offline): \(collection.flags == "--deep" ? "it reads" : "they need") the running kernel, not a copy")
        }
        if snapshot != nil && source.netns != nil {
            throw ValidationError("--snapshot and --netns cannot be used together: a snapshot already names its namespace")
        }
        if allNetns && (snapshot != nil || source.root != nil || source.netns != nil) {
            throw ValidationError("--all-netns cannot be used with --snapshot, --root or --netns (with --sos it checks the namespaces the sosreport collected)")
        }
        if allNetns && ![.text, .json].contains(output.format) {
            throw ValidationError("--all-netns writes text or json (one section or report per namespace), not \(output.format.rawValue)")
        }
    }

    func run() throws {
        let (only, skip) = try selection.resolved(against: Catalog.all)
        // Every input file is read before the host is, so a bad one fails fast with exit 2.
        let policy = try gating.loadPolicy(knownChecks: Catalog.all)
        let gate = try gating.gate()
        func report(_ snap: HostSnapshot) -> Report {
            var findings = CheckEngine.run(Catalog.all, on: snap, only: only, skip: skip)
            if let policy {
                findings = PolicyEvaluator.evaluate(policy, snapshot: snap, findings: findings, today: Clock.todayUTC())
            }
            return Report(snapshot: snap, findings: findings, source: snapshot)
        }
        var checked: [(report: Report, snapshot: HostSnapshot)]
        if source.sos != nil {
            let opened = try source.open()
            var snap = opened.takeSnapshot(collection)
            let namespaces = SosNamespaces.snapshots(opened.host, base: snap)
            if allNetns {
                snap.host.netns.found = "the sosreport's host"
            } else if !namespaces.isEmpty {
                let names = namespaces.compactMap(\.host.netns.name)
                snap.sourceNotes = (snap.sourceNotes ?? []) + [
                    "the sosreport also collected \(names.count) network namespace\(names.count == 1 ? "" : "s") with `ip netns exec` (\(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", …" : "")): `--all-netns` checks each"]
            }
            let snapshots = HostSnapshot.sharingInitialNamespaceKeys(allNetns ? [snap] + namespaces : [snap])
            checked = snapshots.map { snap in
                var r = report(snap)
                r.unfilled = Coverage.unfilled(snap)
                return (r, snap)
            }
        } else if allNetns {
            checked = try NetworkNamespaces.forEach(NetworkNamespaces.all()) { ref throws(InputError) in
                var snap = try source.open().takeSnapshot(collection)
                snap.host.netns.found = ref.found
                return (report(snap), snap)
            }
            // The initial namespace's nf_log_all_netns decides for the others: judge them with it.
            checked = HostSnapshot.sharingInitialNamespaceKeys(checked.map(\.snapshot)).map { (report($0), $0) }
        } else if let snapshot {
            let snap = try SnapshotFile.load(snapshot)
            checked = [(report(snap), snap)]
        } else {
            let snap = try source.open().takeSnapshot(collection)
            checked = [(report(snap), snap)]
        }
        let reports = checked.map(\.report)
        try output.emit(try render(checked))
        for report in reports {
            let excused = gate.excused(report)
            if let baseline = gating.baseline, !excused.isEmpty {
                CTDoctorCLI.printError(
                    "ctdoctor: --baseline \(baseline): \(excused.count) failing check(s) already failed there and do not gate: "
                        + excused.map(\.id).joined(separator: ", "))
            }
        }
        let outcome = gate.outcome(for: reports)
        if outcome != .ok { throw ExitCode(outcome.rawValue) }
    }

    /// One report in the chosen format; with --all-netns (text or json only), one JSON document holding them all,
    /// or one text section each.
    func render(_ checked: [(report: Report, snapshot: HostSnapshot)]) throws -> String {
        let reports = checked.map(\.report)
        let report = reports[0]
        switch output.format {
        case .json:
            return allNetns ? try JSONReporter.encode(NamespaceReports(reports)) : try JSONReporter.render(report)
        case .junit: return JUnitReporter.render(report)
        case .sarif: return try SARIFReporter.render(report)
        case .tap: return TAPReporter.render(report)
        case .prometheus: return PrometheusReporter.render(report, snapshot: checked[0].snapshot)
        case .markdown: return MarkdownReporter.render(report)
        case .text:
            let detail: TextReporter.Detail = output.quiet ? .quiet : output.verbose ? .verbose : .normal
            let reporter = TextReporter(palette: output.palette, detail: detail)
            guard allNetns else { return reporter.render(report) }
            return reports.map { r in
                let title = "=== network namespace \(r.host.netns.inode.map(String.init) ?? r.host.netns.name ?? (r.host.netns.initial == true ? "initial" : "?")) (\(r.host.netns.found ?? "?")) ==="
                return output.palette.bold(Neutralise.line(title)) + "\n" + reporter.render(r)
            }.joined(separator: "\n")
        }
    }
}
