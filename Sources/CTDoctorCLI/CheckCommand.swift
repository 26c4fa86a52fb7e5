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

    @Flag(name: .long, help: """
        Check every network namespace: ctdoctor's own, pid 1's, each under /run/netns and each of a running process \
        (once per namespace), one report section each. Needs CAP_SYS_ADMIN (setns).
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
            throw ValidationError("\(collection.flags) cannot be used with --snapshot or --root: they need the running kernel")
        }
        if snapshot != nil && source.netns != nil {
            throw ValidationError("--snapshot and --netns cannot be used together: a snapshot already names its namespace")
        }
        if allNetns && (snapshot != nil || source.isCopy || source.netns != nil) {
            throw ValidationError("--all-netns cannot be used with --snapshot, --root, --sos or --netns")
        }
    }

    func run() throws {
        let (only, skip) = try selection.resolved(against: Catalog.all)
        func report(_ snap: HostSnapshot) -> Report {
            Report(snapshot: snap, findings: CheckEngine.run(Catalog.all, on: snap, only: only, skip: skip), source: snapshot)
        }
        let reports: [Report]
        if allNetns {
            reports = try NetworkNamespaces.forEach(NetworkNamespaces.all()) { ref throws(InputError) in
                var snap = try source.takeSnapshot(collection)
                snap.host.netns.found = ref.found
                return report(snap)
            }
        } else if let snapshot {
            reports = [report(try SnapshotFile.load(snapshot))]
        } else if source.sos != nil {
            let snap = try source.takeSnapshot(collection)
            var one = report(snap)
            one.unfilled = Coverage.unfilled(snap)
            reports = [one]
        } else {
            reports = [report(try source.takeSnapshot(collection))]
        }
        try output.emit(try render(reports))
        let outcome = gating.gate.outcome(for: reports)
        if outcome != .ok { throw ExitCode(outcome.rawValue) }
    }

    /// One report as usual; with --all-netns, one JSON document holding them all, or one text section each.
    func render(_ reports: [Report]) throws -> String {
        switch output.format {
        case .json:
            return allNetns ? try JSONReporter.encode(NamespaceReports(reports)) : try JSONReporter.render(reports[0])
        case .text:
            let detail: TextReporter.Detail = output.quiet ? .quiet : output.verbose ? .verbose : .normal
            let reporter = TextReporter(palette: output.palette, detail: detail)
            guard allNetns else { return reporter.render(reports[0]) }
            return reports.map { r in
                let title = "=== network namespace \(r.host.netns.inode.map(String.init) ?? "?") (\(r.host.netns.found ?? "?")) ==="
                return output.palette.bold(title) + "\n" + reporter.render(r)
            }.joined(separator: "\n")
        }
    }
}
