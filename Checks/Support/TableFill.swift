import DoctorCore

/// This namespace's entry count against the global limit: ctnetlink's GET_STATS when it answered, else the
/// nf_conntrack_count and nf_conntrack_max sysctls (readable without privileges).
struct TableFill: Codable, Sendable, Equatable {
    static let countKey = "net.netfilter.nf_conntrack_count"
    static let maxKey = "net.netfilter.nf_conntrack_max"
    static let bucketsKey = "net.netfilter.nf_conntrack_buckets"

    let count: Int
    /// 0 means no limit.
    let max: Int
    let source: String
    /// Entries per second the count grew by (negative: shrank) during `--sample`; nil without a sample.
    let growthPerSecond: Double?

    var ratio: Double? { max > 0 ? Double(count) / Double(max) : nil }

    static func read(_ snapshot: HostSnapshot) -> Reading<TableFill> {
        let growth = growthPerSecond(snapshot)
        if let table = snapshot.ctnetlink.table.value, let max = table.max {
            return .value(TableFill(count: table.entries, max: max, source: "ctnetlink IPCTNL_MSG_CT_GET_STATS", growthPerSecond: growth))
        }
        let count = snapshot.sysctls.int(countKey)
        let max = snapshot.sysctls.int(maxKey)
        // Without a value, flatMap only carries the reading's problem over.
        guard let c = count.value else { return count.flatMap { _ in .failed("") } }
        guard let m = max.value else { return max.flatMap { _ in .failed("") } }
        return .value(TableFill(count: c, max: m, source: "\(SysctlTable.path(of: countKey)), \(SysctlTable.path(of: maxKey))", growthPerSecond: growth))
    }

    private static func growthPerSecond(_ snapshot: HostSnapshot) -> Double? {
        guard let sample = snapshot.sample, sample.seconds > 0 else { return nil }
        let pairs: [(Int?, Int?)] = [
            (sample.first.table.value?.entries, sample.second.table.value?.entries),
            (sample.first.sysctlCount.value, sample.second.sysctlCount.value),
        ]
        for case let (a?, b?) in pairs { return Double(b - a) / sample.seconds }
        return nil
    }

    /// "250000 of 262144 entries (95%)".
    var text: String {
        guard let ratio else { return "\(count) entries, no limit (nf_conntrack_max = 0)" }
        return "\(count) of \(max) entries (\(Wording.percent(ratio)))"
    }

    /// ", growing by 120/s: full in about 1 minute" when sampled.
    var growthText: String {
        guard let growth = growthPerSecond else { return "" }
        if growth > 0, max > count {
            let seconds = Double(max - count) / growth
            return ", growing by \(Wording.rate(growth)): full in about \(Wording.span(seconds))"
        }
        return growth < 0 ? ", shrinking by \(Wording.rate(-growth))" : ", not growing"
    }

    func evidence(_ snapshot: HostSnapshot) -> [Evidence] {
        var evidence = [Source.sysctl(Self.countKey, snapshot, scoped: true), Source.sysctl(Self.maxKey, snapshot, scoped: true)]
        if let table = snapshot.ctnetlink.table.value {
            evidence.insert(Evidence("ctnetlink IPCTNL_MSG_CT_GET_STATS",
                                     "entries = \(table.entries), max = \(table.max.map(String.init) ?? "(not sent)")"), at: 0)
        }
        return evidence
    }

    /// Whether nf_conntrack_max can be written from here; it is global and read-only outside the initial namespace.
    static func maxWritableHere(_ snapshot: HostSnapshot) -> Bool? {
        snapshot.sysctls.entry(maxKey)?.writable
    }
}
