import DoctorCore

/// The commands of every probe of one snapshot, started together before the first probe runs: the tools then work
/// while the in-process probes read procfs and netlink, and side by side with each other, and each probe reads its
/// own results when its turn comes. Each command's output streams into the sink its probe registered.
/// A probe whose reading needs nothing the others find can also start it here, on a thread of its own (`startWork`).
public final class CommandBatch: @unchecked Sendable {
    private struct Entry {
        var sink: AnyObject
        var range: Range<Int>
    }

    private var entries: [String: Entry] = [:]
    private var commands: [StreamedCommand] = []
    private var running: (any RunningCommands)?
    private var results: [Result<StreamedResult, CommandFailure>]?
    private var work: [String: BackgroundWork] = [:]

    public init() {}

    /// Registers `commands` under `key` (a probe's name); their output goes where the commands say, usually into `sink`.
    public func add(_ key: String, sink: AnyObject, commands: [StreamedCommand]) {
        precondition(running == nil && entries[key] == nil, "commands registered twice or after the start")
        entries[key] = Entry(sink: sink, range: self.commands.count..<(self.commands.count + commands.count))
        self.commands += commands
    }

    public func start(_ runner: any CommandRunner) {
        guard running == nil else { return }
        running = runner.start(commands)
    }

    /// The sink and results registered under `key`, after every command of the batch has ended; nil when nothing was
    /// registered under it (or it was taken already).
    public func take(_ key: String) -> (sink: AnyObject, results: [Result<StreamedResult, CommandFailure>])? {
        guard let entry = entries.removeValue(forKey: key), let running else { return nil }
        if results == nil { results = running.wait() }
        return (entry.sink, Array(results![entry.range]))
    }

    /// Starts `body` now on a thread of its own, for `takeWork(key)` to collect. The thread inherits the calling
    /// thread's namespaces and credentials, as a command of the batch does.
    public func startWork(_ key: String, _ body: @escaping @Sendable () -> any Sendable) {
        precondition(work[key] == nil, "work started twice under one key")
        work[key] = BackgroundWork(body)
    }

    /// Registers work started earlier (before the batch existed) under `key`, for `takeWork(key)`.
    func adoptWork(_ key: String, _ started: BackgroundWork) {
        precondition(work[key] == nil, "work started twice under one key")
        work[key] = started
    }

    /// What the work started under `key` returned, once it has ended; nil when none was started (or it was taken).
    public func takeWork(_ key: String) -> (any Sendable)? {
        work.removeValue(forKey: key)?.wait()
    }
}

/// A probe whose facts come from commands: it names them with a sink their output streams into, and reads the sink
/// and the results when it collects. In a snapshot the commands start with every other probe's (`SnapshotTaker`);
/// a probe collected alone runs its own.
public protocol CommandProbe: Probe {
    associatedtype Sink: AnyObject
    func commands(_ context: ProbeContext) -> (sink: Sink, commands: [StreamedCommand])
}

extension CommandProbe {
    public func prefetch(into batch: CommandBatch, context: ProbeContext) {
        let (sink, commands) = self.commands(context)
        batch.add(name, sink: sink, commands: commands)
    }

    /// This probe's sink and results: from the snapshot's batch, or from running its commands now.
    func commandResults(_ context: ProbeContext) -> (sink: Sink, results: [Result<StreamedResult, CommandFailure>]) {
        if let taken = context.commands?.take(name), let sink = taken.sink as? Sink { return (sink, taken.results) }
        let (sink, commands) = self.commands(context)
        return (sink, context.runner.runAll(commands))
    }
}
