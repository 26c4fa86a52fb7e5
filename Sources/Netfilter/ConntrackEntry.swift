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

/// The facts of one conntrack entry a summary needs. Plain values only, so passing one around is a copy.
public struct ConntrackEntry: Sendable {
    /// AF_INET (2) or AF_INET6 (10).
    public var family: UInt8
    /// IPPROTO_* of the original direction.
    public var l4proto: UInt8
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    /// TCP_CONNTRACK_* for TCP entries.
    public var tcpState: UInt8?
    /// IPS_* bits.
    public var status: UInt32
    /// Seconds left before the entry expires.
    public var timeout: UInt32?
    public var mark: UInt32?
    public var zone: UInt16?
    public var helper: HelperName?
    /// CTA_TIMESTAMP start in nanoseconds of the real-time clock; only with nf_conntrack_timestamp = 1.
    public var startNanoseconds: UInt64?
    public var id: UInt32?

    public static let seenReplyBit: UInt32 = 1 << 1
    public static let assuredBit: UInt32 = 1 << 2

    public var isAssured: Bool { status & Self.assuredBit != 0 }
    /// No packet seen in the reply direction: `conntrack -L` prints [UNREPLIED].
    public var isUnreplied: Bool { status & Self.seenReplyBit == 0 }

    public init(
        family: UInt8, l4proto: UInt8, source: IPAddress, destination: IPAddress, sourcePort: UInt16? = nil,
        destinationPort: UInt16? = nil, tcpState: UInt8? = nil, status: UInt32 = 0, timeout: UInt32? = nil,
        mark: UInt32? = nil, zone: UInt16? = nil, helper: HelperName? = nil, startNanoseconds: UInt64? = nil,
        id: UInt32? = nil
    ) {
        self.family = family
        self.l4proto = l4proto
        self.source = source
        self.destination = destination
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
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
        switch number {
        case 1: "icmp"
        case 2: "igmp"
        case 6: "tcp"
        case 17: "udp"
        case 33: "dccp"
        case 47: "gre"
        case 58: "icmpv6"
        case 132: "sctp"
        case 136: "udplite"
        default: "proto\(number)"
        }
    }
}

/// Reads one ctnetlink reply message straight into a `ConntrackEntry`: only the attributes a summary needs, with
/// lengths checked, nothing allocated. nfct_nlmsg_parse would validate and copy every attribute (counters, NAT
/// sequence adjustments, labels…) into a 500-byte object, which made up a fifth of `ctdoctor top`'s time.
enum ConntrackMessage {
    // enum ctattr_type and the nested enums of linux/netfilter/nfnetlink_conntrack.h.
    static let tupleOrig: UInt16 = 1, status: UInt16 = 3, protoinfo: UInt16 = 4, help: UInt16 = 5
    static let timeout: UInt16 = 7, mark: UInt16 = 8, id: UInt16 = 12, zone: UInt16 = 18, timestamp: UInt16 = 20
    static let tupleIP: UInt16 = 1, tupleProto: UInt16 = 2
    static let ipv4Source: UInt16 = 1, ipv4Destination: UInt16 = 2, ipv6Source: UInt16 = 3, ipv6Destination: UInt16 = 4
    static let protoNumber: UInt16 = 1, protoSourcePort: UInt16 = 2, protoDestinationPort: UInt16 = 3
    static let protoinfoTCP: UInt16 = 1, tcpState: UInt16 = 1, helpName: UInt16 = 1, timestampStart: UInt16 = 1

    /// nil when the message has no original tuple or an attribute runs past the message.
    static func parse(_ message: UnsafePointer<nlmsghdr>) -> ConntrackEntry? {
        let length = Int(message.pointee.nlmsg_len)
        let headers = 16 + 4  // nlmsghdr, nfgenmsg
        guard length >= headers else { return nil }
        let base = UnsafeRawPointer(message)
        let family = base.load(fromByteOffset: 16, as: UInt8.self)
        var entry = ConntrackEntry(
            family: family, l4proto: 0, source: IPAddress(ipv4: 0), destination: IPAddress(ipv4: 0))
        var sawTuple = false
        let complete = forEach(base + headers, count: length - headers) { type, payload, size in
            switch type {
            case tupleOrig:
                sawTuple = true
                return tuple(payload, size, into: &entry)
            case status: if let v = u32(payload, size) { entry.status = v }
            case timeout: entry.timeout = u32(payload, size)
            case mark: entry.mark = u32(payload, size)
            case id: entry.id = u32(payload, size)
            case zone: if size >= 2 { entry.zone = UInt16(bigEndian: payload.loadUnaligned(as: UInt16.self)) }
            case protoinfo:
                return forEach(payload, count: size) { type, payload, size in
                    guard type == protoinfoTCP else { return true }
                    return forEach(payload, count: size) { type, payload, size in
                        if type == tcpState, size >= 1 { entry.tcpState = payload.load(as: UInt8.self) }
                        return true
                    }
                }
            case help:
                return forEach(payload, count: size) { type, payload, size in
                    if type == helpName, size > 0 {
                        entry.helper = HelperName(UnsafeRawBufferPointer(start: payload, count: size))
                    }
                    return true
                }
            case timestamp:
                return forEach(payload, count: size) { type, payload, size in
                    if type == timestampStart, size >= 8 {
                        entry.startNanoseconds = UInt64(bigEndian: payload.loadUnaligned(as: UInt64.self))
                    }
                    return true
                }
            default: break
            }
            return true
        }
        return complete && sawTuple ? entry : nil
    }

    private static func tuple(_ start: UnsafeRawPointer, _ count: Int, into entry: inout ConntrackEntry) -> Bool {
        forEach(start, count: count) { type, payload, size in
            switch type {
            case tupleIP:
                return forEach(payload, count: size) { type, payload, size in
                    switch type {
                    case ipv4Source where size >= 4: entry.source = IPAddress(ipv4: payload.loadUnaligned(as: UInt32.self))
                    case ipv4Destination where size >= 4: entry.destination = IPAddress(ipv4: payload.loadUnaligned(as: UInt32.self))
                    case ipv6Source where size >= 16: entry.source = IPAddress(ipv6: payload)
                    case ipv6Destination where size >= 16: entry.destination = IPAddress(ipv6: payload)
                    default: break
                    }
                    return true
                }
            case tupleProto:
                return forEach(payload, count: size) { type, payload, size in
                    switch type {
                    case protoNumber where size >= 1: entry.l4proto = payload.load(as: UInt8.self)
                    case protoSourcePort where size >= 2: entry.sourcePort = UInt16(bigEndian: payload.loadUnaligned(as: UInt16.self))
                    case protoDestinationPort where size >= 2: entry.destinationPort = UInt16(bigEndian: payload.loadUnaligned(as: UInt16.self))
                    default: break
                    }
                    return true
                }
            default:
                return true
            }
        }
    }

    private static func u32(_ payload: UnsafeRawPointer, _ size: Int) -> UInt32? {
        size >= 4 ? UInt32(bigEndian: payload.loadUnaligned(as: UInt32.self)) : nil
    }

    /// Calls `body(type, payload, payload size)` for each attribute (struct nlattr: u16 length, u16 type, payload,
    /// padded to 4 bytes) in `count` bytes. False when an attribute's length is impossible or `body` says so.
    @inline(__always)
    private static func forEach(
        _ start: UnsafeRawPointer, count: Int, _ body: (UInt16, UnsafeRawPointer, Int) -> Bool
    ) -> Bool {
        var offset = 0
        while offset + 4 <= count {
            let length = Int(start.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = start.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff
            guard length >= 4, offset + length <= count else { return false }
            if !body(type, start + offset + 4, length - 4) { return false }
            offset += (length + 3) & ~3
        }
        return true
    }
}
