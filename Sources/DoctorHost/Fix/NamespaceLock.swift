import DoctorCore
import Foundation

/// One changer of a network namespace at a time: `fix --apply`, `fix --undo` and the wizard's temporary changes hold
/// this lock while they read what to change and change it, so a second run never records a value the first one set
/// as "previous". It is an flock(2) on `netns-<inode>.lock` in the journal folder (/var/lib/ctdoctor), holding the
/// holder's pid; the kernel drops it when the holder exits, however it exits. The file is removed on release.
///
/// Taking it again in the process that holds it returns a lock that releases nothing, so a caller holding it (the
/// wizard) can call code that takes it too (apply, undo).
public final class NamespaceLock: @unchecked Sendable {
    public let path: String
    private var fd: Int32
    private let owner: Bool

    public static let defaultWait = 5.0

    /// Takes the lock for the namespace with this inode (nil: not known, e.g. a copied tree), waiting up to `wait`
    /// seconds for another holder; `waiting` hears once who it waits for. `fallbackFolder` is used when the journal
    /// folder cannot be created (a read-only /var with `--journal` elsewhere); a copied tree with neither gets a lock
    /// that holds nothing.
    public static func acquire(
        host: HostRoot, netns inode: UInt64?, wait: Double = defaultWait, fallbackFolder: String? = nil,
        waiting: (String) -> Void = { _ in }
    ) throws(InputError) -> NamespaceLock {
        let name = "netns-\(inode.map(String.init) ?? "unknown").lock"
        if let held = Held.shared.path(named: name) { return NamespaceLock(path: held, fd: -1, owner: false) }
        guard let folder = try folder(host: host, fallback: fallbackFolder) else {
            // A copied tree with no folder to lock in: no namespace to protect, and nothing else to hold.
            return NamespaceLock(path: "", fd: -1, owner: false)
        }
        let path = "\(folder)/\(name)"
        let deadline = Date().addingTimeInterval(wait)
        var told = false
        while true {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw InputError("lock \(path): cannot open: \(Descriptor.describe(errno))") }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                // The holder before may have removed the file between our open and our lock: the lock must be on
                // the file the path names now.
                var mine = stat(), named = stat()
                if fstat(fd, &mine) == 0, stat(path, &named) == 0, mine.st_ino == named.st_ino, mine.st_dev == named.st_dev {
                    _ = ftruncate(fd, 0)
                    _ = Descriptor.writeAll(fd, "\(getpid())\n")
                    Held.shared.insert(path)
                    return NamespaceLock(path: path, fd: fd, owner: true)
                }
                close(fd)
                continue
            }
            let code = errno
            let holder = holderPid(fd)
            close(fd)
            guard code == EWOULDBLOCK else { throw InputError("lock \(path): \(Descriptor.describe(code))") }
            let who = "another ctdoctor (pid \(holder.map(String.init) ?? "unknown"))"
            if Date() >= deadline {
                throw InputError("""
                    \(who) is changing network namespace \(inode.map(String.init) ?? "(unknown)") and holds \(path); \
                    waited \(Int(wait)) s: try again when it has finished
                    """)
            }
            if !told {
                waiting("waiting for \(who), which is changing this network namespace")
                told = true
            }
            usleep(100_000)
        }
    }

    private init(path: String, fd: Int32, owner: Bool) {
        self.path = path
        self.fd = fd
        self.owner = owner
    }

    /// Gives the lock up (also when the value goes away). The file goes first, while still locked, so nobody else
    /// can lock it in between and believe they hold the namespace.
    public func release() {
        guard owner, fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
        Held.shared.remove(path)
    }

    deinit { release() }

    /// The journal folder (created 0700), else `fallback`; nil for a copied tree that has neither.
    static func folder(host: HostRoot, fallback: String?) throws(InputError) -> String? {
        let folder = host.resolve(Journal.folder)
        if mkdir(folder, 0o700) == 0 || errno == EEXIST { return folder }
        let why = Descriptor.describe(errno)
        if let fallback { return fallback }
        if !host.isLive { return nil }
        throw InputError("journal folder \(folder): cannot create: \(why); give --journal FILE")
    }

    private static func holderPid(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Lock paths this process holds: one namespace's lock is held once, whichever folder it is in.
    private final class Held: @unchecked Sendable {
        static let shared = Held()
        private let mutex = NSLock()
        private var paths: Set<String> = []

        func path(named name: String) -> String? { mutex.withLock { paths.first { $0.hasSuffix("/" + name) } } }
        func insert(_ path: String) { mutex.withLock { _ = paths.insert(path) } }
        func remove(_ path: String) { mutex.withLock { _ = paths.remove(path) } }
    }
}
