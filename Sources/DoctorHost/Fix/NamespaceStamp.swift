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
    /// When the namespace's nsfs inode was made, in CLOCK_MONOTONIC seconds: known only for a namespace a bind mount
    /// or a descriptor keeps (see HostIdentityProbe.nsfsInodeMade).
    public var datedSince: Double?
    /// CLOCK_REALTIME minus CLOCK_MONOTONIC when the stamp was read, to put `datedSince` on the wall clock.
    public var wallOffset: Double?

    public init(bootID: String? = nil, initial: Bool? = nil, datedSince: Double? = nil, wallOffset: Double? = nil) {
        self.bootID = bootID
        self.initial = initial
        self.datedSince = datedSince
        self.wallOffset = wallOffset
    }

    /// The namespace this process is in now.
    public static func current(initial: Bool?) -> NamespaceStamp {
        let boot = HostRoot("/").readTrimmed("/proc/sys/kernel/random/boot_id").value
        var real = timespec(), monotonic = timespec()
        let offset = clock_gettime(CLOCK_REALTIME, &real) == 0 && clock_gettime(CLOCK_MONOTONIC, &monotonic) == 0
            ? Double(real.tv_sec) - Double(monotonic.tv_sec) + Double(real.tv_nsec - monotonic.tv_nsec) / 1e9 : nil
        let dated = initial == true ? nil : HostIdentityProbe.nsfsInodeMade("/proc/self/ns/net")
        return NamespaceStamp(bootID: boot, initial: initial, datedSince: dated, wallOffset: offset)
    }

    /// Why the namespace a journal recorded cannot be this one, or nil when nothing tells them apart. The initial
    /// namespace is the same one across boots; any other is told apart by the boot, then by when its nsfs inode was
    /// made, then (for a journal that has no such date) by being made after the journal was written.
    public func refusal(undoing journal: Journal) -> String? {
        guard initial != true else { return nil }
        let number = journal.netnsInode.map(String.init) ?? "(unknown)"
        if let then = journal.bootID, let now = bootID, then != now {
            return """
                the journal was written during an earlier boot (boot id \(Neutralise.line(then))); network namespace \
                \(number) of that boot is gone, and this one only has its number
                """
        }
        guard let made = datedSince, made.isFinite else { return nil }
        if let recorded = journal.netnsDatedSince {
            guard recorded.isFinite, abs(recorded - made) > 1 else { return nil }
            return """
                network namespace \(number) was made \(Self.seconds(made)) s after boot, and the journal's \
                \(Self.seconds(recorded)) s after boot: this is another namespace that got its number
                """
        }
        guard let offset = wallOffset, let written = Self.parse(journal.createdAt), made + offset > written + 1 else {
            return nil
        }
        return """
            network namespace \(number) was made at \(Self.iso(made + offset)), after the journal was written \
            (\(Neutralise.line(journal.createdAt))): this is another namespace that got its number
            """
    }

    /// Whole seconds; a journal's value no Int holds is printed as Swift prints it, never a trap.
    static func seconds(_ value: Double) -> String {
        abs(value) < 1e15 ? String(Int(value.rounded())) : "\(value)"
    }

    /// "2026-01-10T12:00:00Z" (what `takenAt` holds) → seconds since 1970; nil for anything else.
    static func parse(_ text: String) -> Double? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)?.timeIntervalSince1970
    }

    static func iso(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }
}
