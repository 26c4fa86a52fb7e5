import ArgumentParser
import Checks
import DoctorKit

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check this host's connection tracking setup, score it, and print the fixes.")

    @OptionGroup(title: "Source") var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Check a snapshot file (from `ctdoctor snapshot`) instead of this host.", valueName: "file"))
    var snapshot: String?

    @OptionGroup(title: "Collection") var collection: CollectionOptions
    @OptionGroup(title: "Selection") var selection: SelectionOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Gating") var gating: GateOptions

    func validate() throws {
        if snapshot != nil && source.root != nil {
            throw ValidationError("--snapshot and --root cannot be used together")
        }
        if collection.isSet && (snapshot != nil || source.root != nil) {
            throw ValidationError("\(collection.flags) cannot be used with --snapshot or --root: they need the running kernel")
        }
    }

    func run() throws {
        let (only, skip) = try selection.resolved(against: Catalog.all)
        // Every input file is read before the host is, so a bad one fails fast with exit 2.
        let policy = try gating.loadPolicy(knownChecks: Catalog.all)
        let gate = try gating.gate()
        let snap: HostSnapshot
        if let snapshot {
            snap = try SnapshotFile.load(snapshot)
        } else {
            snap = try source.takeSnapshot(collection)
        }
        var findings = CheckEngine.run(Catalog.all, on: snap, only: only, skip: skip)
        if let policy {
            findings = PolicyEvaluator.evaluate(policy, snapshot: snap, findings: findings, today: Clock.todayUTC())
        }
        let report = Report(snapshot: snap, findings: findings, source: snapshot)
        switch output.format {
        case .json: try output.emit(try JSONReporter.render(report))
        case .junit: try output.emit(JUnitReporter.render(report))
        case .sarif: try output.emit(try SARIFReporter.render(report))
        case .tap: try output.emit(TAPReporter.render(report))
        case .prometheus: try output.emit(PrometheusReporter.render(report, snapshot: snap))
        case .markdown: try output.emit(MarkdownReporter.render(report))
        case .text:
            let detail: TextReporter.Detail = output.quiet ? .quiet : output.verbose ? .verbose : .normal
            try output.emit(TextReporter(palette: output.palette, detail: detail).render(report))
        }
        let excused = gate.excused(report)
        if let baseline = gating.baseline, !excused.isEmpty {
            CTDoctorCLI.printError(
                "ctdoctor: --baseline \(baseline): \(excused.count) failing check(s) already failed there and do not gate: "
                    + excused.map(\.id).joined(separator: ", "))
        }
        let outcome = gate.outcome(for: report)
        if outcome != .ok { throw ExitCode(outcome.rawValue) }
    }
}
