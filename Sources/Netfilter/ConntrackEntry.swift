import CNetfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An IPv4 or IPv6 address as two integers, cheap to hash; text only when printed.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(ipv4 networkOrder: UInt32) {
        high = 0
        low = UInt64(UInt32(bigEndian: networkOrder))
        isIPv6 = false
    }

    /// 16 bytes in network order.
    public init(ipv6 bytes: UnsafeRawPointer) {
        high = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        isIPv6 = true
    }

    public var description: String {
        if !isIPv6 {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
        }
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: high.bigEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        withUnsafeBytes(of: low.bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = inet_ntop(AF_INET6, bytes, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A helper's name (NF_CT_HELPER_NAME_LEN is 16) held inline, so an entry carries no reference to copy.
public struct HelperName: Hashable, Sendable, CustomStringConvertible {
    public var bytes: (UInt64, UInt64)

    public init(_ raw: UnsafeRawBufferPointer) {
        var value: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &value) { target in
            for (i, byte) in raw.prefix(15).enumerated() {
                if byte == 0 { break }
                target[i] = byte
            }
        }
        bytes = value
    }

    public init(_ text: String) {
        self = Array(text.utf8).withUnsafeBytes { HelperName($0) }
    }

    public static func == (a: Self, b: Self) -> Bool { a.bytes == b.bytes }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
    }

    public var description: String {
        withUnsafeBytes(of: bytes) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// One direction of a conntrack entry: addresses and the protocol's identifying fields.
public struct ConntrackTuple: Sendable, Equatable {
    public var source: IPAddress
    public var destination: IPAddress
    /// TCP, UDP, SCTP, DCCP, UDP-Lite ports.
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// ICMP / ICMPv6 type, code and identifier.
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    public var icmpID: UInt16?

    public init(
        source: IPAddress, destination: IPAddress, sourcePort: UInt16? = nil, destinationPort: UInt16? = nil,
        icmpType: UInt8? = nil, icmpCode: UInt8? = nil, icmpID: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.icmpType = icmpType
        self.icmpCode = icmpCode
        self.icmpID = icmpID
    }
}

/// Packet and byte counters of both directions (CTA_COUNTERS_ORIG / _REPLY); only with nf_conntrack_acct = 1.
public struct ConntrackCounters: Sendable, Equatable {
    public var originalPackets: UInt64 = 0
    public var originalBytes: UInt64 = 0
    public var replyPackets: UInt64 = 0
    public var replyBytes: UInt64 = 0

    public init(originalPackets: UInt64 = 0, originalBytes: UInt64 = 0, replyPackets: UInt64 = 0, replyBytes: UInt64 = 0) {
        self.originalPackets = originalPackets
        self.originalBytes = originalBytes
        self.replyPackets = replyPackets
        self.replyBytes = replyBytes
    }
}

/// Connection labels (CTA_LABELS, `ct label`): up to 128 bits, as the kernel's bitmap of unsigned longs.
public struct ConntrackLabels: Hashable, Sendable {
    public var words: (UInt64, UInt64)

    public init(words: (UInt64, UInt64)) {
        self.words = words
    }

    /// The bitmap as sent: host-order longs, bit N of the label set at bit N % 64 of word N / 64.
    init(_ payload: UnsafeRawPointer, _ size: Int) {
        var value: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(start: payload, count: min(size, 16))) }
        words = value
    }

    /// The numbers of the labels set, ascending.
    public var bits: [Int] {
        (0..<128).filter { ($0 < 64 ? words.0 >> UInt64($0) : words.1 >> UInt64($0 - 64)) & 1 == 1 }
    }

    public static func == (a: Self, b: Self) -> Bool { a.words == b.words }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}

/// The facts of one conntrack entry. Plain values only, so passing one around is a copy.
public struct ConntrackEntry: Sendable {
    /// AF_INET (2) or AF_INET6 (10).
    public var family: UInt8
    /// IPPROTO_* of the original direction.
    public var l4proto: UInt8
    public var original: ConntrackTuple
    public var reply: ConntrackTuple?
    /// TCP_CONNTRACK_* for TCP entries.
    public var tcpState: UInt8?
    /// IPS_* bits.
    public var status: UInt32
    /// Seconds left before the entry expires.
    public var timeout: UInt32?
    public var mark: UInt32?
    public var zone: UInt16?
    public var helper: HelperName?
    public var labels: ConntrackLabels?
    public var counters: ConntrackCounters?
    /// CTA_TIMESTAMP start in nanoseconds of the real-time clock; only with nf_conntrack_timestamp = 1.
    public var startNanoseconds: UInt64?
    public var id: UInt32?

    public static let seenReplyBit = UInt32(IPS_SEEN_REPLY.rawValue)
    public static let assuredBit = UInt32(IPS_ASSURED.rawValue)

    public var isAssured: Bool { status & Self.assuredBit != 0 }
    /// No packet seen in the reply direction: `conntrack -L` prints [UNREPLIED].
    public var isUnreplied: Bool { status & Self.seenReplyBit == 0 }

    public var source: IPAddress {
        get { original.source }
        set { original.source = newValue }
    }
    public var destination: IPAddress {
        get { original.destination }
        set { original.destination = newValue }
    }
    public var sourcePort: UInt16? {
        get { original.sourcePort }
        set { original.sourcePort = newValue }
    }
    public var destinationPort: UInt16? {
        get { original.destinationPort }
        set { original.destinationPort = newValue }
    }

    public init(
        family: UInt8, l4proto: UInt8, source: IPAddress, destination: IPAddress, sourcePort: UInt16? = nil,
        destinationPort: UInt16? = nil, tcpState: UInt8? = nil, status: UInt32 = 0, timeout: UInt32? = nil,
        mark: UInt32? = nil, zone: UInt16? = nil, helper: HelperName? = nil, startNanoseconds: UInt64? = nil,
        id: UInt32? = nil
    ) {
        self.family = family
        self.l4proto = l4proto
        self.original = ConntrackTuple(
            source: source, destination: destination, sourcePort: sourcePort, destinationPort: destinationPort)
        self.tcpState = tcpState
        self.status = status
        self.timeout = timeout
        self.mark = mark
        self.zone = zone
        self.helper = helper
        self.startNanoseconds = startNanoseconds
        self.id = id
    }

    /// TCP_CONNTRACK_* names as the kernel spells them.
    public static let tcpStateNames = [
        "NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE",
        "SYN_SENT2",
    ]

    public static func tcpStateName(_ state: UInt8) -> String {
        Int(state) < tcpStateNames.count ? tcpStateNames[Int(state)] : "state\(state)"
    }

    public static func protocolName(_ number: UInt8) -> String {
        switch Int(number) {
        case IPPROTO_ICMP: "icmp"
        case IPPROTO_IGMP: "igmp"
        case IPPROTO_TCP: "tcp"
        case IPPROTO_UDP: "udp"
        case IPPROTO_DCCP: "dccp"
        case IPPROTO_GRE: "gre"
        case IPPROTO_ICMPV6: "icmpv6"
        case IPPROTO_SCTP: "sctp"
        case IPPROTO_UDPLITE: "udplite"
        default: "proto\(number)"
        }
    }
}

/// Reads one ctnetlink message (a dump reply or an event) straight into a `ConntrackEntry`: the attributes of
/// `enum ctattr_type` an entry carries, lengths checked, nothing allocated. nfct_nlmsg_parse would validate and
/// copy every attribute (NAT sequence adjustments, synproxy, secctx…) into a 500-byte object, which made up a
/// fifth of `ctdoctor top`'s time; a differential test keeps this decoder and libnetfilter_conntrack in agreement.
enum ConntrackMessage {
    // enum ctattr_type and the nested enums of linux/netfilter/nfnetlink_conntrack.h.
    static let tupleOrig = UInt16(CTA_TUPLE_ORIG.rawValue), tupleReply = UInt16(CTA_TUPLE_REPLY.rawValue)
    static let status = UInt16(CTA_STATUS.rawValue), protoinfo = UInt16(CTA_PROTOINFO.rawValue)
    static let help = UInt16(CTA_HELP.rawValue), timeout = UInt16(CTA_TIMEOUT.rawValue)
    static let mark = UInt16(CTA_MARK.rawValue), id = UInt16(CTA_ID.rawValue), zone = UInt16(CTA_ZONE.rawValue)
    static let timestamp = UInt16(CTA_TIMESTAMP.rawValue), labels = UInt16(CTA_LABELS.rawValue)
    static let countersOrig = UInt16(CTA_COUNTERS_ORIG.rawValue), countersReply = UInt16(CTA_COUNTERS_REPLY.rawValue)
    static let tupleIP = UInt16(CTA_TUPLE_IP.rawValue), tupleProto = UInt16(CTA_TUPLE_PROTO.rawValue)
    static let ipv4Source = UInt16(CTA_IP_V4_SRC.rawValue), ipv4Destination = UInt16(CTA_IP_V4_DST.rawValue)
    static let ipv6Source = UInt16(CTA_IP_V6_SRC.rawValue), ipv6Destination = UInt16(CTA_IP_V6_DST.rawValue)
    static let protoNumber = UInt16(CTA_PROTO_NUM.rawValue)
    static let protoSourcePort = UInt16(CTA_PROTO_SRC_PORT.rawValue), protoDestinationPort = UInt16(CTA_PROTO_DST_PORT.rawValue)
    static let icmpID = UInt16(CTA_PROTO_ICMP_ID.rawValue), icmpType = UInt16(CTA_PROTO_ICMP_TYPE.rawValue)
    static let icmpCode = UInt16(CTA_PROTO_ICMP_CODE.rawValue), icmpv6ID = UInt16(CTA_PROTO_ICMPV6_ID.rawValue)
    static let icmpv6Type = UInt16(CTA_PROTO_ICMPV6_TYPE.rawValue), icmpv6Code = UInt16(CTA_PROTO_ICMPV6_CODE.rawValue)
    static let protoinfoTCP = UInt16(CTA_PROTOINFO_TCP.rawValue), tcpState = UInt16(CTA_PROTOINFO_TCP_STATE.rawValue)
    static let helpName = UInt16(CTA_HELP_NAME.rawValue), timestampStart = UInt16(CTA_TIMESTAMP_START.rawValue)
    static let packets = UInt16(CTA_COUNTERS_PACKETS.rawValue), bytes = UInt16(CTA_COUNTERS_BYTES.rawValue)
    static let packets32 = UInt16(CTA_COUNTERS32_PACKETS.rawValue), bytes32 = UInt16(CTA_COUNTERS32_BYTES.rawValue)

    /// nil when the message has no original tuple or an attribute runs past the message. Without `detail`, the
    /// reply tuple, counters and labels are skipped (a summary does not use them).
    static func parse(_ message: UnsafePointer<nlmsghdr>, detail: Bool = true) -> ConntrackEntry? {
        let length = Int(message.pointee.nlmsg_len)
        let headers = MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size
        guard length >= headers else { return nil }
        let base = UnsafeRawPointer(message)
        let family = base.load(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: UInt8.self)
        var entry = ConntrackEntry(
            family: family, l4proto: 0, source: IPAddress(ipv4: 0), destination: IPAddress(ipv4: 0))
        var sawTuple = false
        let complete = NLA.forEach(base + headers, count: length - headers) { type, payload, size in
            switch type {
            case tupleOrig:
                sawTuple = true
                return tuple(payload, size, into: &entry.original, l4proto: &entry.l4proto)
            case tupleReply where detail:
                var reply = ConntrackTuple(source: IPAddress(ipv4: 0), destination: IPAddress(ipv4: 0))
                var l4proto: UInt8 = 0
                guard tuple(payload, size, into: &reply, l4proto: &l4proto) else { return false }
                entry.reply = reply
            case status: if let v = NLA.u32(payload, size) { entry.status = v }
            case timeout: entry.timeout = NLA.u32(payload, size)
            case mark: entry.mark = NLA.u32(payload, size)
            case id: entry.id = NLA.u32(payload, size)
            case zone: entry.zone = NLA.u16(payload, size)
            case labels where detail && size > 0: entry.labels = ConntrackLabels(payload, size)
            case countersOrig where detail, countersReply where detail:
                var counters = entry.counters ?? ConntrackCounters()
                let reply = type == countersReply
                let complete = NLA.forEach(payload, count: size) { type, payload, size in
                    let value: UInt64? =
                        switch type {
                        case packets, bytes: NLA.u64(payload, size)
                        case packets32, bytes32: NLA.u32(payload, size).map(UInt64.init)
                        default: nil
                        }
                    guard let value else { return true }
                    switch (type == packets || type == packets32, reply) {
                    case (true, false): counters.originalPackets = value
                    case (false, false): counters.originalBytes = value
                    case (true, true): counters.replyPackets = value
                    case (false, true): counters.replyBytes = value
                    }
                    return true
                }
                entry.counters = counters
                return complete
            case protoinfo:
                return NLA.forEach(payload, count: size) { type, payload, size in
                    guard type == protoinfoTCP else { return true }
                    return NLA.forEach(payload, count: size) { type, payload, size in
                        if type == tcpState, size >= 1 { entry.tcpState = payload.load(as: UInt8.self) }
                        return true
                    }
                }
            case help:
                return NLA.forEach(payload, count: size) { type, payload, size in
                    if type == helpName, size > 0 {
                        entry.helper = HelperName(UnsafeRawBufferPointer(start: payload, count: size))
                    }
                    return true
                }
            case timestamp:
                return NLA.forEach(payload, count: size) { type, payload, size in
                    if type == timestampStart { entry.startNanoseconds = NLA.u64(payload, size) }
                    return true
                }
            default: break
            }
            return true
        }
        return complete && sawTuple ? entry : nil
    }

    private static func tuple(
        _ start: UnsafeRawPointer, _ count: Int, into tuple: inout ConntrackTuple, l4proto: inout UInt8
    ) -> Bool {
        NLA.forEach(start, count: count) { type, payload, size in
            switch type {
            case tupleIP:
                return NLA.forEach(payload, count: size) { type, payload, size in
                    switch type {
                    case ipv4Source where size >= 4: tuple.source = IPAddress(ipv4: payload.loadUnaligned(as: UInt32.self))
                    case ipv4Destination where size >= 4: tuple.destination = IPAddress(ipv4: payload.loadUnaligned(as: UInt32.self))
                    case ipv6Source where size >= 16: tuple.source = IPAddress(ipv6: payload)
                    case ipv6Destination where size >= 16: tuple.destination = IPAddress(ipv6: payload)
                    default: break
                    }
                    return true
                }
            case tupleProto:
                return NLA.forEach(payload, count: size) { type, payload, size in
                    switch type {
                    case protoNumber where size >= 1: l4proto = payload.load(as: UInt8.self)
                    case protoSourcePort: tuple.sourcePort = NLA.u16(payload, size)
                    case protoDestinationPort: tuple.destinationPort = NLA.u16(payload, size)
                    case icmpID, icmpv6ID: tuple.icmpID = NLA.u16(payload, size)
                    case icmpType, icmpv6Type: tuple.icmpType = NLA.u8(payload, size)
                    case icmpCode, icmpv6Code: tuple.icmpCode = NLA.u8(payload, size)
                    default: break
                    }
                    return true
                }
            default:
                return true
            }
        }
    }
}
