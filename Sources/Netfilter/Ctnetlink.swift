import CNetfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Requests to nfnetlink's conntrack subsystems (ctnetlink and ctnetlink_exp) in one network namespace, over one
/// socket and one receive buffer.
public struct Ctnetlink: ~Copyable {
    /// NFNL_SUBSYS_CTNETLINK and NFNL_SUBSYS_CTNETLINK_EXP.
    static let conntrackSubsystem: UInt8 = 1
    static let expectationSubsystem: UInt8 = 2

    public static let getStats = NetlinkRequest(subsystem: 1, message: 5, dump: false, name: "IPCTNL_MSG_CT_GET_STATS")
    public static let getStatsCPU = NetlinkRequest(subsystem: 1, message: 4, dump: true, name: "IPCTNL_MSG_CT_GET_STATS_CPU")
    public static let getDying = NetlinkRequest(subsystem: 1, message: 6, dump: true, name: "IPCTNL_MSG_CT_GET_DYING")
    public static let getUnconfirmed = NetlinkRequest(subsystem: 1, message: 7, dump: true, name: "IPCTNL_MSG_CT_GET_UNCONFIRMED")
    public static let dumpTable = NetlinkRequest(subsystem: 1, message: 1, dump: true, name: "IPCTNL_MSG_CT_GET (dump)")
    public static let dumpExpectations = NetlinkRequest(subsystem: 2, message: 1, dump: true, name: "IPCTNL_MSG_EXP_GET (dump)")
    public static let getExpectationStatsCPU = NetlinkRequest(subsystem: 2, message: 3, dump: true, name: "IPCTNL_MSG_EXP_GET_STATS_CPU")

    /// Receive buffer size: libmnl 1.0.5's MNL_SOCKET_DUMP_SIZE (1.0.4 here lacks it). The kernel sizes each dump
    /// message batch to the reader's buffer (up to 32 KiB), so this means eight times fewer receives than
    /// MNL_SOCKET_BUFFER_SIZE's 4 KiB while memory stays one fixed buffer.
    public static let receiveBufferSize = 32768

    private var socket: NetlinkSocket
    private let buffer: UnsafeMutableRawBufferPointer

    /// Opens a socket in the caller's network namespace, or in the one `netns` names (e.g. /run/netns/NAME).
    /// Opening succeeds without privileges; each request then fails with EPERM.
    public init(netns: String? = nil, receiveTimeoutSeconds: Int = 10) throws(NetlinkError) {
        socket = try NetlinkSocket(netns: netns, receiveTimeoutSeconds: receiveTimeoutSeconds)
        buffer = .allocate(byteCount: Self.receiveBufferSize, alignment: 8)
    }

    deinit {
        buffer.deallocate()
    }

    /// Sends `request` and hands each reply message to `body` (false stops early).
    public mutating func exchange(
        _ request: NetlinkRequest, reply: NetlinkSocket.Reply = .untilDone, _ body: (UnsafePointer<nlmsghdr>) -> Bool
    ) throws(NetlinkError) {
        let sequence = try socket.send(request)
        try socket.receive(sequence, of: request, reply: reply, buffer: buffer, body)
    }

    /// Entry count and limit (GET_STATS, O(1)). The reply is read as exactly one message.
    public mutating func count() throws(NetlinkError) -> TableCount {
        var count = TableCount(entries: 0, maxEntries: nil)
        var answered = false
        try exchange(Self.getStats, reply: .single) { message in
            let (values, present) = Self.u32Attributes(message)
            answered = present & (1 << 1) != 0
            count = TableCount(entries: values[1], maxEntries: present & (1 << 2) != 0 ? values[2] : nil)
            return false
        }
        if !answered { throw NetlinkError(Self.getStats.name, errno: EBADMSG) }
        return count
    }

    /// Per-CPU conntrack counters (GET_STATS_CPU dump), by attribute.
    public mutating func cpuStatistics() throws(NetlinkError) -> [CPUCounters] {
        try perCPU(Self.getStatsCPU, names: StatisticsAttribute.conntrack)
    }

    /// Per-CPU expectation counters (EXP GET_STATS_CPU dump): events (new, create, delete), not a count.
    public mutating func expectationStatistics() throws(NetlinkError) -> [CPUCounters] {
        try perCPU(Self.getExpectationStatsCPU, names: StatisticsAttribute.expectation)
    }

    /// The number of expectations in this namespace: an EXP_GET dump, counted without parsing. The kernel refuses
    /// expectations beyond nf_conntrack_expect_max per namespace, so the dump is short by construction.
    public mutating func countExpectations() throws(NetlinkError) -> Int {
        var n = 0
        try exchange(Self.dumpExpectations) { _ in
            n += 1
            return true
        }
        return n
    }

    /// The entries a list dump (GET_DYING, GET_UNCONFIRMED) returns: how many, and the conntrack ids of the first
    /// `keepIDs` of them, so a second dump can tell the same entries from new ones.
    public mutating func listEntries(_ request: NetlinkRequest, keepIDs: Int = 4096) throws(NetlinkError) -> (count: Int, ids: Set<UInt32>) {
        var n = 0
        var ids = Set<UInt32>()
        try exchange(request) { message in
            n += 1
            let (values, present) = Self.u32Attributes(message)
            // CTA_ID is attribute 12.
            if ids.count < keepIDs, present & (1 << 12) != 0 { ids.insert(values[12]) }
            return true
        }
        return (n, ids)
    }

    /// Streams this namespace's conntrack table: each reply message is read straight into one `ConntrackEntry` and
    /// handed to `body`; nothing accumulates beyond the one receive buffer. Returns how many messages could not be
    /// parsed. Throws `.dumpInterrupted` (the table changed under the dump) or `.overrun` after `body` has seen
    /// the entries that came before.
    @discardableResult
    public mutating func streamTable(family: UInt8 = 0, _ body: (ConntrackEntry) -> Void) throws(NetlinkError) -> Int {
        var unparsable = 0
        var request = Self.dumpTable
        request.family = family
        try exchange(request) { message in
            if let entry = ConntrackMessage.parse(message) { body(entry) } else { unparsable += 1 }
            return true
        }
        return unparsable
    }

    private mutating func perCPU(_ request: NetlinkRequest, names: [Int: String]) throws(NetlinkError) -> [CPUCounters] {
        var cpus: [CPUCounters] = []
        try exchange(request) { message in
            let (values, present) = Self.u32Attributes(message)
            var counters: [String: UInt32] = [:]
            for type in 1..<64 where present & (1 << UInt64(type)) != 0 {
                counters[StatisticsAttribute.name(type, in: names)] = values[type]
            }
            cpus.append(CPUCounters(cpu: Int(ctd_nfnl_res_id(message)), values: counters))
            return true
        }
        return cpus
    }

    /// Every top-level u32 attribute of a reply, host order, with a bit mask of those present.
    static func u32Attributes(_ message: UnsafePointer<nlmsghdr>) -> (values: [UInt32], present: UInt64) {
        var values = [UInt32](repeating: 0, count: 64)
        var present: UInt64 = 0
        values.withUnsafeMutableBufferPointer { ctd_nfnl_u32_attrs(message, $0.baseAddress, &present) }
        return (values, present)
    }
}
