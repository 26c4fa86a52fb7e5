import DoctorCore
/// Netfilter's pr_debug sites from the dynamic debug control file: /proc/dynamic_debug/control, or
/// <debugfs>/dynamic_debug/control (the only place before /proc got one, and still there when debugfs is mounted).
public struct DynamicDebugProbe: Probe {
    public let name = "dynamic debug"

    public static let procControl = SourcePath.dynamicDebugControl
    /// Where debugfs is mounted by convention; used when /proc/mounts cannot say (a copied root has none).
    public static let usualDebugfs = SourcePath.usualDebugfs

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.dynamicDebug = Self.read(context.host)
    }

    static func read(_ host: HostRoot) -> Reading<DynamicDebug> {
        let debugfs = host.read("/proc/mounts").value.flatMap(Self.debugfsMount)
        var candidates = [procControl]
        for mount in [debugfs, usualDebugfs].compactMap({ $0 }) where !candidates.contains(mount + "/dynamic_debug/control") {
            candidates.append(mount + "/dynamic_debug/control")
        }
        var problems: [Reading<String>] = []
        for path in candidates {
            let reading = host.read(path, limit: .dynamicDebug)
            guard let text = reading.value else {
                problems.append(reading)
                continue
            }
            var result = parse(text, control: path)
            result.debugfs = debugfs
            return .value(result)
        }
        let mounted = debugfs.map { "debugfs is mounted on \($0)" } ?? "debugfs is not mounted (or /proc/mounts is unreadable)"
        // A control file that exists but cannot be read says more than a missing one.
        return .worst(of: problems, text: problems.compactMap(\.problem).joined(separator: "; ") + "; \(mounted)")
    }

    /// The mount point of the first debugfs in /proc/mounts (`debugfs /sys/kernel/debug debugfs rw,… 0 0`).
    static func debugfsMount(_ mounts: String) -> String? {
        for line in mounts.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            if fields.count >= 3, fields[2] == "debugfs" { return String(fields[1]) }
        }
        return nil
    }

    /// Netfilter's sites: files under a netfilter/ folder (net/netfilter, net/ipv4/netfilter, net/ipv6/netfilter,
    /// net/bridge/netfilter, include/net/netfilter) and conntrack, NAT, logging, defrag and nf_tables modules.
    static let modulePrefixes = ["nf_conntrack", "nf_nat", "nf_log", "nf_defrag", "nf_tables", "nft_", "nfnetlink"]

    static func isNetfilter(_ site: DynamicDebugSite) -> Bool {
        site.file.contains("netfilter/") || modulePrefixes.contains { site.module.hasPrefix($0) }
    }

    public static func parse(_ text: String, control: String) -> DynamicDebug {
        var result = DynamicDebug(control: control)
        var counts: [String: [String: (total: Int, enabled: Int)]] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            guard let site = parseLine(Substring(raw)) else { continue }
            result.totalSites += 1
            guard isNetfilter(site) else { continue }
            var files = counts[site.module] ?? [:]
            var c = files[site.file] ?? (0, 0)
            c.total += 1
            if site.isEnabled {
                c.enabled += 1
                result.enabled.append(site)
            }
            files[site.file] = c
            counts[site.module] = files
        }
        result.modules = counts.keys.sorted().map { module in
            let files = counts[module]!.keys.sorted().map { path in
                let c = counts[module]![path]!
                return DynamicDebugFile(path: path, total: c.total, enabled: c.enabled)
            }
            return DynamicDebugModule(
                name: module, total: files.reduce(0) { $0 + $1.total }, enabled: files.reduce(0) { $0 + $1.enabled }, files: files)
        }
        return result
    }

    /// `net/netfilter/nf_conntrack_core.c:1746 [nf_conntrack]nf_conntrack_alter_reply =_ "format\012"`; newer kernels may
    /// add ` class:NAME` after the format. The header (`# filename:lineno …`) and anything else yield nil.
    static func parseLine(_ line: Substring) -> DynamicDebugSite? {
        guard !line.hasPrefix("#") else { return nil }
        let words = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
        guard words.count >= 3, let colon = words[0].lastIndex(of: ":"),
              let lineNumber = Int(words[0][words[0].index(after: colon)...]),
              words[1].hasPrefix("["), let close = words[1].firstIndex(of: "]"),
              words[2].hasPrefix("=")
        else { return nil }
        var format = words.count > 3 ? words[3] : ""
        if format.hasPrefix("\""), let end = format.lastIndex(of: "\""), end > format.startIndex {
            format = format[format.index(after: format.startIndex)..<end]
        }
        return DynamicDebugSite(
            file: String(words[0][..<colon]), line: lineNumber,
            module: String(words[1][words[1].index(after: words[1].startIndex)..<close]),
            function: String(words[1][words[1].index(after: close)...]),
            flags: String(words[2].dropFirst()), format: String(format))
    }
}
