/// Conntrack lines found in the kernel log, with their timestamps (seconds since boot).
///
/// The kernel log is one ring buffer for the whole host: lines from every network namespace land in it. Only
/// "table full in netns N" (6.17+) says which namespace a line is about; see `tableFull(for:kernel:)`.
public struct KernelLog: Codable, Sendable, Equatable {
    /// Where the lines came from: "/dev/kmsg", "dmesg", or a file of a copied root.
    public var source: String
    /// Every record read, conntrack or not.
    public var recordsRead: Int
    /// Timestamps of the first and last record read: the span the counts cover.
    public var firstSeconds: Double?
    public var lastSeconds: Double?
    /// Records were overwritten while reading (EPIPE from /dev/kmsg): the oldest lines are missing.
    public var overwritten: Bool
    /// One summary per kind that occurred, in `KernelLogKind` order.
    public var kinds: [KernelLogSummary]
    /// "table full" lines by the namespace they name (nil: the line names none).
    public var tableFullByNetns: [TableFullOrigin]
    /// INVALID reasons (`nf_ct_proto_<n>: <reason>`), digits folded to N so one reason is one row; most frequent first.
    public var invalidReasons: [InvalidReasonCount]
    /// When several files were merged (a sosreport's dmesg and kern.log): what each covered. nil for one source.
    public var spans: [KernelLogSpan]?

    public init(
        source: String, recordsRead: Int = 0, firstSeconds: Double? = nil, lastSeconds: Double? = nil,
        overwritten: Bool = false, kinds: [KernelLogSummary] = [], tableFullByNetns: [TableFullOrigin] = [],
        invalidReasons: [InvalidReasonCount] = []
    ) {
        self.source = source
        self.recordsRead = recordsRead
        self.firstSeconds = firstSeconds
        self.lastSeconds = lastSeconds
        self.overwritten = overwritten
        self.kinds = kinds
        self.tableFullByNetns = tableFullByNetns
        self.invalidReasons = invalidReasons
    }

    /// The summary of one kind, or nil when no such line was seen.
    public func summary(_ kind: KernelLogKind) -> KernelLogSummary? { kinds.first { $0.kind == kind } }

    public func count(_ kind: KernelLogKind) -> Int { summary(kind)?.count ?? 0 }
}

/// One file of a merged kernel log and the time it covers (seconds since boot).
public struct KernelLogSpan: Codable, Sendable, Equatable {
    public var source: String
    public var records: Int
    public var firstSeconds: Double?
    public var lastSeconds: Double?

    public init(source: String, records: Int, firstSeconds: Double?, lastSeconds: Double?) {
        self.source = source
        self.records = records
        self.firstSeconds = firstSeconds
        self.lastSeconds = lastSeconds
    }
}

public enum KernelLogKind: String, Codable, Sendable, CaseIterable {
    /// `nf_conntrack: table full, dropping packet`, or `… table full in netns <inode>, dropping packet` (6.17+).
    case tableFull = "table-full"
    /// `nf_ct_proto_<n>: <reason>` (or the older `nf_ct_tcp: <reason>`): an INVALID packet and why.
    case invalid
    /// `nf_ct_<helper>: dropping packet: <why>`: a helper's parser rejected a packet.
    case helperDrop = "helper-drop"
    /// `automatic helper assignment is deprecated` / `default automatic helper assignment has been turned off`.
    case helperAssignment = "helper-assignment"
    /// `nf_conntrack: expectation table full`.
    case expectationTableFull = "expectation-table-full"
    /// `xt_CT: No such helper "<name>"`.
    case noSuchHelper = "no-such-helper"
    /// Legacy iptables `TRACE: <table>:<chain>:<rule|return|policy>:<n>`.
    case trace
    /// `net_ratelimit: N callbacks suppressed`, kept only right next to one of the lines above.
    case rateLimited = "rate-limited"
    /// `nf_conntrack: falling back to vmalloc.`: harmless; recorded, never to be scored.
    case vmallocFallback = "vmalloc-fallback"
}

public struct KernelLogSummary: Codable, Sendable, Equatable {
    public var kind: KernelLogKind
    public var count: Int
    public var firstSeconds: Double?
    public var lastSeconds: Double?
    /// The last lines of this kind, oldest first (at most `KernelLogSummary.recentLimit`).
    public var recent: [KernelLogLine]

    public static let recentLimit = 5

    public init(kind: KernelLogKind, count: Int = 0, firstSeconds: Double? = nil, lastSeconds: Double? = nil, recent: [KernelLogLine] = []) {
        self.kind = kind
        self.count = count
        self.firstSeconds = firstSeconds
        self.lastSeconds = lastSeconds
        self.recent = recent
    }
}

public struct KernelLogLine: Codable, Sendable, Equatable {
    /// Seconds since boot; nil when the source printed no timestamp.
    public var seconds: Double?
    /// The message as logged.
    public var text: String
    /// table-full: the namespace inode the line names.
    public var netns: UInt64?
    /// invalid: the L4 protocol number.
    public var proto: Int?
    /// helper-drop, no-such-helper: the helper's name.
    public var helper: String?
    /// invalid: the reason; helper-drop: why; trace: `table:chain:type:n`.
    public var detail: String?
    /// rate-limited: how many lines were suppressed.
    public var suppressed: Int?

    public init(seconds: Double?, text: String, netns: UInt64? = nil, proto: Int? = nil, helper: String? = nil,
                detail: String? = nil, suppressed: Int? = nil) {
        self.seconds = seconds
        self.text = text
        self.netns = netns
        self.proto = proto
        self.helper = helper
        self.detail = detail
        self.suppressed = suppressed
    }
}

public struct TableFullOrigin: Codable, Sendable, Equatable {
    /// The inode from "table full in netns <inode>"; nil for the text without a namespace.
    public var netns: UInt64?
    public var count: Int
    public var firstSeconds: Double?
    public var lastSeconds: Double?

    public init(netns: UInt64?, count: Int, firstSeconds: Double? = nil, lastSeconds: Double?) {
        self.netns = netns
        self.count = count
        self.firstSeconds = firstSeconds
        self.lastSeconds = lastSeconds
    }
}

public struct InvalidReasonCount: Codable, Sendable, Equatable {
    public var proto: Int
    /// The reason with digit runs folded to "N", e.g. "SEQ is over upper bound N (over the window of the receiver)".
    public var reason: String
    public var count: Int
    public var lastSeconds: Double?

    public init(proto: Int, reason: String, count: Int, lastSeconds: Double?) {
        self.proto = proto
        self.reason = reason
        self.count = count
        self.lastSeconds = lastSeconds
    }
}

/// "table full" lines split by whose they are, as seen from one network namespace.
public struct TableFullCounts: Sendable, Equatable {
    /// Lines about the namespace checked.
    public var thisNamespace: Int
    /// Lines naming another namespace.
    public var otherNamespaces: Int
    /// Lines without a namespace on kernels before 6.17, where any namespace may have printed them.
    public var unattributed: Int
    /// Timestamp of the last line about the namespace checked.
    public var lastThisNamespace: Double?
    /// Lines naming this namespace's number, all printed before it is known to exist (`NetnsIdentity.datedSince`):
    /// the kernel reuses numbers, so they may be an earlier namespace's.
    public var beforeThisNamespace: Int = 0
}

extension KernelLog {
    /// 6.17 (aa5840167780) added "in netns <inode>" for non-initial namespaces; the initial one kept the old text.
    public static let tableFullNamesNetnsSince = KernelVersion(6, 17)

    /// Whose "table full" lines these are, seen from `netns`. On 6.17+ a line without a namespace is the initial
    /// namespace's; before that it cannot be told, and such lines count as unattributed. Lines naming this
    /// namespace's number but all older than the namespace is known to exist are counted apart.
    public func tableFull(for netns: NetnsIdentity, kernel: KernelVersion?) -> TableFullCounts {
        var counts = TableFullCounts(thisNamespace: 0, otherNamespaces: 0, unattributed: 0, lastThisNamespace: nil)
        let namesNetns = kernel.map { $0 >= Self.tableFullNamesNetnsSince } ?? false
        for origin in tableFullByNetns {
            let mine: Bool?
            if let inode = origin.netns {
                mine = netns.inode.value.map { $0 == inode }
                if mine == true, let since = netns.datedSince, let last = origin.lastSeconds, last < since {
                    counts.beforeThisNamespace = counts.beforeThisNamespace.saturatingAdd(origin.count)
                    continue
                }
            } else {
                mine = namesNetns ? netns.initial : nil
            }
            switch mine {
            case true?:
                counts.thisNamespace = counts.thisNamespace.saturatingAdd(origin.count)
                counts.lastThisNamespace = [counts.lastThisNamespace, origin.lastSeconds].compactMap { $0 }.max()
            case false?: counts.otherNamespaces = counts.otherNamespaces.saturatingAdd(origin.count)
            case nil: counts.unattributed = counts.unattributed.saturatingAdd(origin.count)
            }
        }
        return counts
    }
}
