/// What ctnetlink answered in this network namespace. Read only on a live host; for a copied root every reading
/// is `.absent("not a live host: …")`. A request that failed keeps its errno in `failure`: EPERM comes per
/// request (the socket opens for anyone), EINVAL/EPROTONOSUPPORT mean ctnetlink or nfnetlink is not there.
public struct CtnetlinkFacts: Codable, Sendable, Equatable {
    /// IPCTNL_MSG_CT_GET_STATS: this namespace's entry count and the global nf_conntrack_max. Its outcome says
    /// whether ctnetlink answers here at all.
    public var table: Reading<EntryCount>
    /// The first request that failed, with its errno; nil when every request answered or none was sent.
    public var failure: CtnetlinkFailure?
    /// IPCTNL_MSG_CT_GET_STATS_CPU, summed over CPUs by attribute name.
    public var statistics: Reading<ConntrackStats>
    public var expectations: Reading<ExpectationFacts>
    public var lists: Reading<ConntrackLists>
    /// Why no ctnetlink request was sent at all: on a modular kernel whose nf_conntrack_netlink is not loaded, the
    /// first request makes the kernel load it (and nf_conntrack with it), and a check must not change the host.
    public var withheld: String?

    public init(
        table: Reading<EntryCount> = .failed("not probed"),
        failure: CtnetlinkFailure? = nil,
        statistics: Reading<ConntrackStats> = .failed("not probed"),
        expectations: Reading<ExpectationFacts> = .failed("not probed"),
        lists: Reading<ConntrackLists> = .failed("not probed")
    ) {
        self.table = table
        self.failure = failure
        self.statistics = statistics
        self.expectations = expectations
        self.lists = lists
    }

    /// No request sent, for the reason given: every reading is `denied` with it, so checks skip and say why.
    public static func withheld(_ why: String) -> CtnetlinkFacts {
        var facts = CtnetlinkFacts(table: .denied(why), statistics: .denied(why), expectations: .denied(why), lists: .denied(why))
        facts.withheld = why
        return facts
    }

    /// Every reading absent for the same reason (a copied root, or a snapshot from before ctnetlink was probed).
    public static func absent(_ why: String) -> CtnetlinkFacts {
        CtnetlinkFacts(table: .absent(why), statistics: .absent(why), expectations: .absent(why), lists: .absent(why))
    }
}

/// Entries in this namespace and the limit, as ctnetlink reports them.
public struct EntryCount: Codable, Sendable, Equatable {
    /// CTA_STATS_GLOBAL_ENTRIES: per network namespace (the same number as nf_conntrack_count).
    public var entries: Int
    /// CTA_STATS_GLOBAL_MAX_ENTRIES: nf_conntrack_max, one global value every namespace may fill.
    public var max: Int?

    public init(entries: Int, max: Int?) {
        self.entries = entries
        self.max = max
    }
}

/// A ctnetlink request that failed, with the errno the kernel gave.
public struct CtnetlinkFailure: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// EPERM: not CAP_NET_ADMIN in this namespace.
        case permissionDenied = "permission-denied"
        /// EPROTONOSUPPORT at socket(): no nfnetlink in this kernel.
        case noNfnetlink = "no-nfnetlink"
        /// EINVAL/ENOENT: nfnetlink has no ctnetlink subsystem (nf_conntrack_netlink not loaded or not built),
        /// or the kernel predates the request.
        case noCtnetlink = "no-ctnetlink"
        case other
    }

    /// The request or call, e.g. "IPCTNL_MSG_CT_GET_STATS".
    public var request: String
    public var errno: Int32
    /// "EPERM", "EINVAL", …
    public var errnoName: String
    public var kind: Kind
    /// The whole sentence: what failed, the errno, and what it means.
    public var message: String

    public init(request: String, errno: Int32, errnoName: String, kind: Kind, message: String) {
        self.request = request
        self.errno = errno
        self.errnoName = errnoName
        self.kind = kind
        self.message = message
    }
}

/// Expectations (helper-created "expected connection" entries) in this namespace.
public struct ExpectationFacts: Codable, Sendable, Equatable {
    /// Entries an IPCTNL_MSG_EXP_GET dump returned. A dump, not the EXP_GET_STATS_CPU counters: those count events
    /// (new, create, delete) since the namespace was created, not the expectations that exist now, and the dump is
    /// short because the kernel refuses more than nf_conntrack_expect_max per namespace.
    public var count: Int
    /// EXP_GET_STATS_CPU summed over CPUs: expect_new, expect_create, expect_delete (lifetime event counts).
    public var counters: [String: UInt64]

    public init(count: Int, counters: [String: UInt64]) {
        self.count = count
        self.counters = counters
    }
}

/// The unconfirmed and dying lists, each dumped once and, when not empty, again after `resampleSeconds`: these lists
/// normally hold an entry for microseconds, so only entries still there on the second dump mean something.
public struct ConntrackLists: Codable, Sendable, Equatable {
    public var unconfirmed: ListSample
    public var dying: ListSample
    public var resampleSeconds: Double

    public init(unconfirmed: ListSample, dying: ListSample, resampleSeconds: Double) {
        self.unconfirmed = unconfirmed
        self.dying = dying
        self.resampleSeconds = resampleSeconds
    }
}

public struct ListSample: Codable, Sendable, Equatable {
    /// Entries the first dump returned.
    public var first: Int
    /// Entries the second dump returned; nil when the first was empty and no second dump was needed.
    public var second: Int?
    /// Entries of the first dump (by conntrack id) that the second dump still returned.
    public var stillListed: Int?

    public init(first: Int, second: Int? = nil, stillListed: Int? = nil) {
        self.first = first
        self.second = second
        self.stillListed = stillListed
    }
}
