import DoctorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The folder probes read the host from: "/" on a live host, or a copied tree (`--root DIR`).
/// Every read returns a `Reading`, so a missing or unreadable file is a fact, never a crash.
public struct HostRoot: Sendable, Equatable {
    public let path: String

    public init(_ path: String = "/") {
        self.path = path
    }

    public var isLive: Bool { path == "/" }

    /// The real path of an absolute host path under this root.
    ///
    /// In a copied tree, a regular file standing where a folder is needed is taken as a symbolic link stored as a
    /// plain file holding its target (sosreport does this: `proc/net` holds "self/net", `proc/self` holds "96008"),
    /// and followed, relative to its folder or to the root.
    public func resolve(_ hostPath: String) -> String {
        if isLive { return hostPath }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        var parts = hostPath.split(separator: "/").map(String.init)
        var done: [String] = []
        var followed = 0
        while !parts.isEmpty {
            let part = parts.removeFirst()
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = done.popLast(); continue }
            let here = base + "/" + (done + [part]).joined(separator: "/")
            if !parts.isEmpty, followed < 16, let target = Self.storedLinkTarget(here) {
                followed += 1
                if target.hasPrefix("/") { done = [] }
                parts = target.split(separator: "/").map(String.init) + parts
                continue
            }
            done.append(part)
        }
        return base + "/" + done.joined(separator: "/")
    }

    /// The text of a small regular file that stands where a folder should be: a link target stored as a file.
    private static func storedLinkTarget(_ real: String) -> String? {
        var st = stat()
        guard lstat(real, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0, st.st_size < 256 else { return nil }
        guard case .value(let bytes) = HostRoot("/").readBytes(real) else { return nil }
        let target = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        return target.isEmpty || target.contains("\n") ? nil : target
    }

    /// The whole file as UTF-8 text (procfs files report size 0, so this reads to EOF).
    public func read(_ hostPath: String) -> Reading<String> {
        readBytes(hostPath).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The file's text with surrounding white space removed, as sysctl prints it.
    public func readTrimmed(_ hostPath: String) -> Reading<String> {
        read(hostPath).map { $0.trimmingWhitespace() }
    }

    public func readBytes(_ hostPath: String) -> Reading<[UInt8]> {
        let real = resolve(hostPath)
        let fd = open(real, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { return Self.reading(errno: errno, hostPath) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                return Self.reading(errno: errno, hostPath)
            }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return .value(bytes)
    }

    /// Replaces a file's contents (a /proc/sys value, or a file in a copied tree). Returns nil on success, or why not.
    public func write(_ hostPath: String, _ text: String, create: Bool = false) -> String? {
        let fd = open(resolve(hostPath), O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0), 0o644)
        if fd < 0 { return "\(hostPath): \(Self.describe(errno: errno))" }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let writeErrno = errno
        let closed = close(fd)
        if n < 0 { return "\(hostPath): \(Self.describe(errno: writeErrno))" }
        if n != bytes.count { return "\(hostPath): short write (\(n) of \(bytes.count) bytes)" }
        if closed != 0 { return "\(hostPath): \(Self.describe(errno: errno))" }
        return nil
    }

    /// Creates a folder and its parents (mode 0755). Returns nil on success, or why not.
    public func makeDirectories(_ hostPath: String) -> String? {
        var path = ""
        for part in hostPath.split(separator: "/") {
            path += "/" + part
            if mkdir(resolve(path), 0o755) != 0 && errno != EEXIST { return "\(path): \(Self.describe(errno: errno))" }
        }
        return nil
    }

    /// Removes a file. Returns nil on success (or when it was not there), or why not.
    public func remove(_ hostPath: String) -> String? {
        unlink(resolve(hostPath)) == 0 || errno == ENOENT ? nil : "\(hostPath): \(Self.describe(errno: errno))"
    }

    /// Names in a directory, sorted, without "." and "..".
    public func list(_ hostPath: String) -> Reading<[String]> {
        guard let dir = opendir(resolve(hostPath)) else { return Self.reading(errno: errno, hostPath) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return .value(names.sorted())
    }

    public func exists(_ hostPath: String) -> Bool {
        var st = stat()
        return lstat(resolve(hostPath), &st) == 0
    }

    public func isDirectory(_ hostPath: String) -> Bool {
        var st = stat()
        return stat(resolve(hostPath), &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Permission bits (e.g. 0o644).
    public func mode(_ hostPath: String) -> UInt16? {
        var st = stat()
        guard stat(resolve(hostPath), &st) == 0 else { return nil }
        return UInt16(st.st_mode & 0o7777)
    }

    /// Inode number of the file a path names (following links).
    public func inode(_ hostPath: String) -> UInt64? {
        var st = stat()
        guard stat(resolve(hostPath), &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }

    /// The target of a symbolic link, e.g. "net:[4026531833]" for /proc/self/ns/net.
    public func readLink(_ hostPath: String) -> Reading<String> {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(resolve(hostPath), &buffer, buffer.count - 1)
        if n < 0 { return Self.reading(errno: errno, hostPath) }
        return .value(String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// Maps an errno to the reading a check understands.
    static func reading<V>(errno code: Int32, _ hostPath: String) -> Reading<V> {
        let text = "\(hostPath): \(Self.describe(errno: code))"
        switch code {
        case ENOENT, ENOTDIR: return .absent(text)
        case EACCES, EPERM: return .denied(text)
        default: return .failed(text)
        }
    }

    public static func describe(errno code: Int32) -> String {
        String(cString: strerror(code))
    }
}
