import DoctorCore
/// Conntrack counters from /proc/net/stat/nf_conntrack, summed over CPUs, named as ctnetlink names them.
public struct ConntrackStatsProbe: Probe {
    public let name = "conntrack statistics"

    public static let path = "/proc/net/stat/nf_conntrack"

    /// /proc column names that ctnetlink (and `conntrack -S`) call something else.
    public static let ctnetlinkName = [
        "clashres": "clash_resolve",
        "chainlength": "chaintoolong",
        "icmp_error": "error",
    ]

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.stats = Self.read(context.host)
    }

    public static func read(_ host: HostRoot) -> Reading<ConntrackStats> {
        switch host.read(path) {
        case .value(let text):
            parse(text)
        case .absent(let why) where host.isSosreport:
            sosreportConntrackS(host)
                ?? .notCollected("neither \(host.cite(path)) nor \(sosreportPaths.map { host.cite($0) }.joined(separator: " nor ")) is in this sosreport")
        case .absent(let why):
            sosreportConntrackS(host) ?? .absent("\(why) (kernel built without CONFIG_NF_CONNTRACK_PROCFS or conntrack not loaded)")
        case .denied(let why):
            .denied(why)
        case .failed(let why):
            .failed(why)
        }
    }

    /// Where a sosreport keeps `conntrack -S` (its conntrack plugin, or networking in older sos versions).
    public static let sosreportPaths = ["/sos_commands/conntrack/conntrack_-S", "/sos_commands/networking/conntrack_-S"]

    /// A copied sosreport's `conntrack -S` output, when there is no copy of the proc file.
    static func sosreportConntrackS(_ host: HostRoot) -> Reading<ConntrackStats>? {
        guard !host.isLive else { return nil }
        for path in sosreportPaths {
            if case .value(let text) = host.read(path, limit: .commandOutput) { return parseConntrackS(text, source: path) }
        }
        return nil
    }

    /// `cpu=0   \tfound=0 invalid=5 … chaintoolong=0`, one line per CPU, summed by name (names as ctnetlink's).
    public static func parseConntrackS(_ text: String, source: String) -> Reading<ConntrackStats> {
        var totals: [String: UInt64] = [:]
        var rows: [CPUCounterRow] = []
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cpu=") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            // "cpu=3": the number names the CPU; a line without one still counts, numbered by its place.
            let cpu = Int(fields[0].dropFirst(4)).flatMap { $0 >= 0 ? $0 : nil } ?? rows.count
            var row: [String: UInt64] = [:]
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let value = UInt64(pair[1]) else { continue }
                row[String(pair[0])] = value
                // A sum that overflows (a crafted file) stops at the largest value instead of trapping.
                let (sum, overflow) = totals[String(pair[0]), default: 0].addingReportingOverflow(value)
                totals[String(pair[0])] = overflow ? .max : sum
            }
            rows.append(CPUCounterRow(cpu: cpu, counters: row))
        }
        guard !rows.isEmpty else { return .failed("\(source): no cpu= lines") }
        return .value(ConntrackStats(source: "conntrack -S (\(source.dropFirst()))", cpus: rows.count, counters: totals, perCPU: rows))
    }

    /// Header line of column names, then one row of hex values per possible CPU. Columns are found by name, never by
    /// position (they were renamed: searched → clashres in 5.10, delete_list → chainlength in 5.15).
    /// `entries` is the namespace's total and repeats on every row, so the first row's value is taken; every other
    /// column is summed over the rows.
    public static func parse(_ text: String) -> Reading<ConntrackStats> {
        parseRows(text).map { rows in
            var counters: [String: UInt64] = [:]
            for (cpu, row) in rows.enumerated() {
                for (name, value) in row where name != "entries" || cpu == 0 {
                    counters[name, default: 0] &+= value
                }
            }
            let perCPU = rows.enumerated().map { CPUCounterRow(cpu: $0.offset, counters: $0.element.filter { $0.key != "entries" }) }
            return ConntrackStats(source: path, cpus: rows.count, counters: counters, perCPU: perCPU)
        }
    }

    /// Each CPU's row by column name, in the file's order (row N is CPU N).
    public static func parseRows(_ text: String) -> Reading<[[String: UInt64]]> {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { (offset: $0.offset, fields: $0.element.split(whereSeparator: \.isWhitespace)) }
            .filter { !$0.fields.isEmpty }.makeIterator()
        guard let (_, header) = lines.next() else { return .failed("\(path) is empty") }
        let names = header.map { ctnetlinkName[String($0)] ?? String($0) }
        if names.contains(where: { $0.first?.isLetter != true }) {
            return .failed("\(path) line 1 is not a header of column names: \"\(header.joined(separator: " "))\"")
        }
        var rows: [[String: UInt64]] = []
        while let (index, fields) = lines.next() {
            guard fields.count == names.count else {
                return .failed("\(path) line \(index + 1) has \(fields.count) values for \(names.count) columns")
            }
            var row: [String: UInt64] = [:]
            for (name, field) in zip(names, fields) {
                guard let value = UInt64(field, radix: 16) else {
                    return .failed("\(path) line \(index + 1): \(name) = \"\(field)\" is not hexadecimal")
                }
                row[name] = value
            }
            rows.append(row)
        }
        guard !rows.isEmpty else { return .failed("\(path) has a header but no rows") }
        return .value(rows)
    }
}
