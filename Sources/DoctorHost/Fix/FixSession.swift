import DoctorCore
import Foundation

/// Fix orchestration for every caller (`fix` and the wizard): planning with the boot-time form merged in, the
/// namespace guard, the journal folder, apply with verify and rollback, and undo. Callers parse and print; this
/// decides and changes.
public struct FixSession: Sendable {
    public var host: HostRoot
    public var runner: any CommandRunner
    public var log: @Sendable (String) -> Void

    /// The source's runner: real commands on a live host, nothing against a copied tree.
    public init(source: HostSource, log: @escaping @Sendable (String) -> Void) {
        host = source.host
        runner = source.runner
        self.log = log
    }

    /// The plan for failing findings; with `persist`, the boot-time form is appended (once per action) and the
    /// warnings say where something else will win at boot. Refuses `persist` outside the initial namespace.
    public static func plan(
        findings: [Finding], snapshot: HostSnapshot, only: Set<String>?, includeDisruptive: Bool, persist: Bool
    ) throws(InputError) -> (plan: FixPlan, warnings: [String]) {
        var plan = FixPlan(findings: findings, only: only, includeDisruptive: includeDisruptive,
                           initialNamespace: snapshot.host.netns.initial)
        guard persist else { return (plan, []) }
        guard snapshot.host.netns.initial != false else {
            throw InputError("""
                --persist: sysctl.d is applied to the initial network namespace at boot, and this is another one \
                (\(describe(snapshot.host.netns))); set this namespace's values through its container runtime
                """)
        }
        let boot = PersistPlan(for: plan, snapshot: snapshot)
        for item in boot.steps { plan.append(item) }
        return (plan, boot.warnings)
    }

    /// Refuses to change a namespace other than the one `recorded` names (a snapshot's or a journal's inode).
    public func guardNamespace(recorded: UInt64?, refusal: (UInt64, UInt64) -> String) throws(InputError) {
        guard host.isLive, let recorded, let now = HostIdentityProbe.currentNetnsInode(), recorded != now else { return }
        throw InputError(refusal(recorded, now))
    }

    /// Refuses to change this namespace when it is not the one `snapshot` was read in.
    public func guardApply(_ snapshot: HostSnapshot) throws(InputError) {
        try guardNamespace(recorded: snapshot.host.netns.inode.value) { checked, now in
            "--apply: this process is in network namespace \(now), but the check read \(checked); refusing"
        }
    }

    public var journalFolder: String { host.resolve(Journal.folder) }

    /// The lock on this namespace (the current one on a live host) that every change to it holds; see NamespaceLock.
    /// Taken again where it is held (the wizard making a change, then applying a fix) it is the same lock.
    public func lock(
        wait: Double = NamespaceLock.defaultWait, fallbackFolder: String? = nil, waiting: (String) -> Void = { _ in }
    ) throws(InputError) -> NamespaceLock {
        try NamespaceLock.acquire(
            host: host, netns: host.isLive ? HostIdentityProbe.currentNetnsInode() : nil, wait: wait,
            fallbackFolder: fallbackFolder, waiting: waiting)
    }

    /// `journal-<time>-<netns>.json` in the journal folder, which is created (0700) when missing.
    public func defaultJournalPath(netns: UInt64?, time: String) throws(InputError) -> String {
        let folder = journalFolder
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw InputError("journal folder \(folder): cannot create: \(String(cString: strerror(errno))); give --journal FILE")
        }
        let stamp = time.filter { $0.isNumber }
        return "\(folder)/journal-\(stamp)-\(netns.map(String.init) ?? "netns").json"
    }

    /// A fresh journal for changes to the namespace a snapshot describes, stamped on a live host (guardApply has
    /// made sure the snapshot's namespace is this process's).
    public func journal(for snapshot: HostSnapshot) -> Journal {
        var record = Journal(
            createdAt: snapshot.takenAt, hostname: snapshot.host.hostname.value, netnsInode: snapshot.host.netns.inode.value)
        if host.isLive {
            let stamp = NamespaceStamp.current(initial: snapshot.host.netns.initial)
            record.bootID = stamp.bootID
            record.netnsMadeAt = stamp.madeAt
        }
        return record
    }

    /// An applier keeping the journal at `journalPath` up to date (`-`: a journal read from standard input, which
    /// cannot be written back).
    public func applier(journalPath: String) -> Applier {
        Applier(host: host, runner: runner, journalPath: journalPath == "-" ? nil : journalPath, log: log)
    }

    /// Applies `plan` with a journal at `journalPath`, asking `decide` before each step.
    public func apply(
        _ plan: FixPlan, snapshot: HostSnapshot, journalPath: String, decide: (FixPlan.Item, Int, Int) -> Applier.Decision
    ) throws(InputError) -> Applier.Outcome {
        let held = try lock(fallbackFolder: OutputFile.folder(of: journalPath))
        defer { held.release() }
        try guardApply(snapshot)
        var record = journal(for: snapshot)
        return try applier(journalPath: journalPath).apply(plan, journal: &record, decide: decide)
    }

    /// What a check says after the fix, for each check the plan touched.
    public static func recheck(_ plan: FixPlan, findings after: [Finding]) -> [(id: String, status: CheckStatus?)] {
        Set(plan.steps.map(\.checkID)).sorted().map { id in (id, after.first { $0.id == id }?.status) }
    }

    /// The journal `--undo` means: the one given, or the newest in the journal folder (of this namespace if any is).
    public func undoJournalPath(_ given: String?) throws(InputError) -> String {
        let netns = host.isLive ? HostIdentityProbe.currentNetnsInode() : nil
        guard let path = given ?? Journal.newest(in: journalFolder, netns: netns) else {
            throw InputError("--undo: no journal given and none in \(journalFolder)")
        }
        return path
    }

    /// The journal at `path`, refused when it was recorded in another network namespace, including one whose number
    /// this namespace got after it was gone.
    public func loadForUndo(_ path: String) throws(InputError) -> Journal {
        let record = try Journal.load(path)
        try guardNamespace(recorded: record.netnsInode) { recorded, now in
            "--undo \(path): recorded in network namespace \(recorded), this is \(now); run it there (ip netns exec …)"
        }
        if host.isLive, let refusal = NamespaceStamp.current(initial: HostIdentityProbe.netns(host).initial)
            .refusal(undoing: record) {
            throw InputError("--undo \(path): \(refusal); nothing was changed")
        }
        return record
    }

    /// Puts back what a journal recorded, saving it to `path` as it goes; true when everything came back verified.
    public func undo(_ record: inout Journal, journalPath path: String) throws(InputError) -> Bool {
        let held = try lock(fallbackFolder: path == "-" ? nil : OutputFile.folder(of: path))
        defer { held.release() }
        return try applier(journalPath: path).undo(&record)
    }

    public static func describe(_ ns: NetnsIdentity) -> String {
        let inode = ns.inode.value.map(String.init) ?? "unknown"
        switch ns.initial {
        case true?: return "\(inode) (initial)"
        case false?: return "\(inode) (not initial\(ns.name.map { ", /run/netns/\($0)" } ?? ""))"
        case nil: return inode
        }
    }
}
