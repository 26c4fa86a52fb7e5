import DoctorCore
/// Every sysctl under /proc/sys/net/netfilter, found by listing (names differ by kernel version and build), and the
/// legacy `net.nf_conntrack_max`; in a sosreport also `sysctl -a`, with the line each value came from.
public struct SysctlProbe: Probe {
    public let name = "netfilter sysctls"

    public static let directory = "/proc/sys/net/netfilter"
    static let keyPrefix = "net.netfilter."
    /// Deeper than any real table (nf_log/<pf> is one level); guards against link loops in copied trees.
    static let maxDepth = 4

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        let host = context.host
        var table = Self.table(host)
        if !host.isLive, case .value(let text) = host.read(Self.sosreportSysctls, limit: .commandOutput) {
            var notes: [String] = []
            table = Self.merge(table, sysctlA: Self.parseSysctlA(text, cite: host.cite(Self.sosreportSysctls)), notes: &notes)
            if !notes.isEmpty { snapshot.sourceNotes = (snapshot.sourceNotes ?? []) + notes }
        }
        var sysctls = SysctlTable(entries: table)
        if !host.isLive, case .absent = table {
            sysctls.uncollected = host.isSosreport
                ? "the sosreport holds neither \(host.cite(Self.directory)) nor \(host.cite(Self.sosreportSysctls)) (its kernel plugin did not run)"
                : "the copied tree holds no \(Self.directory)"
        }
        snapshot.sysctls = sysctls
        if snapshot.host.netns.initial == nil { Self.decideInitial(&snapshot.host.netns, table.value ?? [:]) }
    }

    /// When the namespace could not be told from the /proc/sys listing (a sosreport without that copy), a key that
    /// only the initial namespace shows, read from `sysctl -a`, tells it.
    static func decideInitial(_ netns: inout NetnsIdentity, _ entries: [String: SysctlEntry]) {
        for key in [SysctlKey.logAllNetns, SysctlKey.legacyConntrackMax] {
            guard let entry = entries[key.name] else { continue }
            netns.initial = true
            netns.basis = "\(key.name) is present (\(entry.source ?? key.path)), and it exists only in the initial namespace"
            return
        }
    }

    /// `sysctl -a` as a sosreport keeps it.
    public static let sosreportSysctls = "/sos_commands/kernel/sysctl_-a"

    /// Whether `sysctl -a` and the listing keep a key: the netfilter ones and the legacy `net.nf_conntrack_max`.
    static func isKept(_ key: some StringProtocol) -> Bool {
        key.hasPrefix(keyPrefix) || key == SysctlKey.legacyConntrackMax.name
    }

    /// "net.netfilter.nf_conntrack_max = 131072" lines → key → (value, where), netfilter keys only.
    static func parseSysctlA(_ text: String, cite: String) -> [String: (value: String, source: String)] {
        var values: [String: (value: String, source: String)] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmingWhitespace()
            guard isKept(key) else { continue }
            values[key] = (String(line[line.index(after: eq)...]).trimmingWhitespace(), "\(cite):\(index + 1)")
        }
        return values
    }

    /// The copied /proc/sys files win where both exist (they are the files themselves; the two were read at
    /// different moments, so counters may differ, and each difference becomes a note); `sysctl -a` fills the keys
    /// the copy lacks, and the whole table when there is no copy.
    static func merge(
        _ table: Reading<[String: SysctlEntry]>, sysctlA: [String: (value: String, source: String)], notes: inout [String]
    ) -> Reading<[String: SysctlEntry]> {
        guard !sysctlA.isEmpty else { return table }
        var entries = table.value ?? [:]
        for (key, line) in sysctlA.sorted(by: { $0.key < $1.key }) {
            guard let copied = entries[key]?.value.value else {
                entries[key] = SysctlEntry(value: .value(line.value), source: line.source)
                continue
            }
            if copied != line.value {
                notes.append("\(key): \(entries[key]?.source ?? path(key)) holds \(copied), \(line.source) printed \(line.value) (read at different moments; the /proc/sys copy is used)")
            }
        }
        return .value(entries)
    }

    static func path(_ key: String) -> String { SysctlTable.path(of: key).dropFirst().description }

    static func table(_ host: HostRoot) -> Reading<[String: SysctlEntry]> {
        host.list(directory).map { names in
            var entries: [String: SysctlEntry] = [:]
            walk(host, directory: directory, relative: [], names: names, depth: 0, into: &entries)
            let legacy = SysctlKey.legacyConntrackMax
            if host.exists(legacy.path) { entries[legacy.name] = entry(host, legacy.path) }
            return entries
        }
    }

    private static func entry(_ host: HostRoot, _ path: String, value: Reading<String>? = nil) -> SysctlEntry {
        // A sosreport's copies carry the modes of whoever unpacked them, not the kernel's: no mode is kept.
        let sos = host.isSosreport
        return SysctlEntry(value: value ?? host.readTrimmed(path), mode: sos ? nil : host.mode(path), source: sos ? host.cite(path) : nil)
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
                    entries[key(parts)] = entry(host, path, value: problem)
                    continue
                }
            }
            entries[key(parts)] = entry(host, path)
        }
    }

    static func key(_ parts: [String]) -> String { keyPrefix + parts.joined(separator: ".") }
}
