import CNetfilter

/// The namespace's entry count and the global limit, from IPCTNL_MSG_CT_GET_STATS.
public struct TableCount: Sendable, Equatable {
    /// CTA_STATS_GLOBAL_ENTRIES: entries in this network namespace (the same number as nf_conntrack_count).
    public var entries: UInt32
    /// CTA_STATS_GLOBAL_MAX_ENTRIES: the global nf_conntrack_max; nil if this kernel did not send it.
    public var maxEntries: UInt32?

    public init(entries: UInt32, maxEntries: UInt32?) {
        self.entries = entries
        self.maxEntries = maxEntries
    }
}

/// One CPU's counters from a GET_STATS_CPU dump, keyed by attribute name, never by position.
public struct CPUCounters: Sendable, Equatable {
    /// From nfgenmsg.res_id.
    public var cpu: Int
    public var values: [String: UInt32]

    public init(cpu: Int, values: [String: UInt32]) {
        self.cpu = cpu
        self.values = values
    }
}

/// Names of the attributes in GET_STATS_CPU replies, as conntrack-tools prints them. A number this table does not
/// know (a newer kernel's counter) is kept as "attr<N>".
public enum StatisticsAttribute {
    /// enum ctattr_stats_cpu. SEARCHED, NEW, IGNORE, DELETE and DELETE_LIST are marked "no longer used" and only
    /// old kernels send them; CLASH_RESOLVE came in 5.10, CHAIN_TOOLONG in 5.15.
    public static let conntrack: [UInt32: String] = [
        CTA_STATS_SEARCHED.rawValue: "searched", CTA_STATS_FOUND.rawValue: "found", CTA_STATS_NEW.rawValue: "new",
        CTA_STATS_INVALID.rawValue: "invalid", CTA_STATS_IGNORE.rawValue: "ignore", CTA_STATS_DELETE.rawValue: "delete",
        CTA_STATS_DELETE_LIST.rawValue: "delete_list", CTA_STATS_INSERT.rawValue: "insert",
        CTA_STATS_INSERT_FAILED.rawValue: "insert_failed", CTA_STATS_DROP.rawValue: "drop",
        CTA_STATS_EARLY_DROP.rawValue: "early_drop", CTA_STATS_ERROR.rawValue: "error",
        CTA_STATS_SEARCH_RESTART.rawValue: "search_restart", CTA_STATS_CLASH_RESOLVE.rawValue: "clash_resolve",
        CTA_STATS_CHAIN_TOOLONG.rawValue: "chaintoolong",
    ]

    /// enum ctattr_expect_stats, named as the /proc/net/stat/nf_conntrack columns are.
    public static let expectation: [UInt32: String] = [
        CTA_STATS_EXP_NEW.rawValue: "expect_new", CTA_STATS_EXP_CREATE.rawValue: "expect_create",
        CTA_STATS_EXP_DELETE.rawValue: "expect_delete",
    ]

    public static func name(_ type: UInt32, in table: [UInt32: String]) -> String {
        table[type] ?? "attr\(type)"
    }
}
