import DoctorCore

/// What `watch` reads at each interval boundary: the count and limit, the expectations, and every CPU's counters.
public struct WatchReading: Sendable, Equatable {
    /// Monotonic seconds, for the interval's length.
    public var monotonicSeconds: Double
    /// Wall-clock time, ISO 8601 UTC.
    public var time: String
    /// IPCTNL_MSG_CT_GET_STATS, or nf_conntrack_count with nf_conntrack_max when ctnetlink refuses.
    public var count: Reading<EntryCount>
    /// IPCTNL_MSG_EXP_GET dump, counted.
    public var expectations: Reading<Int>
    /// Per-CPU counters by the kernel's names: IPCTNL_MSG_CT_GET_STATS_CPU, else /proc/net/stat/nf_conntrack rows.
    public var cpus: Reading<CPUStatistics>

    public init(
        monotonicSeconds: Double, time: String, count: Reading<EntryCount>, expectations: Reading<Int>,
        cpus: Reading<CPUStatistics>
    ) {
        self.monotonicSeconds = monotonicSeconds
        self.time = time
        self.count = count
        self.expectations = expectations
        self.cpus = cpus
    }
}

/// Every CPU's conntrack counters from one source, read at one moment.
public struct CPUStatistics: Codable, Sendable, Equatable {
    /// Where they came from: "ctnetlink IPCTNL_MSG_CT_GET_STATS_CPU" or "/proc/net/stat/nf_conntrack".
    public var source: String
    /// Read over ctnetlink (else from procfs): `--sample` keeps the two sources apart.
    public var viaCtnetlink: Bool
    /// Index = position in the reply (ctnetlink's res_id, the procfs row).
    public var cpus: [[String: UInt64]]

    public init(source: String, viaCtnetlink: Bool, cpus: [[String: UInt64]]) {
        self.source = source
        self.viaCtnetlink = viaCtnetlink
        self.cpus = cpus
    }

    /// Summed over CPUs, as the snapshot and the checks hold them (`entries` is a namespace total, not summed).
    public var summed: ConntrackStats {
        var counters: [String: UInt64] = [:]
        for (index, cpu) in cpus.enumerated() {
            for (name, value) in cpu where name != "entries" || index == 0 { counters[name, default: 0] &+= value }
        }
        return ConntrackStats(source: source, cpus: cpus.count, counters: counters)
    }
}
