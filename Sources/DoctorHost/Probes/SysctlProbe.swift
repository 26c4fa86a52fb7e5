import DoctorCore
/// Every sysctl under /proc/sys/net/netfilter, found by listing (names differ by kernel version and build).
public struct SysctlProbe: Probe {
    public let name = "netfilter sysctls"

    public static let directory = "/proc/sys/net/netfilter"
    static let keyPrefix = "net.netfilter."
    /// Deeper than any real table (nf_log/<pf> is one level); guards against link loops in copied trees.
    static let maxDepth = 4

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        var table = Self.table(context.host)
        if !context.host.isLive, case .value(let text) = context.host.read(Self.sosreportSysctls) {
            var notes: [String] = []
            table = Self.merge(table, sysctlA: Self.parseSysctlA(text), notes: &notes)
            if !notes.isEmpty { snapshot.sourceNotes = (snapshot.sourceNotes ?? []) + notes }
        }
        snapshot.sysctls = SysctlTable(entries: table)
    }

    /// `sysctl -a` as a sosreport keeps it.
    public static let sosreportSysctls = "/sos_commands/kernel/sysctl_-a"

    /// "net.netfilter.nf_conntrack_max = 131072" lines → key → value (net.netfilter.* only).
    static func parseSysctlA(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(keyPrefix) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq]).trimmingWhitespace()] = String(line[line.index(after: eq)...]).trimmingWhitespace()
        }
        return values
    }

    /// The copied /proc/sys files win where both exist (they are the files themselves; the two were read at
    /// different moments, so counters may differ, and each difference becomes a note); `sysctl -a` fills the keys
    /// the copy lacks, and the whole table when there is no copy.
    static func merge(
        _ table: Reading<[String: SysctlEntry]>, sysctlA: [String: String], notes: inout [String]
    ) -> Reading<[String: SysctlEntry]> {
        guard !sysctlA.isEmpty else { return table }
        var entries = table.value ?? [:]
        for (key, value) in sysctlA.sorted(by: { $0.key < $1.key }) {
            guard let copied = entries[key]?.value.value else {
                entries[key] = SysctlEntry(value: .value(value))
                continue
            }
            if copied != value {
                notes.append("\(key): \(path(key)) holds \(copied), sysctl -a printed \(value) (read at different moments; the /proc/sys copy is used)")
            }
        }
        return .value(entries)
    }

    static func path(_ key: String) -> String { SysctlTable.path(of: key).dropFirst().description }

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
