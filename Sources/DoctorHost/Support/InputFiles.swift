import DoctorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The files named on the command line (`--snapshot`, `--baseline`), read from the host and decoded by the core.
extension SnapshotFile {
    public static func load(_ path: String) throws(InputError) -> HostSnapshot {
        try decode(InputFiles.read(path, flag: "--snapshot", limit: .snapshot), path: path)
    }
}

extension Baseline {
    /// The ids of the checks that failed in the report at `path`.
    public static func load(_ path: String) throws(InputError) -> Set<String> {
        try decode(InputFiles.read(path, flag: "--baseline", limit: .report), path: path)
    }
}

/// Reads a file named by a flag, for the core to decode; the error names the flag and the file. `-` is standard
/// input, and a pipe (`/dev/stdin`, a FIFO, a shell's `<(…)`) is read to its end, waiting for its writer.
public enum InputFiles {
    /// Reads the file, or standard input for `-`, after `accept` has looked at what was opened (its owner, its mode)
    /// and not refused it; more than `limit` bytes is an error naming the limit, so `/dev/zero` costs nothing.
    public static func read(
        _ path: String, flag: String, limit: ReadLimit, accept: (stat) -> String? = { _ in nil }
    ) throws(InputError) -> [UInt8] {
        let fd = path == "-" ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError("\(flag) \(path): cannot read: \(Descriptor.describe(errno))") }
        defer { if fd != STDIN_FILENO { close(fd) } }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw InputError("\(flag) \(path): cannot read: \(Descriptor.describe(errno))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw InputError("\(flag) \(path): cannot read: \(Descriptor.describe(EISDIR))") }
        if let refusal = accept(st) { throw InputError("\(flag) \(path): \(refusal)") }
        switch Descriptor.readAll(fd, limit: limit.bytes) {
        case .success(let bytes): return bytes
        case .failure(let error) where error.code == EFBIG: throw InputError("\(flag) \(path): \(limit)")
        case .failure(let error): throw InputError("\(flag) \(path): cannot read: \(error.description)")
        }
    }
}
