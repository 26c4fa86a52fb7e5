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
    /// enum ctattr_stats_cpu. 1, 3, 5, 6, 7 are marked "no longer used" and only old kernels send them; 14 came
    /// in 5.10, 15 in 5.15.
    public static let conntrack: [Int: String] = [
        1: "searched", 2: "found", 3: "new", 4: "invalid", 5: "ignore", 6: "delete", 7: "delete_list",
        8: "insert", 9: "insert_failed", 10: "drop", 11: "early_drop", 12: "error", 13: "search_restart",
        14: "clash_resolve", 15: "chaintoolong",
    ]

    /// enum ctattr_expect_stats, named as the /proc/net/stat/nf_conntrack columns are.
    public static let expectation: [Int: String] = [1: "expect_new", 2: "expect_create", 3: "expect_delete"]

    public static func name(_ type: Int, in table: [Int: String]) -> String {
        table[type] ?? "attr\(type)"
    }
}
