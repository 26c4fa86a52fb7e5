/// Every sysctl under /proc/sys/net/netfilter, found by listing (names differ by kernel version and build).
public struct SysctlProbe: Probe {
    public let name = "netfilter sysctls"

    public static let directory = "/proc/sys/net/netfilter"
    static let keyPrefix = "net.netfilter."
    /// Deeper than any real table (nf_log/<pf> is one level); guards against link loops in copied trees.
    static let maxDepth = 4

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.sysctls = SysctlTable(entries: Self.table(context.host))
    }

    static func table(_ host: HostRoot) -> Reading<[String: SysctlEntry]> {
        host.list(directory).map { names in
            var entries: [String: SysctlEntry] = [:]
            walk(host, directory: directory, relative: [], names: names, depth: 0, into: &entries)
            return entries
        }
    }

    private static func walk(
        _ host: HostRoot, directory: String, relative: [String], names: [String], depth: Int,
        into entries: inout [String: SysctlEntry]
    ) {
        for name in names {
            let path = directory + "/" + name
            let parts = relative + [name]
            if host.isDirectory(path), depth < maxDepth {
                let listing = host.list(path)
                switch listing {
                case .value(let children) where !children.isEmpty:
                    walk(host, directory: path, relative: parts, names: children, depth: depth + 1, into: &entries)
                    continue
                case .value:
                    // An empty folder holds no sysctl; procfs never has one, so in a copied tree it stands where a
                    // file should be. Reading it below reports that (EISDIR) instead of dropping the name silently.
                    break
                case .absent, .denied, .failed:
                    // Keep the folder's own problem (absent, denied or failed) under its name.
                    let problem: Reading<String> = listing.flatMap { _ in .failed("\(path): unreadable folder") }
                    entries[key(parts)] = SysctlEntry(value: problem, mode: host.mode(path))
                    continue
                }
            }
            entries[key(parts)] = SysctlEntry(value: host.readTrimmed(path), mode: host.mode(path))
        }
    }

    static func key(_ parts: [String]) -> String { keyPrefix + parts.joined(separator: ".") }
}
