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

/// The facts of one conntrack entry a summary needs, copied out of the parsed nf_conntrack object.
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
    public var helper: String?
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
        mark: UInt32? = nil, zone: UInt16? = nil, helper: String? = nil, startNanoseconds: UInt64? = nil,
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

/// The one nf_conntrack object every reply message of a dump is parsed into.
struct ReusableConntrack: ~Copyable {
    private var object: OpaquePointer

    /// Attributes an entry may lack; left over from the previous entry they would be read as this one's.
    private static let optional: [nf_conntrack_attr] = [
        ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_SRC, ATTR_ORIG_IPV6_DST, ATTR_ORIG_PORT_SRC,
        ATTR_ORIG_PORT_DST, ATTR_ORIG_L4PROTO, ATTR_TCP_STATE, ATTR_STATUS, ATTR_TIMEOUT, ATTR_MARK, ATTR_ZONE,
        ATTR_HELPER_NAME, ATTR_TIMESTAMP_START, ATTR_ID,
    ]

    init() {
        object = nfct_new()
    }

    deinit {
        nfct_destroy(object)
    }

    /// Parses one reply message; nil when libnetfilter_conntrack cannot.
    mutating func parse(_ message: UnsafePointer<nlmsghdr>) -> ConntrackEntry? {
        // nfct_nlmsg_parse allocates for a helper's private data and a security context and never frees what a
        // previous parse allocated, so an object that holds either is replaced (nfct_destroy frees both).
        if nfct_attr_is_set(object, ATTR_HELPER_INFO) > 0 || nfct_attr_is_set(object, ATTR_SECCTX) > 0 {
            nfct_destroy(object)
            object = nfct_new()
        } else {
            for attribute in Self.optional { _ = nfct_attr_unset(object, attribute) }
        }
        guard nfct_nlmsg_parse(message, object) == 0 else { return nil }
        return entry()
    }

    private func entry() -> ConntrackEntry {
        let ct = object
        func isSet(_ attribute: nf_conntrack_attr) -> Bool { nfct_attr_is_set(ct, attribute) > 0 }
        let family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO)
        let source: IPAddress, destination: IPAddress
        if family == UInt8(AF_INET6), let src = nfct_get_attr(ct, ATTR_ORIG_IPV6_SRC),
           let dst = nfct_get_attr(ct, ATTR_ORIG_IPV6_DST) {
            source = IPAddress(ipv6: src)
            destination = IPAddress(ipv6: dst)
        } else {
            source = IPAddress(ipv4: nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_SRC))
            destination = IPAddress(ipv4: nfct_get_attr_u32(ct, ATTR_ORIG_IPV4_DST))
        }
        var entry = ConntrackEntry(
            family: family, l4proto: nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO), source: source, destination: destination,
            status: nfct_get_attr_u32(ct, ATTR_STATUS))
        if isSet(ATTR_ORIG_PORT_SRC) { entry.sourcePort = UInt16(bigEndian: nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC)) }
        if isSet(ATTR_ORIG_PORT_DST) { entry.destinationPort = UInt16(bigEndian: nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST)) }
        if isSet(ATTR_TCP_STATE) { entry.tcpState = nfct_get_attr_u8(ct, ATTR_TCP_STATE) }
        if isSet(ATTR_TIMEOUT) { entry.timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT) }
        if isSet(ATTR_MARK) { entry.mark = nfct_get_attr_u32(ct, ATTR_MARK) }
        if isSet(ATTR_ZONE) { entry.zone = nfct_get_attr_u16(ct, ATTR_ZONE) }
        if isSet(ATTR_TIMESTAMP_START) { entry.startNanoseconds = nfct_get_attr_u64(ct, ATTR_TIMESTAMP_START) }
        if isSet(ATTR_ID) { entry.id = nfct_get_attr_u32(ct, ATTR_ID) }
        if isSet(ATTR_HELPER_NAME), let name = nfct_get_attr(ct, ATTR_HELPER_NAME) {
            entry.helper = String(cString: name.assumingMemoryBound(to: CChar.self))
        }
        return entry
    }
}
