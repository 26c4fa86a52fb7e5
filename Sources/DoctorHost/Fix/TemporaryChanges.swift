import DoctorCore
import Foundation

/// The wizard's changes to the host (a trace table, log_invalid, a logger binding, a fix the person ran), in the
/// same journal `fix --apply` writes: each is recorded before it is made, so `ctdoctor fix --undo JOURNAL` puts
/// everything back after a kill. `restore()` puts back all but the fixes the person chose to keep.
public final class TemporaryChanges: @unchecked Sendable {
    public let journalPath: String
    private let session: FixSession
    private let lock = NSLock()
    private var record: Journal
    private var keptActions: [RemediationStep.Action] = []
    private var namespaceLock: NamespaceLock?

    public init(session: FixSession, snapshot: HostSnapshot, journalPath: String) {
        self.session = session
        self.journalPath = journalPath
        record = session.journal(for: snapshot)
    }

    /// Whether anything was changed yet (the journal file exists only then).
    public var isEmpty: Bool { lock.withLock { record.entries.isEmpty } }

    /// Journals, applies and verifies `items` in order. On a failure, everything this session changed so far is
    /// put back (the applier's rollback) and the outcome says so.
    public func make(_ items: [FixPlan.Item]) throws(InputError) -> Applier.Outcome {
        let plan = FixPlan(items: items.map { var item = $0; item.held = nil; return item })
        lock.lock()
        defer { lock.unlock() }
        // The namespace stays ours from the first change until everything is put back.
        if namespaceLock == nil { namespaceLock = try session.lock(fallbackFolder: OutputFile.folder(of: journalPath)) }
        var journal = record
        defer { record = journal }
        return try session.applier(journalPath: journalPath).apply(plan, journal: &journal) { _, _, _ in .yes }
    }

    /// Fixes to leave in place when the wizard ends (said so at the end; `fix --undo JOURNAL` still reverses them).
    public func keep(_ actions: [RemediationStep.Action]) {
        lock.withLock { keptActions += actions }
    }

    public struct Restored: Sendable {
        public var allBack: Bool
        /// (what, state): "restored", "kept", "NOT restored: why".
        public var changes: [(what: String, state: String)]
    }

    /// Puts back every change not kept, newest first, and leaves the journal saying which were kept (so a later
    /// `fix --undo` can still reverse those). Safe to call more than once.
    public func restore() -> Restored {
        lock.lock()
        defer { lock.unlock() }
        let active: Set<Journal.State> = [.verified, .unverified, .pending]
        let keptIndices = Set(record.entries.indices.filter { keptActions.contains(record.entries[$0].action) && active.contains(record.entries[$0].state) })
        // Kept fixes are marked so the undo skips them, and get their state back after. Undoing in place keeps the
        // journal true at every point: a kill mid-restore leaves what is back marked undone.
        var toUndo = record
        for i in keptIndices { toUndo.entries[i].state = .failed }
        let allBack: Bool
        do {
            allBack = try session.applier(journalPath: journalPath).undo(&toUndo)
        } catch {
            return Restored(allBack: false, changes: [("journal", "NOT restored: \(error.message)")])
        }
        for i in record.entries.indices where !keptIndices.contains(i) { record.entries[i] = toUndo.entries[i] }
        try? record.save(to: journalPath)
        let changes = record.entries.indices.compactMap { i -> (String, String)? in
            let entry = record.entries[i]
            if keptIndices.contains(i) { return (entry.purpose, "kept") }
            switch entry.state {
            case .undone, .rolledBack: return (entry.purpose, "restored")
            case .failed: return nil
            default: return (entry.purpose, "NOT restored: \(entry.message ?? "see the journal")")
            }
        }
        namespaceLock?.release()
        namespaceLock = nil
        return Restored(allBack: allBack, changes: changes)
    }
}
