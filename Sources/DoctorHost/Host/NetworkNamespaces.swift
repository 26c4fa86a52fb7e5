import DoctorCore
import Netfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A network namespace to check, and how it was found.
public struct NamespaceRef: Sendable, Equatable {
    /// The file setns opens: /run/netns/NAME or /proc/PID/ns/net.
    public var path: String
    /// The nsfs inode, the namespace's identity (what `net:[N]` shows).
    public var inode: UInt64
    /// How it was found, for the report: "ctdoctor's own", "/run/netns/blue", "pid 812 (nginx)".
    public var found: String

    public init(path: String, inode: UInt64, found: String) {
        self.path = path
        self.inode = inode
        self.found = found
    }
}

/// `--netns NAME|PID` and `--all-netns`: finding network namespaces and moving the process into them.
///
/// The move is setns(CLONE_NEWNET) on the main thread, before any probe runs: /proc/sys/net follows the calling
/// thread, but /proc/net and /proc/self/ns/net follow the thread group leader, so only a main-thread switch puts
/// every procfs path, ctnetlink socket and spawned command (nft, iptables-save) in the same namespace.
public enum NetworkNamespaces {
    /// A name under /run/netns, or a process id whose namespace to use.
    public static func resolve(_ spec: String) throws(InputError) -> NamespaceRef {
        let path: String
        let found: String
        if !spec.isEmpty, spec.allSatisfy(\.isNumber) {
            path = "/proc/\(spec)/ns/net"
            found = "pid \(spec)" + (command(ofPID: spec).map { " (\($0))" } ?? "")
        } else {
            guard !spec.contains("/"), spec != ".", spec != ".." else {
                throw InputError("--netns \(spec): not a name under /run/netns or a process id")
            }
            path = "/run/netns/" + spec
            found = path
        }
        guard let inode = inode(path) else {
            let code = errno
            let what = switch (path.hasPrefix("/proc"), code) {
            case (true, ENOENT): "no such process"
            case (false, ENOENT): "no such named namespace"
            case (true, EACCES), (true, EPERM): "cannot read its namespace (another user's process needs CAP_SYS_PTRACE)"
            default: "cannot read it"
            }
            throw InputError("--netns \(spec): \(what): \(path): \(HostRoot.describe(errno: code))")
        }
        return NamespaceRef(path: path, inode: inode, found: found)
    }

    /// ctdoctor's own namespace first, then pid 1's (the initial one when the PID namespace is the host's), every
    /// name under /run/netns, and every running process's namespace: each distinct inode once, in that order.
    public static func all() -> [NamespaceRef] {
        var candidates: [(path: String, found: String)] = [("/proc/self/ns/net", "ctdoctor's own"), ("/proc/1/ns/net", "pid 1")]
        let host = HostRoot()
        if case .value(let names) = host.list("/run/netns") {
            candidates += names.map { ("/run/netns/" + $0, "/run/netns/" + $0) }
        }
        if case .value(let entries) = host.list("/proc") {
            let pids = entries.compactMap(Int.init).sorted()
            candidates += pids.map { ("/proc/\($0)/ns/net", "pid \($0)") }
        }
        var seen: Set<UInt64> = []
        var refs: [NamespaceRef] = []
        for candidate in candidates {
            guard let inode = inode(candidate.path), seen.insert(inode).inserted else { continue }
            var found = candidate.found
            if found.hasPrefix("pid "), let comm = command(ofPID: String(found.dropFirst(4))) { found += " (\(comm))" }
            refs.append(NamespaceRef(path: candidate.path, inode: inode, found: found))
        }
        return refs
    }

    /// Moves ctdoctor (its main thread) into `ref`'s namespace for good.
    public static func enter(_ ref: NamespaceRef) throws(InputError) {
        do {
            try NetnsSwitch.enter(ref.path)
        } catch {
            let hint = error.errno == EPERM ? " (setns needs CAP_SYS_ADMIN)" : ""
            throw InputError("--netns: cannot enter \(ref.found): \(error.operation): \(HostRoot.describe(errno: error.errno))\(hint)")
        }
    }

    /// Runs `body` in each namespace in turn and comes back to the starting one afterwards. A namespace that went
    /// away since it was listed (its process exited, its name was deleted) is left out, and so is a path that names
    /// another namespace by the time it is entered (a pid reused, a process that moved, a name deleted and made
    /// again): that namespace is either listed under its own path or was not there when the list was made.
    public static func forEach<T>(_ refs: [NamespaceRef], _ body: (NamespaceRef) throws(InputError) -> T) throws(InputError) -> [T] {
        let home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw InputError("/proc/self/ns/net: \(HostRoot.describe(errno: errno))") }
        defer { close(home) }
        let homeRef = NamespaceRef(path: "/proc/self/fd/\(home)", inode: 0, found: "ctdoctor's own")
        defer { try? enter(homeRef) }
        var results: [T] = []
        for ref in refs {
            do {
                try NetnsSwitch.enter(ref.path)
            } catch {
                if error.errno == ENOENT || error.errno == ESRCH { continue }
                try enter(ref)
            }
            guard inode("/proc/self/ns/net") == ref.inode else { continue }
            results.append(try body(ref))
        }
        return results
    }

    /// The nsfs inode a namespace file names, or nil (errno set by stat) when it cannot be reached.
    static func inode(_ path: String) -> UInt64? { HostRoot().inode(path) }

    static func command(ofPID pid: String) -> String? {
        HostRoot().readTrimmed("/proc/\(pid)/comm").value
    }
}
