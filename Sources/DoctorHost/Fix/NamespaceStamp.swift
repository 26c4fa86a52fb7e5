import DoctorCore
import Foundation

/// Which network namespace, beyond its number. The kernel gives a gone namespace's inode number to the next one made,
/// and numbering starts again at every boot, so a journal's `netnsInode` alone can name a namespace that did not exist
/// when the journal was written. A journal records this stamp, and `fix --undo` refuses to write one namespace's old
/// values into another that only shares its number.
public struct NamespaceStamp: Sendable, Equatable {
    /// /proc/sys/kernel/random/boot_id.
    public var bootID: String?
    public var initial: Bool?
    /// The st_ctime of the namespace's nsfs inode (wall-clock seconds): known only for a namespace that a bind mount
    /// or a descriptor keeps, and the same at every look while it does (HostIdentityProbe.nsfsInodeChanged).
    public var madeAt: Double?

    public init(bootID: String? = nil, initial: Bool? = nil, madeAt: Double? = nil) {
        self.bootID = bootID
        self.initial = initial
        self.madeAt = madeAt
    }

    /// The namespace this process is in now.
    public static func current(initial: Bool?) -> NamespaceStamp {
        NamespaceStamp(
            bootID: HostRoot("/").readTrimmed("/proc/sys/kernel/random/boot_id").value, initial: initial,
            madeAt: initial == true ? nil : HostIdentityProbe.nsfsInodeChanged("/proc/self/ns/net"))
    }

    /// Why the namespace a journal recorded cannot be this one, or nil when nothing tells them apart. The initial
    /// namespace is the same one across boots; any other is told apart by the boot, then by its nsfs inode's time,
    /// then (for a journal without that time) by being made after the journal was written.
    public func refusal(undoing journal: Journal) -> String? {
        guard initial != true else { return nil }
        let number = journal.netnsInode.map(String.init) ?? "(unknown)"
        if let then = journal.bootID, let now = bootID, then != now {
            return """
                the journal was written during an earlier boot (boot id \(Neutralise.line(then))); network namespace \
                \(number) of that boot is gone, and this one only has its number
                """
        }
        guard let made = madeAt, made.isFinite else { return nil }
        if let recorded = journal.netnsMadeAt {
            guard recorded.isFinite, abs(recorded - made) > 0.001 else { return nil }
            return """
                network namespace \(number) was made at \(Self.iso(made)), the journal's at \(Self.iso(recorded)): \
                this is another namespace that got its number
                """
        }
        guard let written = Self.parse(journal.createdAt), made > written + 1 else { return nil }
        return """
            network namespace \(number) was made at \(Self.iso(made)), after the journal was written \
            (\(Neutralise.line(journal.createdAt))): this is another namespace that got its number
            """
    }

    /// "2026-01-10T12:00:00Z" (what `takenAt` holds) → seconds since 1970; nil for anything else.
    static func parse(_ text: String) -> Double? {
        ISO8601DateFormatter().date(from: text)?.timeIntervalSince1970
    }

    /// Seconds since 1970 as "2026-11-26T07:00:00.250Z" (a namespace and the one before it can be made within a
    /// second); a forged journal's value beyond any date as Swift prints it.
    static func iso(_ seconds: Double) -> String {
        guard abs(seconds) < 1e11 else { return "\(seconds) s after 1970" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
