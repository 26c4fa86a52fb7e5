import DoctorCore
import Foundation

/// What `fix --apply` changed, written before each change so that `fix --undo` can put it back
/// even after a crash or a kill between two steps.
public struct Journal: Codable, Sendable, Equatable {
    public static let schemaID = "ctdoctor.journal/1"

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
    }

    public var schema: String
    public var createdAt: String
    public var hostname: String?
    public var netnsInode: UInt64?
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
        try OutputFile.write(text, to: path, flag: "--journal")
    }

    public static func load(_ path: String) throws(InputError) -> Journal {
        let bytes = HostRoot("/").readBytes(path)
        guard let raw = bytes.value else { throw InputError("--undo \(path): cannot read: \(bytes.problem ?? "")") }
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

    /// The newest journal file in a folder (names sort by time), if any.
    public static func newest(in folder: String) -> String? {
        guard let names = HostRoot("/").list(folder).value else { return nil }
        return names.filter { $0.hasPrefix("journal-") && $0.hasSuffix(".json") }.last.map { folder + "/" + $0 }
    }
}
