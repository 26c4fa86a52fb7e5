/// What probes are handed: where to read files, how to run commands, and what to stamp on the snapshot.
public struct ProbeContext: Sendable {
    public var host: HostRoot
    public var runner: any CommandRunner
    public var toolVersion: String
    /// ISO 8601 time the snapshot is taken at.
    public var now: String

    public init(host: HostRoot, runner: any CommandRunner, toolVersion: String, now: String) {
        self.host = host
        self.runner = runner
        self.toolVersion = toolVersion
        self.now = now
    }
}

/// Reads one source of truth into its part of the snapshot. Never judges.
public protocol Probe: Sendable {
    var name: String { get }
    func collect(into snapshot: inout HostSnapshot, context: ProbeContext)
}
