import DoctorCore

/// This namespace's entry count against the global limit: ctnetlink's GET_STATS when it answered, else the
/// nf_conntrack_count and nf_conntrack_max sysctls (readable without privileges). Both numbers are bounded to what
/// the kernel holds (SysctlKey's ranges), so the arithmetic on them cannot overflow.
struct TableFill: Sendable, Equatable {
    let count: Int
    /// 0 means no limit.
    let max: Int
    let source: String
    /// Entries per second the count grew by (negative: shrank) during `--sample`; nil without a sample.
    let growthPerSecond: Double?

    var ratio: Double? { max > 0 ? Double(count) / Double(max) : nil }

    static func read(_ snapshot: HostSnapshot) -> SysctlReading<TableFill> {
        let growth = growthPerSecond(snapshot)
        if let table = snapshot.ctnetlink.table.value, let max = table.max {
            let source = "ctnetlink IPCTNL_MSG_CT_GET_STATS"
            return bounded(.conntrackCount, table.entries, source).flatMap { count in
                bounded(.conntrackMax, max, source).map { TableFill(count: count, max: $0, source: source, growthPerSecond: growth) }
            }
        }
        return snapshot.sysctl(.conntrackCount).flatMap { count in
            snapshot.sysctl(.conntrackMax).map { max in
                TableFill(count: count, max: max, source: "\(SysctlKey.conntrackCount.path), \(SysctlKey.conntrackMax.path)", growthPerSecond: growth)
            }
        }
    }

    /// A number from ctnetlink (or a snapshot claiming to be from it), held to the key's range.
    private static func bounded(_ key: SysctlKey, _ n: Int, _ source: String) -> SysctlReading<Int> {
        key.range.contains(n) ? .value(n) : .error("\(source) gave \(key.name) = \(n), outside the values the kernel holds (\(key.range.lowerBound)…\(key.range.upperBound))")
    }

    private static func growthPerSecond(_ snapshot: HostSnapshot) -> Double? {
        guard let sample = snapshot.sample, sample.seconds > 0, sample.seconds.isFinite else { return nil }
        let pairs: [(Int?, Int?)] = [
            (sample.first.table.value?.entries, sample.second.table.value?.entries),
            (sample.first.sysctlCount.value, sample.second.sysctlCount.value),
        ]
        for case let (a?, b?) in pairs { return (Double(b) - Double(a)) / sample.seconds }
        return nil
    }

    /// "250000 of 262144 entries (95%)".
    var text: String {
        guard let ratio else { return "\(count) entries, no limit (nf_conntrack_max = 0)" }
        return "\(count) of \(max) entries (\(Wording.percent(ratio)))"
    }

    /// ", growing by 120/s: full in about 1 minute" when sampled.
    var growthText: String {
        guard let growth = growthPerSecond, growth.isFinite else { return "" }
        if growth > 0, max > count {
            let seconds = Double(max - count) / growth
            return ", growing by \(Wording.rate(growth)): full in about \(Wording.span(seconds))"
        }
        return growth < 0 ? ", shrinking by \(Wording.rate(-growth))" : ", not growing"
    }

    func evidence(_ snapshot: HostSnapshot) -> [Evidence] {
        var evidence = [Source.sysctl(.conntrackCount, snapshot, scoped: true), Source.sysctl(.conntrackMax, snapshot, scoped: true)]
        if let table = snapshot.ctnetlink.table.value {
            evidence.insert(Evidence("ctnetlink IPCTNL_MSG_CT_GET_STATS",
                                     "entries = \(table.entries), max = \(table.max.map(String.init) ?? "(not sent)")"), at: 0)
        }
        return evidence
    }

    /// Whether a global key can be written from here; it is read-only outside the initial namespace.
    static func writableHere(_ key: SysctlKey, _ snapshot: HostSnapshot) -> Bool? {
        snapshot.sysctls.entry(key.name)?.writable
    }
}
