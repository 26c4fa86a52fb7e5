import DoctorCore
import Foundation

/// What `fix --apply` changed, written before each change so that `fix --undo` can put it back
/// even after a crash or a kill between two steps.
public struct Journal: Codable, Sendable, Equatable {
    public static let schemaID = "ctdoctor.journal/1"
    /// Where journals go by default, and where the namespace locks are.
    public static let folder = "/var/lib/ctdoctor"

    public enum State: String, Codable, Sendable {
        /// Recorded, about to be applied (if the process died here, the change may or may not have happened).
        case pending
        /// Applied and read back with the expected value.
        case verified
        /// Applying failed: nothing was changed.
        case failed
        /// Applied, but the value read back is not the one written (clamped, or changed by someone else).
        case unverified
        /// Put back after a later step failed.
        case rolledBack = "rolled-back"
        /// Put back by `fix --undo`.
        case undone
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var checkID: String
        public var purpose: String
        public var action: RemediationStep.Action
        /// The value before the change (sysctl actions) or the file's contents (write-file actions), read at apply time.
        public var previous: String?
        /// Write-file actions: whether the file existed before (undo removes it when it did not).
        public var existed: Bool?
        /// The command that reverses a command action, if there is one.
        public var undo: [String]?
        public var state: State
        public var message: String?

        public init(checkID: String, purpose: String, action: RemediationStep.Action, previous: String?, existed: Bool?,
                    undo: [String]?, state: State, message: String?) {
            self.checkID = checkID
            self.purpose = purpose
            self.action = action
            self.previous = previous
            self.existed = existed
            self.undo = undo
            self.state = state
            self.message = message
        }
    }

    public var schema: String
    public var createdAt: String
    public var hostname: String?
    public var netnsInode: UInt64?
    /// What tells the namespace apart from a later one with its number (NamespaceStamp): the boot, and its nsfs
    /// inode's st_ctime (wall-clock seconds). Absent from a copied tree's journal and from older journals.
    public var bootID: String?
    public var netnsMadeAt: Double?
    public var entries: [Entry]

    public init(createdAt: String, hostname: String?, netnsInode: UInt64?) {
        schema = Self.schemaID
        self.createdAt = createdAt
        self.hostname = hostname
        self.netnsInode = netnsInode
        entries = []
    }

    public func save(to path: String) throws(InputError) {
        let text: String
        do { text = try JSONReporter.encode(self) } catch { throw InputError("journal \(path): cannot encode: \(error)") }
        // Only root reads and writes a journal: it holds the values and file contents a change replaced.
        try OutputFile.write(text, to: path, flag: "--journal", mode: 0o600, regularOnly: true)
    }

    /// Reads a journal (`-`: standard input). It says what to run as root, so only one that root (or the user running
    /// ctdoctor) owns and that nobody else may write is read.
    public static func load(_ path: String) throws(InputError) -> Journal {
        let raw = try InputFiles.read(path, flag: "--undo", limit: .journal, accept: trusted)
        do {
            let journal = try JSONDecoder().decode(Journal.self, from: Data(raw))
            guard journal.schema == schemaID else { throw InputError("--undo \(path): not a ctdoctor journal (schema \(journal.schema))") }
            return journal
        } catch let error as InputError {
            throw error
        } catch {
            throw InputError("--undo \(path): not a ctdoctor journal: \(error)")
        }
    }

    static func trusted(_ st: stat) -> String? {
        if st.st_uid != 0 && st.st_uid != geteuid() {
            return "refusing a journal owned by uid \(st.st_uid): a journal must be owned by root"
        }
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            return "refusing a journal that others may write (mode \(String(st.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }

    /// The newest journal file in a folder (names sort by time), if any: the newest of namespace `netns` when its
    /// number ends one of the names, since a journal of another namespace would only be refused.
    public static func newest(in folder: String, netns: UInt64? = nil) -> String? {
        guard let names = HostRoot("/").list(folder).value else { return nil }
        let journals = names.filter { $0.hasPrefix("journal-") && $0.hasSuffix(".json") }.sorted()
        let mine = netns.map { inode in journals.filter { $0.hasSuffix("-\(inode).json") } } ?? []
        return (mine.last ?? journals.last).map { folder + "/" + $0 }
    }
}
