/// What one streamed dump of the conntrack table held, folded as it went: counts, bounded top lists and
/// histograms. Its size does not depend on the table's.
public struct TableSummary: Codable, Sendable, Equatable {
    /// Entries the dump returned.
    public var entries: Int
    /// GET_STATS just before and just after the dump: the table changes while it is read.
    public var countBefore: Int?
    public var countAfter: Int?
    /// nil for a whole dump; otherwise why the figures cover only part of the table.
    public var incomplete: String?
    /// Reply messages libnetfilter_conntrack could not parse.
    public var unparsable: Int
    /// How long the dump took.
    public var seconds: Double
    /// "ipv4", "ipv6".
    public var families: [String: Int]
    /// "tcp", "udp", "icmp", …
    public var protocols: [String: Int]
    /// TCP entries by state ("ESTABLISHED", "TIME_WAIT", …).
    public var tcpStates: [String: Int]
    /// [ASSURED]: seen both ways and never evicted early.
    public var assured: Int
    /// [UNREPLIED]: no packet seen in the reply direction yet.
    public var unreplied: Int
    public var zones: Tally
    public var marks: Tally
    public var helpers: Tally
    public var topSources: [TopItem]
    public var topDestinations: [TopItem]
    /// "tcp/443", "udp/53".
    public var topDestinationPorts: [TopItem]
    /// Seconds each entry has left before it expires.
    public var timeouts: Histogram
    /// Seconds since each entry was created; only when nf_conntrack_timestamp = 1 gives entries a start time.
    public var ages: Histogram?
    /// ESTABLISHED TCP entries by time since their last packet, estimated as the ESTABLISHED timeout minus the
    /// time left, and never more than the entry's age when it has a start time.
    public var establishedIdle: Histogram?
    /// Entries whose destination is an overlay tunnel port ("udp/4789" → entries), counted exactly; nil from a
    /// ctdoctor that did not count them.
    public var tunnelEntries: [String: Int]?
    /// The nf_conntrack_tcp_timeout_established the idle times were estimated from.
    public var establishedTimeout: Int?
    /// True when every entry in `establishedIdle` had a start time (nf_conntrack_timestamp = 1), so no idle time is
    /// longer than the entry has existed. Otherwise an entry given a shorter timeout of its own (`conntrack -I/-U
    /// --timeout`, an nft ct timeout policy) looks idle for as long as its timeout falls short of the sysctl's.
    public var establishedIdleBoundedByAge: Bool?
    /// ESTABLISHED entries with more time left than the ESTABLISHED timeout: a timeout of their own, idle time unknown,
    /// so left out of `establishedIdle`.
    public var establishedOwnTimeout: Int?
    /// The longest-lived entries, when entries have a start time.
    public var oldest: [OldEntry]

    public init(
        entries: Int = 0, countBefore: Int? = nil, countAfter: Int? = nil, incomplete: String? = nil,
        unparsable: Int = 0, seconds: Double = 0, families: [String: Int] = [:], protocols: [String: Int] = [:],
        tcpStates: [String: Int] = [:], assured: Int = 0, unreplied: Int = 0, zones: Tally = Tally(),
        marks: Tally = Tally(), helpers: Tally = Tally(), topSources: [TopItem] = [], topDestinations: [TopItem] = [],
        topDestinationPorts: [TopItem] = [], timeouts: Histogram = Histogram(), ages: Histogram? = nil,
        establishedIdle: Histogram? = nil, establishedTimeout: Int? = nil, establishedIdleBoundedByAge: Bool? = nil,
        establishedOwnTimeout: Int? = nil, oldest: [OldEntry] = []
    ) {
        self.entries = entries
        self.countBefore = countBefore
        self.countAfter = countAfter
        self.incomplete = incomplete
        self.unparsable = unparsable
        self.seconds = seconds
        self.families = families
        self.protocols = protocols
        self.tcpStates = tcpStates
        self.assured = assured
        self.unreplied = unreplied
        self.zones = zones
        self.marks = marks
        self.helpers = helpers
        self.topSources = topSources
        self.topDestinations = topDestinations
        self.topDestinationPorts = topDestinationPorts
        self.timeouts = timeouts
        self.ages = ages
        self.establishedIdle = establishedIdle
        self.establishedTimeout = establishedTimeout
        self.establishedIdleBoundedByAge = establishedIdleBoundedByAge
        self.establishedOwnTimeout = establishedOwnTimeout
        self.oldest = oldest
    }
}

/// Counts per value, for the first values seen up to a cap; the rest are counted together.
public struct Tally: Codable, Sendable, Equatable {
    public var counts: [String: Int]
    /// Entries whose value came after the cap was reached.
    public var other: Int

    public init(counts: [String: Int] = [:], other: Int = 0) {
        self.counts = counts
        self.other = other
    }
}

/// One line of a top list. Counts come from a space-saving sketch: exact while fewer distinct keys were seen than it
/// tracks, otherwise at most `overcount` too high.
public struct TopItem: Codable, Sendable, Equatable {
    public var key: String
    public var count: Int
    public var overcount: Int

    public init(key: String, count: Int, overcount: Int = 0) {
        self.key = key
        self.count = count
        self.overcount = overcount
    }
}

public struct Histogram: Codable, Sendable, Equatable {
    public var buckets: [HistogramBucket]

    public init(buckets: [HistogramBucket] = []) {
        self.buckets = buckets
    }

    /// Entries in buckets whose upper bound is at most `seconds` (the last bucket has none and never counts).
    public func count(atMost seconds: Int) -> Int {
        buckets.filter { ($0.upTo ?? .max) <= seconds }.reduce(0) { $0.saturatingAdd($1.count) }
    }

    /// Saturating: the counts may come from a snapshot file, which nothing keeps consistent.
    public var total: Int { buckets.reduce(0) { $0.saturatingAdd($1.count) } }
}

public struct HistogramBucket: Codable, Sendable, Equatable {
    /// "≤ 1 min", "> 5 days".
    public var label: String
    /// Upper bound in seconds, inclusive; nil for the open last bucket.
    public var upTo: Int?
    public var count: Int

    public init(label: String, upTo: Int?, count: Int) {
        self.label = label
        self.upTo = upTo
        self.count = count
    }
}

public struct OldEntry: Codable, Sendable, Equatable {
    public var ageSeconds: Int
    /// "tcp 10.0.0.1:51234 → 10.0.0.2:443 ESTABLISHED".
    public var entry: String

    public init(ageSeconds: Int, entry: String) {
        self.ageSeconds = ageSeconds
        self.entry = entry
    }
}
