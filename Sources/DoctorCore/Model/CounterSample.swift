/// The statistics read twice, `seconds` apart (`--sample SECONDS`), so checks can judge what the counters did in
/// between ("drops are happening now") instead of lifetime totals.
public struct CounterSample: Codable, Sendable, Equatable {
    /// Time between the two readings, measured on the monotonic clock.
    public var seconds: Double
    public var first: CounterReadings
    public var second: CounterReadings

    public init(seconds: Double, first: CounterReadings, second: CounterReadings) {
        self.seconds = seconds
        self.first = first
        self.second = second
    }
}

/// Every source of the counters and the count, read at one moment.
public struct CounterReadings: Codable, Sendable, Equatable {
    /// IPCTNL_MSG_CT_GET_STATS_CPU, summed.
    public var netlink: Reading<ConntrackStats>
    /// /proc/net/stat/nf_conntrack, summed (the fallback when ctnetlink is refused).
    public var procfs: Reading<ConntrackStats>
    /// IPCTNL_MSG_CT_GET_STATS.
    public var table: Reading<EntryCount>
    /// net.netfilter.nf_conntrack_count.
    public var sysctlCount: Reading<Int>

    public init(
        netlink: Reading<ConntrackStats>, procfs: Reading<ConntrackStats>, table: Reading<EntryCount>,
        sysctlCount: Reading<Int>
    ) {
        self.netlink = netlink
        self.procfs = procfs
        self.table = table
        self.sysctlCount = sysctlCount
    }
}
