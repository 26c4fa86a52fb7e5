import CLinux
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

    /// The whole file as UTF-8 text (procfs files report size 0, so this reads to EOF, up to `limit`).
    public func read(_ hostPath: String, limit: ReadLimit = .procListing) -> Reading<String> {
        readBytes(hostPath, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The file's text with surrounding white space removed, as sysctl prints it.
    public func readTrimmed(_ hostPath: String, limit: ReadLimit = .sysctlValue) -> Reading<String> {
        read(hostPath, limit: limit).map { $0.trimmingWhitespace() }
    }

    /// The file's bytes, or `.failed` naming the file and the limit when it holds more than `limit` (a regular file
    /// is judged by its size before anything is read; a device, FIFO or /proc file by reading one byte past it).
    public func readBytes(_ hostPath: String, limit: ReadLimit = .procListing) -> Reading<[UInt8]> {
        let fd = openInTree(hostPath, O_RDONLY | O_NONBLOCK)
        if fd < 0 { return Self.reading(errno: errno, hostPath) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > limit.bytes {
            return .failed("\(hostPath): \(limit) (it holds \(st.st_size) bytes)")
        }
        var bytes: [UInt8] = []
        // Reads start at a page and grow: a /proc/sys read makes the kernel allocate and zero a buffer as large as
        // the read, and most /proc and /sys files are a few bytes. A regular file's size is known: one read holds it.
        let maxChunk = 1 << 20
        var chunk = (st.st_mode & S_IFMT) == S_IFREG && st.st_size > 0 ? min(Int(st.st_size) + 1, maxChunk) : 4096
        while true {
            let want = min(chunk, limit.bytes + 1 - bytes.count)
            let n = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: want) { buffer in
                let n = Glibc.read(fd, buffer.baseAddress, want)
                if n > 0 { bytes.append(contentsOf: buffer[0..<n]) }
                return n
            }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                return Self.reading(errno: errno, hostPath)
            }
            if bytes.count > limit.bytes { return .failed("\(hostPath): \(limit)") }
            if n == want { chunk = min(chunk * 4, maxChunk) }
        }
        return .value(bytes)
    }

    /// Replaces a file's contents (a /proc/sys value, or a file in a copied tree). Returns nil on success, or why not.
    public func write(_ hostPath: String, _ text: String, create: Bool = false) -> String? {
        let fd = openInTree(hostPath, O_WRONLY | O_TRUNC | (create ? O_CREAT : 0), mode: 0o644)
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

    /// Creates a folder and its parents (mode 0755). Returns nil on success, or why not. In a copied tree a link on
    /// the way is followed inside it, so the folders made are the ones a later write through the same path reaches.
    public func makeDirectories(_ hostPath: String) -> String? {
        let target = isLive ? hostPath : "/" + resolveInTree(hostPath, followLast: true)
        var path = ""
        for part in target.split(separator: "/") {
            let parent = path.isEmpty ? "/" : path
            path += "/" + part
            let made = inParent(parent) { dir in mkdirat(dir, String(part), 0o755) }
            if made != 0 && errno != EEXIST { return "\(path): \(Self.describe(errno: errno))" }
        }
        return nil
    }

    /// Removes a file. Returns nil on success (or when it was not there), or why not.
    public func remove(_ hostPath: String) -> String? {
        let name = hostPath.split(separator: "/").last.map(String.init) ?? ""
        let removed = inParent(Self.parent(of: hostPath)) { dir in unlinkat(dir, name, 0) }
        return removed == 0 || errno == ENOENT ? nil : "\(hostPath): \(Self.describe(errno: errno))"
    }

    /// Names in a directory, sorted, without "." and "..". A name that is not UTF-8 is kept (see `decodeName`), so
    /// its file can still be read.
    public func list(_ hostPath: String) -> Reading<[String]> {
        let fd = openInTree(hostPath, O_RDONLY | O_DIRECTORY)
        if fd < 0 { return Self.reading(errno: errno, hostPath) }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            return Self.reading(errno: code, hostPath)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Self.decodeName(raw.prefix { $0 != 0 }) }
            if name != "." && name != ".." { names.append(name) }
        }
        return .value(names.sorted())
    }

    /// Whether anything is there, a dangling link included.
    public func exists(_ hostPath: String) -> Bool {
        status(hostPath, followLast: false) != nil
    }

    public func isDirectory(_ hostPath: String) -> Bool {
        status(hostPath).map { ($0.st_mode & S_IFMT) == S_IFDIR } ?? false
    }

    /// Permission bits (e.g. 0o644).
    public func mode(_ hostPath: String) -> UInt16? {
        status(hostPath).map { UInt16($0.st_mode & 0o7777) }
    }

    /// Inode number of the file a path names (following links).
    public func inode(_ hostPath: String) -> UInt64? {
        status(hostPath).map { UInt64($0.st_ino) }
    }

    /// The target of a symbolic link, e.g. "net:[4026531833]" for /proc/self/ns/net.
    public func readLink(_ hostPath: String) -> Reading<String> {
        let fd = openInTree(hostPath, ctd_O_PATH | O_NOFOLLOW, followLast: false)
        if fd < 0 { return Self.reading(errno: errno, hostPath) }
        defer { close(fd) }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlinkat(fd, "", &buffer, buffer.count - 1)
        if n < 0 { return Self.reading(errno: errno, hostPath) }
        return .value(Self.decodeName(buffer[0..<n].map { UInt8(bitPattern: $0) }))
    }

    /// stat(2) (or lstat(2)) of what the path names, through a descriptor opened inside the tree.
    private func status(_ hostPath: String, followLast: Bool = true) -> stat? {
        let fd = openInTree(hostPath, ctd_O_PATH | (followLast ? 0 : O_NOFOLLOW), followLast: followLast)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        return fstat(fd, &st) == 0 ? st : nil
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
