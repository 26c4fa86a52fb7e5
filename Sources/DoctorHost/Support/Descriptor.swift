#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Whole reads and writes on a file descriptor, EINTR retried, the errno kept for the message.
public enum Descriptor {
    /// Writes every byte, or returns the errno of the write that failed.
    public static func writeAll(_ fd: Int32, _ text: String) -> Int32? {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }
            bytes = bytes.dropFirst(n)
        }
        return nil
    }

    /// Reads to end of file, blocking (a pipe is read until its writer closes it), or returns the errno; EFBIG once
    /// more than `limit` bytes came.
    public static func readAll(_ fd: Int32, limit: Int = .max) -> Result<[UInt8], Errno> {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return .success(bytes) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Errno(errno))
            }
            if bytes.count + n > limit { return .failure(Errno(EFBIG)) }
            bytes.append(contentsOf: chunk[0..<n])
        }
    }

    /// fsync of a folder, so a rename or a new name in it survives a crash. Filesystems that cannot sync a folder
    /// (EINVAL) have nothing more to do.
    public static func syncFolder(_ path: String) -> Int32? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { return errno }
        defer { close(fd) }
        return fsync(fd) == 0 || errno == EINVAL ? nil : errno
    }

    public static func describe(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// An errno as an Error, for Result.
    public struct Errno: Error, Equatable, Sendable {
        public var code: Int32
        public init(_ code: Int32) { self.code = code }
        public var description: String { Descriptor.describe(code) }
    }
}
