import DoctorCore

/// One interval of `ctdoctor watch`: the JSON line of `--format json` (schema `ctdoctor.watch/1`), and what the
/// text views render.
public struct WatchRecord: Codable, Sendable, Equatable {
    public var schema = WatchRecord.schemaName
    /// End of the interval, ISO 8601 UTC.
    public var time: String
    /// Its measured length in seconds.
    public var interval: Double
    /// Entries in this namespace and the global nf_conntrack_max, at the end of the interval; null when unreadable.
    public var count: Int?
    public var max: Int?
    public var expectations: Int?
    /// Counter deltas of the interval; null when the counters could not be read.
    public var stats: WatchStats?
    /// Conntrack events of the interval; null when there is no event subscription (see `notes`).
    public var events: WatchEvents?
    /// Events lost to receive-queue overruns in the interval: 0 none, null when some were lost and the number is
    /// unknown (`overruns` > 0), or when there is no subscription.
    public var lost: Int?
    /// ENOBUFS reports in the interval.
    public var overruns: Int
    /// The flows with the most events in the interval, most first.
    public var topFlows: [WatchFlow]
    /// Kernel log lines about conntrack that arrived in the interval, as logged.
    public var kernelLog: [WatchLogLine]
    /// Checks whose thresholds this interval crossed.
    public var crossed: [WatchCrossing]
    /// What could not be watched and why; in the first record, and whenever it changes.
    public var notes: [String]

    public static let schemaName = "ctdoctor.watch/1"

    public init(
        time: String, interval: Double, count: Int? = nil, max: Int? = nil, expectations: Int? = nil,
        stats: WatchStats? = nil, events: WatchEvents? = nil, lost: Int? = nil, overruns: Int = 0,
        topFlows: [WatchFlow] = [], kernelLog: [WatchLogLine] = [], crossed: [WatchCrossing] = [], notes: [String] = []
    ) {
        self.time = time
        self.interval = interval
        self.count = count
        self.max = max
        self.expectations = expectations
        self.stats = stats
        self.events = events
        self.lost = lost
        self.overruns = overruns
        self.topFlows = topFlows
        self.kernelLog = kernelLog
        self.crossed = crossed
        self.notes = notes
    }

    /// Always encode every key, null included, so a consumer can rely on the shape.
    enum CodingKeys: String, CodingKey {
        case schema, time, interval, count, max, expectations, stats, events, lost, overruns, topFlows, kernelLog,
            crossed, notes
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(schema, forKey: .schema)
        try c.encode(time, forKey: .time)
        try c.encode(interval, forKey: .interval)
        try c.encode(count, forKey: .count)
        try c.encode(max, forKey: .max)
        try c.encode(expectations, forKey: .expectations)
        try c.encode(stats, forKey: .stats)
        try c.encode(events, forKey: .events)
        try c.encode(lost, forKey: .lost)
        try c.encode(overruns, forKey: .overruns)
        try c.encode(topFlows, forKey: .topFlows)
        try c.encode(kernelLog, forKey: .kernelLog)
        try c.encode(crossed, forKey: .crossed)
        try c.encode(notes, forKey: .notes)
    }
}

/// The interval's counter deltas by the kernel's names (`found`, `invalid`, `insert_failed`, `drop`, `early_drop`,
/// `error`, `clash_resolve`, `chaintoolong`, `search_restart`, …), summed over CPUs and per CPU.
public struct WatchStats: Codable, Sendable, Equatable {
    /// Where the counters came from.
    public var source: String
    /// Summed over CPUs.
    public var deltas: [String: UInt64]
    /// Per second over the interval.
    public var rates: [String: Double]
    /// Per CPU, only the counters that rose.
    public var perCPU: [WatchCPUDelta]
    /// Counters one CPU took most of (≥ 75 % of a rise of at least 20): traffic pinned to one CPU (one flow, RSS).
    public var skewed: [WatchSkew]

    public init(source: String, deltas: [String: UInt64], rates: [String: Double], perCPU: [WatchCPUDelta], skewed: [WatchSkew]) {
        self.source = source
        self.deltas = deltas
        self.rates = rates
        self.perCPU = perCPU
        self.skewed = skewed
    }
}

public struct WatchCPUDelta: Codable, Sendable, Equatable {
    public var cpu: Int
    public var deltas: [String: UInt64]

    public init(cpu: Int, deltas: [String: UInt64]) {
        self.cpu = cpu
        self.deltas = deltas
    }
}

public struct WatchSkew: Codable, Sendable, Equatable {
    public var counter: String
    public var cpu: Int
    /// That CPU's share of the counter's rise, 0…1.
    public var share: Double

    public init(counter: String, cpu: Int, share: Double) {
        self.counter = counter
        self.cpu = cpu
        self.share = share
    }
}

public struct WatchEvents: Codable, Sendable, Equatable {
    public var new: Int
    public var update: Int
    public var destroy: Int

    public init(new: Int = 0, update: Int = 0, destroy: Int = 0) {
        self.new = new
        self.update = update
        self.destroy = destroy
    }

    public var total: Int { new + update + destroy }
}

/// A flow (`WatchFlowKey`) and its events in the interval.
public struct WatchFlow: Codable, Sendable, Equatable {
    /// "udp 127.0.0.1 → 127.1.0.0:10000".
    public var flow: String
    public var events: Int

    public init(flow: String, events: Int) {
        self.flow = flow
        self.events = events
    }
}

public struct WatchLogLine: Codable, Sendable, Equatable {
    /// A `KernelLogKind` raw value: "table-full", "invalid", "helper-drop", …
    public var kind: String
    /// Seconds since boot, as the kernel stamped it.
    public var seconds: Double?
    /// The message as logged (JSON escapes it; the text views neutralize control characters).
    public var text: String
    /// The network namespace inode the line names ("table full in netns N", 6.17+).
    public var netns: UInt64?

    public init(kind: String, seconds: Double?, text: String, netns: UInt64? = nil) {
        self.kind = kind
        self.seconds = seconds
        self.text = text
        self.netns = netns
    }
}

/// A check whose threshold the interval crossed: what it would say, at what severity.
public struct WatchCrossing: Codable, Sendable, Equatable {
    public var check: String
    public var severity: Severity
    public var observed: String

    public init(check: String, severity: Severity, observed: String) {
        self.check = check
        self.severity = severity
        self.observed = observed
    }
}
