import DoctorCore
/// What probes are handed: where to read files, how to run commands, and what to stamp on the snapshot.
public struct ProbeContext: Sendable {
    public var host: HostRoot
    public var runner: any CommandRunner
    public var toolVersion: String
    /// ISO 8601 time the snapshot is taken at.
    public var now: String
    /// `--sample SECONDS`: read the statistics twice this far apart; 0 reads them once (lifetime totals only).
    public var sampleSeconds: Double
    /// `--deep`: stream the conntrack table into a summary. A plain check never dumps the table.
    public var deep: Bool
    /// Told (entries so far, count before the dump) while a deep dump runs, for a progress display.
    public var dumpProgress: (@Sendable (Int, Int?) -> Void)?
    /// The commands of the snapshot's probes, started together by `SnapshotTaker`; nil when a probe runs alone.
    public var commands: CommandBatch?

    public init(
        host: HostRoot, runner: any CommandRunner, toolVersion: String, now: String, sampleSeconds: Double = 0,
        deep: Bool = false, dumpProgress: (@Sendable (Int, Int?) -> Void)? = nil
    ) {
        self.host = host
        self.runner = runner
        self.toolVersion = toolVersion
        self.now = now
        self.sampleSeconds = sampleSeconds
        self.deep = deep
        self.dumpProgress = dumpProgress
    }
}

/// Reads one source of truth into its part of the snapshot. Never judges.
public protocol Probe: Sendable {
    var name: String { get }
    /// Registers the commands the probe will need, so they start with the others' before any probe runs.
    func prefetch(into batch: CommandBatch, context: ProbeContext)
    func collect(into snapshot: inout HostSnapshot, context: ProbeContext)
}

extension Probe {
    public func prefetch(into batch: CommandBatch, context: ProbeContext) {}

    /// What this probe's `prefetch` started under its name in the snapshot's batch, or `read()` now when the probe
    /// runs alone.
    func prefetched<T: Sendable>(_ context: ProbeContext, else read: () -> T) -> T {
        context.commands?.takeWork(name) as? T ?? read()
    }
}
