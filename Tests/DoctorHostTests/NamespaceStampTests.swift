@testable import DoctorHost
import Foundation
import TestSupport
import Testing

/// `fix --undo` tells the journal's namespace from a later one that got its number.
struct NamespaceStampTests {
    static func journal(boot: String? = "boot-a", dated: Double? = nil, createdAt: String = "2026-11-26T07:00:00Z") -> Journal {
        var record = Journal(createdAt: createdAt, hostname: nil, netnsInode: 4026532500)
        record.bootID = boot
        record.netnsDatedSince = dated
        return record
    }

    /// 2026-11-26T07:00:00Z is 1795676400 s after 1970; with this offset, monotonic second 100 is 06:58:20.
    static let offset = 1_795_676_400.0 - 200

    @Test func theSameNamespaceIsNotRefused() {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, datedSince: 100.4, wallOffset: Self.offset)
        #expect(now.refusal(undoing: Self.journal(dated: 100)) == nil)
        #expect(now.refusal(undoing: Self.journal(dated: nil)) == nil, "made 06:58:20, before the 07:00:00 journal")
    }

    @Test func anotherBootIsRefused() throws {
        let now = NamespaceStamp(bootID: "boot-b", initial: false, datedSince: 100, wallOffset: Self.offset)
        let refusal = try #require(now.refusal(undoing: Self.journal(dated: 100)))
        #expect(refusal.contains("earlier boot (boot id boot-a)"))
        #expect(refusal.contains("4026532500"))
    }

    @Test func anotherNsfsDateIsRefused() throws {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, datedSince: 500, wallOffset: Self.offset)
        let refusal = try #require(now.refusal(undoing: Self.journal(dated: 100)))
        #expect(refusal.contains("made 500 s after boot, and the journal's 100 s after boot"))
    }

    @Test func aNamespaceMadeAfterAnUndatedJournalIsRefused() throws {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, datedSince: 300, wallOffset: Self.offset)
        let refusal = try #require(now.refusal(undoing: Self.journal(dated: nil)))
        #expect(refusal.contains("was made at 2026-11-26T07:01:40Z, after the journal was written (2026-11-26T07:00:00Z)"))
    }

    /// The initial namespace is the same one across boots; an undated namespace and an older journal without a stamp
    /// cannot be told apart, so they are undone as before.
    @Test func whatCannotBeToldApartIsNotRefused() {
        let initial = NamespaceStamp(bootID: "boot-b", initial: true, datedSince: nil, wallOffset: Self.offset)
        #expect(initial.refusal(undoing: Self.journal(dated: 100)) == nil)
        let undated = NamespaceStamp(bootID: "boot-a", initial: false, datedSince: nil, wallOffset: Self.offset)
        #expect(undated.refusal(undoing: Self.journal(dated: 100)) == nil)
        let older = NamespaceStamp(bootID: "boot-b", initial: false, datedSince: 100, wallOffset: Self.offset)
        #expect(older.refusal(undoing: Self.journal(boot: nil, dated: nil, createdAt: "2026-11-26T07:00:00Z")) == nil)
    }

    /// A forged journal's numbers and text neither trap nor reach the terminal raw.
    @Test func aForgedStampNeitherTrapsNorEscapes() throws {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, datedSince: 100, wallOffset: Self.offset)
        let huge = try #require(now.refusal(undoing: Self.journal(dated: 1e300)))
        #expect(huge.contains("1e+300 s after boot"))
        #expect(now.refusal(undoing: Self.journal(dated: .infinity)) == nil)
        let escaped = try #require(now.refusal(undoing: Self.journal(boot: "x\u{1b}]0;pwn\u{07}")))
        #expect(!escaped.contains("\u{1b}") && !escaped.contains("\u{07}"))
        #expect(now.refusal(undoing: Self.journal(dated: nil, createdAt: "not a time")) == nil)
    }

    /// Real clocks: this process's stamp reads a boot id and an offset, and a stamp of the same namespace refuses
    /// nothing.
    @Test func theCurrentStampIsRead() {
        let stamp = NamespaceStamp.current(initial: nil)
        #expect(stamp.bootID?.count == 36)
        #expect(stamp.wallOffset.map { $0 > 1_000_000_000 } == true)
        var record = Self.journal(boot: stamp.bootID, dated: stamp.datedSince)
        record.createdAt = "2099-01-01T00:00:00Z"
        #expect(stamp.refusal(undoing: record) == nil)
    }

    /// `fix --undo` without a journal takes this namespace's newest, not a newer one of another namespace that it
    /// would only refuse; with none of this namespace's, the newest of all (refused with the reason).
    @Test func theDefaultJournalIsThisNamespacesNewest() throws {
        let folder = TestFolders.base.appendingPathComponent("ctd-journals-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in ["journal-20261126070000-111.json", "journal-20261126060000-111.json",
                     "journal-20261126080000-222.json", "notes.txt", "journal-20261126090000-111.json.tmp"] {
            FileManager.default.createFile(atPath: folder + "/" + name, contents: Data("{}".utf8))
        }
        #expect(Journal.newest(in: folder, netns: 111) == folder + "/journal-20261126070000-111.json")
        #expect(Journal.newest(in: folder, netns: 333) == folder + "/journal-20261126080000-222.json")
        #expect(Journal.newest(in: folder) == folder + "/journal-20261126080000-222.json")
        #expect(Journal.newest(in: folder + "/missing", netns: 111) == nil)
    }
}
