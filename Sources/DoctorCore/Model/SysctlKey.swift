/// A netfilter sysctl that a check reads, named once: its dotted name, the values the kernel can hold, where it
/// exists and who registers it. Everything else (checks, reporters, probes) refers to these constants, never to a
/// key literal.
public struct SysctlKey: Hashable, Sendable, CustomStringConvertible {
    /// Dotted name, e.g. `net.netfilter.nf_conntrack_max`.
    public let name: String
    /// The values the kernel can hold; anything outside is reported as an error, never judged.
    public let range: ClosedRange<Int>
    public let scope: Scope
    public let owner: Owner
    /// The kernel release that removed the key, when one did.
    public let removedIn: KernelVersion?

    public enum Scope: Sendable {
        /// Each network namespace has its own value.
        case perNamespace
        /// One value for the whole kernel, shown (read-only) in every namespace.
        case global
        /// One value for the whole kernel, shown only in the initial namespace.
        case initialNamespaceOnly
    }

    /// What registers the key, hence whether a missing key means "not on this kernel" or "not visible here".
    public enum Owner: Sendable {
        /// nf_conntrack: its keys exist once the module is loaded or built in.
        case conntrack
        /// The netfilter core (nf_log): its keys exist whenever netfilter does.
        case netfilter
    }

    public init(_ name: String, range: ClosedRange<Int>, scope: Scope = .perNamespace, owner: Owner = .conntrack,
                removedIn: KernelVersion? = nil) {
        self.name = name
        self.range = range
        self.scope = scope
        self.owner = owner
        self.removedIn = removedIn
    }

    public var description: String { name }

    /// A key is its name.
    public static func == (a: Self, b: Self) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    /// The /proc/sys path: `/proc/sys/net/netfilter/nf_conntrack_max`.
    public var path: String { SysctlTable.path(of: name) }

    /// "global: one value for every network namespace" or "this network namespace".
    public var scopeText: String {
        scope == .perNamespace ? "this network namespace" : "global: one value for every network namespace"
    }
}

extension SysctlKey {
    /// proc_dointvec keys: an int.
    static let int = Int(Int32.min)...Int(Int32.max)
    static let nonNegative = 0...Int(Int32.max)
    /// Counts the kernel prints from an unsigned int.
    static let count = 0...Int(UInt32.max)

    // Table size.
    public static let conntrackMax = SysctlKey("net.netfilter.nf_conntrack_max", range: nonNegative, scope: .global)
    /// The second name of the same global limit; only the initial namespace shows it.
    public static let legacyConntrackMax = SysctlKey("net.nf_conntrack_max", range: nonNegative, scope: .initialNamespaceOnly)
    public static let conntrackCount = SysctlKey("net.netfilter.nf_conntrack_count", range: count)
    public static let conntrackBuckets = SysctlKey("net.netfilter.nf_conntrack_buckets", range: 1...Int(Int32.max), scope: .global)
    public static let expectMax = SysctlKey("net.netfilter.nf_conntrack_expect_max", range: nonNegative, scope: .global)

    // Behaviour. Flags were plain ints before 6.x (any non-zero value is on) and u8 0…1 since.
    public static let logInvalid = SysctlKey("net.netfilter.nf_conntrack_log_invalid", range: 0...255)
    public static let tcpBeLiberal = SysctlKey("net.netfilter.nf_conntrack_tcp_be_liberal", range: int)
    public static let tcpLoose = SysctlKey("net.netfilter.nf_conntrack_tcp_loose", range: int)
    public static let events = SysctlKey("net.netfilter.nf_conntrack_events", range: int)
    /// Automatic helper assignment; removed in 6.0 (KERNEL-NOTES §5).
    public static let helper = SysctlKey("net.netfilter.nf_conntrack_helper", range: int, removedIn: KernelVersion(6, 0))
    /// Seconds; the kernel keeps jiffies in an int, so no more than INT_MAX / HZ fits, and never a negative value.
    public static let tcpTimeoutEstablished = SysctlKey("net.netfilter.nf_conntrack_tcp_timeout_established", range: nonNegative)

    // Logging.
    public static let logAllNetns = SysctlKey("net.netfilter.nf_log_all_netns", range: int, scope: .initialNamespaceOnly, owner: .netfilter)

    /// Every key named above, for looking one up by name.
    public static let named: [SysctlKey] = [
        conntrackMax, legacyConntrackMax, conntrackCount, conntrackBuckets, expectMax, logInvalid, tcpBeLiberal,
        tcpLoose, events, helper, tcpTimeoutEstablished, logAllNetns,
    ]

    /// The key of that name: a named one, or one built from what its name says (a policy file's arbitrary key):
    /// nf_conntrack's keys by their prefix, any whole number accepted.
    public static func named(_ name: String) -> SysctlKey {
        if let key = named.first(where: { $0.name == name }) { return key }
        let conntrack = name.hasPrefix("net.netfilter.nf_conntrack_") || name == legacyConntrackMax.name
        return SysctlKey(name, range: Int.min...Int.max, owner: conntrack ? .conntrack : .netfilter)
    }

    /// `net.netfilter.nf_log.<pf>`: the logger bound for a protocol family (a name, or NONE).
    public static func nfLogBinding(_ pf: Int) -> SysctlKey {
        SysctlKey("net.netfilter.nf_log.\(pf)", range: int, owner: .netfilter)
    }
}
