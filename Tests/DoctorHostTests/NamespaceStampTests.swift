@testable import DoctorHost
import Foundation
import TestSupport
import Testing

/// `fix --undo` tells the journal's namespace from a later one that got its number.
struct NamespaceStampTests {
    static func journal(boot: String? = "boot-a", madeAt: Double? = nil, createdAt: String = "2026-11-26T07:00:00Z") -> Journal {
        var record = Journal(createdAt: createdAt, hostname: nil, netnsInode: 4026532500)
        record.bootID = boot
        record.netnsMadeAt = madeAt
        return record
    }

    /// 2026-11-26T07:00:00Z, in seconds since 1970.
    static let seven = 1_795_676_400.0

    @Test func theSameNamespaceIsNotRefused() {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, madeAt: Self.seven - 100.25)
        #expect(now.refusal(undoing: Self.journal(madeAt: Self.seven - 100.25)) == nil)
        #expect(now.refusal(undoing: Self.journal(madeAt: nil)) == nil, "made before the journal was written")
        let sameSecond = NamespaceStamp(bootID: "boot-a", initial: false, madeAt: Self.seven + 0.9)
        #expect(sameSecond.refusal(undoing: Self.journal(madeAt: nil)) == nil, "createdAt is cut to the second")
    }

    @Test func anotherBootIsRefused() throws {
        let now = NamespaceStamp(bootID: "boot-b", initial: false, madeAt: Self.seven - 100)
        let refusal = try #require(now.refusal(undoing: Self.journal(madeAt: Self.seven - 100)))
        #expect(refusal.contains("earlier boot (boot id boot-a)"))
        #expect(refusal.contains("4026532500"))
    }

    @Test func anotherNsfsTimeIsRefused() throws {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, madeAt: Self.seven + 60)
        let refusal = try #require(now.refusal(undoing: Self.journal(madeAt: Self.seven - 100.25)))
        #expect(refusal.contains("was made at 2026-11-26T07:01:00.000Z, the journal's at 2026-11-26T06:58:19.750Z"))
    }

    @Test func aNamespaceMadeAfterAJournalWithoutTimeIsRefused() throws {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, madeAt: Self.seven + 100)
        let refusal = try #require(now.refusal(undoing: Self.journal(madeAt: nil)))
        #expect(refusal.contains("was made at 2026-11-26T07:01:40.000Z, after the journal was written (2026-11-26T07:00:00Z)"))
    }

    /// The initial namespace is the same one across boots; a namespace nothing keeps has no time, and an older journal
    /// has no boot: what cannot be told apart is undone as before.
    @Test func whatCannotBeToldApartIsNotRefused() {
        let initial = NamespaceStamp(bootID: "boot-b", initial: true, madeAt: nil)
        #expect(initial.refusal(undoing: Self.journal(madeAt: Self.seven)) == nil)
        let unkept = NamespaceStamp(bootID: "boot-a", initial: false, madeAt: nil)
        #expect(unkept.refusal(undoing: Self.journal(madeAt: Self.seven)) == nil)
        let older = NamespaceStamp(bootID: "boot-b", initial: false, madeAt: Self.seven - 100)
        #expect(older.refusal(undoing: Self.journal(boot: nil, madeAt: nil)) == nil)
    }

    /// A forged journal's numbers and text neither trap nor reach the terminal raw.
    @Test func aForgedStampNeitherTrapsNorEscapes() throws {
        let now = NamespaceStamp(bootID: "boot-a", initial: false, madeAt: Self.seven)
        let huge = try #require(now.refusal(undoing: Self.journal(madeAt: 1e300)))
        #expect(huge.contains("the journal's at 1e+300 s after 1970"))
        #expect(try #require(now.refusal(undoing: Self.journal(madeAt: -1e300))).contains("-1e+300"))
        #expect(now.refusal(undoing: Self.journal(madeAt: .infinity)) == nil)
        let escaped = try #require(now.refusal(undoing: Self.journal(boot: "x\u{1b}]0;pwn\u{07}")))
        #expect(!escaped.contains("\u{1b}") && !escaped.contains("\u{07}"))
        #expect(now.refusal(undoing: Self.journal(madeAt: nil, createdAt: "not a time")) == nil)
    }

    /// Real clocks: this process's stamp reads the boot id, and the same stamp refuses nothing.
    @Test func theCurrentStampIsRead() {
        let stamp = NamespaceStamp.current(initial: nil)
        #expect(stamp.bootID?.count == 36)
        var record = Self.journal(boot: stamp.bootID, madeAt: stamp.madeAt)
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

    /// A bind mount in mountinfo shows a namespace is kept, however new; another namespace's mount, or another
    /// file system's, does not.
    @Test func aBindMountShowsTheNamespaceIsKept() {
        let mountinfo = """
            25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
            43 42 0:4 net:[4026532177] /run/netns/a rw shared:2 - nsfs nsfs rw
            44 42 0:4 net:[4026532999] /run/netns/b rw shared:2 - tmpfs tmpfs rw
            """
        #expect(HostIdentityProbe.boundByMount(4026532177, mountinfo: mountinfo))
        #expect(!HostIdentityProbe.boundByMount(4026532178, mountinfo: mountinfo))
        #expect(!HostIdentityProbe.boundByMount(4026532999, mountinfo: mountinfo))
        #expect(!HostIdentityProbe.boundByMount(4026532177, mountinfo: ""))
    }
}
