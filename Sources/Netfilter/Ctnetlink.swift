import CNetfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Requests to nfnetlink's conntrack subsystems (ctnetlink and ctnetlink_exp) in one network namespace, over one
/// socket and one receive buffer.
public struct Ctnetlink: ~Copyable {
    public static let getStats = NetlinkRequest.conntrack(IPCTNL_MSG_CT_GET_STATS, dump: false, name: "IPCTNL_MSG_CT_GET_STATS")
    public static let getStatsCPU = NetlinkRequest.conntrack(IPCTNL_MSG_CT_GET_STATS_CPU, dump: true, name: "IPCTNL_MSG_CT_GET_STATS_CPU")
    public static let getDying = NetlinkRequest.conntrack(IPCTNL_MSG_CT_GET_DYING, dump: true, name: "IPCTNL_MSG_CT_GET_DYING")
    public static let getUnconfirmed = NetlinkRequest.conntrack(IPCTNL_MSG_CT_GET_UNCONFIRMED, dump: true, name: "IPCTNL_MSG_CT_GET_UNCONFIRMED")
    public static let dumpTable = NetlinkRequest.conntrack(IPCTNL_MSG_CT_GET, dump: true, name: "IPCTNL_MSG_CT_GET (dump)")
    public static let dumpExpectations = NetlinkRequest.expectation(IPCTNL_MSG_EXP_GET, dump: true, name: "IPCTNL_MSG_EXP_GET (dump)")
    public static let getExpectationStatsCPU = NetlinkRequest.expectation(
        IPCTNL_MSG_EXP_GET_STATS_CPU, dump: true, name: "IPCTNL_MSG_EXP_GET_STATS_CPU")

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
            let attributes = U32Attributes(message)
            answered = attributes[CTA_STATS_GLOBAL_ENTRIES.rawValue] != nil
            count = TableCount(
                entries: attributes[CTA_STATS_GLOBAL_ENTRIES.rawValue] ?? 0,
                maxEntries: attributes[CTA_STATS_GLOBAL_MAX_ENTRIES.rawValue])
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
            if ids.count < keepIDs, let id = U32Attributes(message)[CTA_ID.rawValue] { ids.insert(id) }
            return true
        }
        return (n, ids)
    }

    /// Streams this namespace's conntrack table: each reply message is read straight into one `ConntrackEntry` and
    /// handed to `body`; nothing accumulates beyond the one receive buffer. Returns how many messages could not be
    /// parsed. Throws `.dumpInterrupted` (the table changed under the dump) or `.overrun` after `body` has seen
    /// the entries that came before. `detail` also reads the reply tuple, counters and labels, which a summary
    /// does not need (`top` leaves them, as its time budget has no room).
    @discardableResult
    public mutating func streamTable(
        family: UInt8 = 0, detail: Bool = false, _ body: (ConntrackEntry) -> Void
    ) throws(NetlinkError) -> Int {
        var unparsable = 0
        var request = Self.dumpTable
        request.family = family
        try exchange(request) { message in
            if let entry = ConntrackMessage.parse(message, detail: detail) { body(entry) } else { unparsable += 1 }
            return true
        }
        return unparsable
    }

    private mutating func perCPU(_ request: NetlinkRequest, names: [UInt32: String]) throws(NetlinkError) -> [CPUCounters] {
        var cpus: [CPUCounters] = []
        try exchange(request) { message in
            let attributes = U32Attributes(message)
            var counters: [String: UInt32] = [:]
            for type in 1..<UInt32(U32Attributes.limit) {
                if let value = attributes[type] { counters[StatisticsAttribute.name(type, in: names)] = value }
            }
            cpus.append(CPUCounters(cpu: Int(ctd_nfnl_res_id(message)), values: counters))
            return true
        }
        return cpus
    }
}

/// Every top-level 4-byte attribute of an nfnetlink reply below type 64, in host order, looked up by type.
struct U32Attributes {
    static let limit = 64
    private var values = [UInt32](repeating: 0, count: limit)
    private var present: UInt64 = 0

    init(_ message: UnsafePointer<nlmsghdr>) {
        values.withUnsafeMutableBufferPointer { ctd_nfnl_u32_attrs(message, $0.baseAddress, &present) }
    }

    subscript(type: UInt32) -> UInt32? {
        type < Self.limit && present & (1 << UInt64(type)) != 0 ? values[Int(type)] : nil
    }
}
