import DoctorCore
import Foundation

/// Where a command reads from, decided once: the running kernel (in this network namespace, or in the one `--netns`
/// named, entered here), a copied tree (`--root`), or an unpacked sosreport (`--sos`); with the command runner that
/// fits it (live commands only against the live host; recorded outputs for a copied tree).
public struct HostSource: Sendable {
    public let host: HostRoot
    public let runner: any CommandRunner
    /// The namespace `--netns` named, already entered.
    public let namespace: NamespaceRef?

    public init(host: HostRoot, runner: (any CommandRunner)? = nil, namespace: NamespaceRef? = nil) {
        self.host = host
        self.runner = runner ?? (host.isLive ? SystemCommandRunner() : RecordedCommandRunner())
        self.namespace = namespace
    }

    /// Checks the folders (a sosreport must have sos_commands) and enters the namespace, once.
    public static func open(root: String?, sos: String?, netns: String?) throws(InputError) -> HostSource {
        var namespace: NamespaceRef?
        if let netns {
            let ref = try NetworkNamespaces.resolve(netns)
            try NetworkNamespaces.enter(ref)
            namespace = ref
        }
        if let sos {
            let host = try folder(sos, flag: "--sos")
            guard host.isDirectory("/sos_commands") else {
                throw InputError("--sos \(sos): not an unpacked sosreport (it has no sos_commands folder)")
            }
            return HostSource(host: host, namespace: namespace)
        }
        return HostSource(host: try root.map { r throws(InputError) in try folder(r, flag: "--root") } ?? HostRoot("/"), namespace: namespace)
    }

    static func folder(_ root: String, flag: String) throws(InputError) -> HostRoot {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir) else {
            throw InputError("\(flag) \(root): no such directory")
        }
        guard isDir.boolValue else { throw InputError("\(flag) \(root): not a directory") }
        return HostRoot(root)
    }

    /// A snapshot of this source; `now` is the ISO 8601 time stamped on it.
    public func takeSnapshot(
        now: String, sample: Double = 0, deep: Bool = false, progress: (@Sendable (Int, Int?) -> Void)? = nil
    ) -> HostSnapshot {
        let context = ProbeContext(
            host: host, runner: runner, toolVersion: CTDoctorVersion.current, now: now,
            sampleSeconds: sample, deep: deep, dumpProgress: progress)
        var snapshot = SnapshotTaker.take(context)
        if let namespace { snapshot.host.netns.found = namespace.found }
        return snapshot
    }
}

extension Palette {
    /// Colour for standard output: only on a terminal, never with NO_COLOR, `--no-color` or an output file.
    public static func forStandardOutput(noColorFlag: Bool) -> Palette {
        Palette(enabled: decide(
            noColorFlag: noColorFlag, isTerminal: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment))
    }
}
