import CLinux
import DoctorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Paths inside a copied tree (`--root`, `--sos`) stay inside it, as sos itself intends: an absolute link is taken
/// under the tree's root, `..` stops at it, and a link loop ends in ELOOP. A sosreport whose `hostname` links to
/// /etc/shadow reads the tree's etc/shadow (usually absent), never the analysing host's.
///
/// Two layers: `resolve` follows links in userspace (it must, to follow sosreport's links stored as plain files),
/// and every open goes through `openInTree`, where the kernel enforces the same rule with openat2(RESOLVE_IN_ROOT)
/// (Linux 5.6+). Where openat2 is missing, each step is opened with O_NOFOLLOW from the tree's root, so a link that
/// appeared after `resolve` looked (a race, or a loop it gave up on) fails instead of being followed.
extension HostRoot {
    /// Links followed in one path before giving up, as the kernel's MAXSYMLINKS.
    static let maxLinks = 40

    /// The tree's folder without a trailing slash.
    var base: String { path.hasSuffix("/") ? String(path.dropLast()) : path }

    /// The real path of an absolute host path under this root.
    ///
    /// In a copied tree, symbolic links are followed inside it (an absolute target is re-rooted, `..` never climbs
    /// above the root), and a regular file standing where a folder is needed is taken as a symbolic link stored as a
    /// plain file holding its target (sosreport does this: `proc/net` holds "self/net", `proc/self` holds "96008"),
    /// and followed the same way. `followLast: false` leaves a link in the last component as it is (lstat, readlink).
    public func resolve(_ hostPath: String, followLast: Bool = true) -> String {
        if isLive { return hostPath }
        let relative = resolveInTree(hostPath, followLast: followLast)
        return relative.isEmpty ? base : base + "/" + relative
    }

    /// The path relative to the tree's root, every link in it resolved inside the tree.
    func resolveInTree(_ hostPath: String, followLast: Bool) -> String {
        var parts = hostPath.split(separator: "/").map(String.init)
        var done: [String] = []
        var followed = 0
        while !parts.isEmpty {
            let part = parts.removeFirst()
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = done.popLast(); continue }
            let here = base + "/" + (done + [part]).joined(separator: "/")
            let isLast = parts.isEmpty
            if followed < Self.maxLinks, !isLast || followLast, let target = Self.linkTarget(here) ?? (isLast ? nil : Self.storedLinkTarget(here)) {
                followed += 1
                if target.hasPrefix("/") { done = [] }
                parts = target.split(separator: "/").map(String.init) + parts
                continue
            }
            done.append(part)
        }
        return done.joined(separator: "/")
    }

    /// The target of a real symbolic link, or nil when `real` is not one.
    private static func linkTarget(_ real: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(fileSystemPath(real), &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return decodeName(buffer[0..<n].map { UInt8(bitPattern: $0) })
    }

    /// The text of a small regular file that stands where a folder should be: a link target stored as a file.
    private static func storedLinkTarget(_ real: String) -> String? {
        let fd = open(fileSystemPath(real), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0, st.st_size < 256 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 256)
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        let target = String(decoding: bytes[0..<n], as: UTF8.self).trimmingWhitespace()
        return target.isEmpty || target.contains("\n") ? nil : target
    }

    /// Opens a host path: on a live host as it is; in a copied tree resolved inside it, with the kernel keeping every
    /// step there. Returns the descriptor (close-on-exec), or -1 with errno set.
    func openInTree(_ hostPath: String, _ flags: Int32, mode: mode_t = 0, followLast: Bool = true) -> Int32 {
        if isLive { return open(Self.fileSystemPath(hostPath), flags | O_CLOEXEC, mode) }
        let relative = resolveInTree(hostPath, followLast: followLast)
        let root = open(Self.fileSystemPath(base), ctd_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if root < 0 { return -1 }
        defer { close(root) }
        let flags = flags | O_CLOEXEC | (followLast ? 0 : O_NOFOLLOW)
        let target = relative.isEmpty ? "." : relative
        // openat2 refuses a mode without O_CREAT (EINVAL), where open(2) ignores it.
        let createMode = flags & O_CREAT != 0 ? UInt64(mode) : 0
        let fd = ctd_openat_in_root(root, Self.fileSystemPath(target), UInt64(UInt32(bitPattern: flags)), createMode)
        if fd >= 0 || (errno != ENOSYS && errno != EAGAIN) { return fd }
        return Self.openStepByStep(root, relative, flags, mode: mode)
    }

    /// Without openat2: every folder on the way opened with O_NOFOLLOW from the root, and the last component too,
    /// so nothing is followed that `resolve` did not already follow inside the tree.
    static func openStepByStep(_ root: Int32, _ relative: String, _ flags: Int32, mode: mode_t) -> Int32 {
        let parts = relative.split(separator: "/").map(String.init)
        guard let last = parts.last else { return openat(root, ".", flags, mode) }
        var folder = dup(root)
        for part in parts.dropLast() {
            let next = openat(folder, fileSystemPath(part), ctd_O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(folder)
            if next < 0 { errno = code; return -1 }
            folder = next
        }
        let fd = openat(folder, fileSystemPath(last), flags | O_NOFOLLOW, mode)
        let code = errno
        close(folder)
        errno = code
        return fd
    }

    /// Runs `body` with a descriptor of the folder `hostPath` (opened inside the tree); -1 with errno when it cannot be
    /// opened.
    func inParent(_ hostPath: String, _ body: (Int32) -> Int32) -> Int32 {
        let dir = openInTree(hostPath, ctd_O_PATH | O_DIRECTORY)
        if dir < 0 { return -1 }
        defer { close(dir) }
        return body(dir)
    }

    static func parent(of hostPath: String) -> String {
        guard let slash = hostPath.lastIndex(of: "/"), slash != hostPath.startIndex else { return "/" }
        return String(hostPath[..<slash])
    }

    // MARK: file names that are not UTF-8

    /// A byte of a file name that is not part of valid UTF-8 is kept as U+F780 + (byte − 0x80), a private-use
    /// character, so the name can be shown and the file still opened (`fileSystemPath` turns it back).
    static let rawByteBase: UInt32 = 0xF700

    static func decodeName<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var pending = Array(bytes)[...]
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                scalars.append(Unicode.UTF8.decode(encoded))
                pending = pending.dropFirst(encoded.count)
            case .error(let length):
                for byte in pending.prefix(length) { scalars.append(Unicode.Scalar(rawByteBase + UInt32(byte))!) }
                pending = pending.dropFirst(length)
            case .emptyInput:
                return String(scalars)
            }
        }
    }

    /// The bytes to hand the kernel for a path: UTF-8, with the raw bytes `decodeName` kept turned back.
    static func fileSystemPath(_ path: String) -> [CChar] {
        // Nearly every path has no raw byte: its UTF-8 is the file name (every file a check opens comes through here).
        guard path.unicodeScalars.contains(where: { $0.value >= rawByteBase + 0x80 && $0.value <= rawByteBase + 0xFF }) else {
            return Array(path.utf8CString)
        }
        var bytes: [CChar] = []
        for u in path.unicodeScalars {
            if u.value >= rawByteBase + 0x80 && u.value <= rawByteBase + 0xFF {
                bytes.append(CChar(bitPattern: UInt8(u.value - rawByteBase)))
            } else {
                UTF8.encode(u) { bytes.append(CChar(bitPattern: $0)) }
            }
        }
        return bytes + [0]
    }

    /// A path as a person should see it: raw bytes of a name that is not UTF-8 as `\xFF`.
    public static func displayPath(_ path: String) -> String {
        guard path.unicodeScalars.contains(where: { $0.value >= rawByteBase + 0x80 && $0.value <= rawByteBase + 0xFF }) else { return path }
        var out = ""
        for u in path.unicodeScalars {
            if u.value >= rawByteBase + 0x80 && u.value <= rawByteBase + 0xFF {
                out += "\\x" + String(u.value - rawByteBase, radix: 16, uppercase: true)
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }
}
