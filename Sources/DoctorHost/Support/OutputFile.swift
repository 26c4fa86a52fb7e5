import DoctorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes a report, script, snapshot or journal to a path without replacing what the path is:
/// - a regular file, or nothing yet: written whole or not at all (a temporary file beside it, fsynced, renamed over
///   it, the folder fsynced); an existing file keeps its mode and owner;
/// - a symbolic link: the same, to the file it points to (the link stays);
/// - a character device or a FIFO (`/dev/null`, a named pipe): written straight through;
/// - `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`: written to that open descriptor.
/// A folder, or (with `regularOnly`, for journals) anything but a regular file, is refused.
public enum OutputFile {
    public static func write(_ text: String, to path: String, flag: String = "--output", mode: mode_t = 0o644,
                             regularOnly: Bool = false) throws(InputError) {
        func failure(_ why: String) -> InputError { InputError("\(flag) \(path): \(why)") }
        func cannot(_ code: Int32) -> InputError { failure("cannot write: \(Descriptor.describe(code))") }

        let target: String
        switch resolve(path) {
        case .descriptor(let fd):
            if regularOnly { throw failure("not a regular file (an open descriptor); give a file path") }
            if let code = Descriptor.writeAll(fd, text) { throw cannot(code) }
            return
        case .path(let resolved): target = resolved
        case .failed(let code): throw cannot(code)
        }
        var st = stat()
        if lstat(target, &st) != 0 {
            guard errno == ENOENT else { throw cannot(errno) }
            if let code = replace(target, text, mode: mode, keeping: nil) { throw cannot(code) }
            return
        }
        let notRegular = failure("not a regular file" + (target == path ? "" : " (\(target))")
                                     + (regularOnly ? "; \(flag) must name a regular file" : ""))
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            if let code = replace(target, text, mode: mode, keeping: st) { throw cannot(code) }
        case S_IFDIR:
            throw failure("is a folder")
        case S_IFCHR, S_IFIFO:
            guard !regularOnly else { throw notRegular }
            if let code = writeThrough(target, text) { throw cannot(code) }
        default:
            throw notRegular
        }
    }

    enum Resolved: Equatable {
        case path(String)
        case descriptor(Int32)
        case failed(Int32)
    }

    /// Follows symbolic links to the path finally written; an open descriptor's name (/proc/self/fd/1, which
    /// /dev/stdout points to) is that descriptor.
    static func resolve(_ path: String) -> Resolved {
        var current = path
        for _ in 0..<40 {
            if let fd = descriptor(named: current) { return .descriptor(fd) }
            var st = stat()
            guard lstat(current, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK else { return .path(current) }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buffer, buffer.count - 1)
            if n < 0 { return .failed(errno) }
            let link = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : folder(of: current) + "/" + link
        }
        return .failed(ELOOP)
    }

    static func descriptor(named path: String) -> Int32? {
        for prefix in ["/proc/self/fd/", "/dev/fd/", "/proc/\(getpid())/fd/", "/proc/thread-self/fd/"] where path.hasPrefix(prefix) {
            return Int32(path.dropFirst(prefix.count))
        }
        return nil
    }

    public static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// A temporary file beside the target, written, fsynced, renamed over it, and the folder fsynced.
    /// Returns the errno of the step that failed; the target is then as it was, and the temporary file is gone.
    static func replace(_ target: String, _ text: String, mode: mode_t, keeping existing: stat?) -> Int32? {
        let dir = folder(of: target)
        let name = target.split(separator: "/").last.map(String.init) ?? target
        let temp = "\(dir)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { return errno }
        func undo(_ code: Int32) -> Int32 {
            unlink(temp)
            return code
        }
        if let existing {
            // Keep the file's permissions and owner; chown needs privilege and is skipped without it.
            _ = fchown(fd, existing.st_uid, existing.st_gid)
            if fchmod(fd, existing.st_mode & 0o7777) != 0 {
                let code = errno
                close(fd)
                return undo(code)
            }
        }
        if let code = Descriptor.writeAll(fd, text) {
            close(fd)
            return undo(code)
        }
        if fsync(fd) != 0 {
            let code = errno
            close(fd)
            return undo(code)
        }
        if close(fd) != 0 { return undo(errno) }
        if rename(temp, target) != 0 { return undo(errno) }
        return Descriptor.syncFolder(dir)
    }

    /// Opens a device or FIFO for writing without creating or truncating anything, and writes the text.
    static func writeThrough(_ target: String, _ text: String) -> Int32? {
        let fd = open(target, O_WRONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return errno }
        // The path changed between the look and the open: never write into a regular file this way.
        guard (st.st_mode & S_IFMT) != S_IFREG else { return EEXIST }
        return Descriptor.writeAll(fd, text)
    }
}
