import CNetfilter
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// TCP header flags (byte 13 of the header).
public struct TCPFlags: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
    public static let ece = TCPFlags(rawValue: 0x40)
    public static let cwr = TCPFlags(rawValue: 0x80)

    static let names: [(TCPFlags, String)] = [
        (.syn, "SYN"), (.ack, "ACK"), (.fin, "FIN"), (.rst, "RST"), (.psh, "PSH"), (.urg, "URG"), (.ece, "ECE"),
        (.cwr, "CWR"),
    ]

    /// "SYN,FIN", or "none".
    public var description: String {
        let set = Self.names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: ",")
    }
}

/// The IPv4 or IPv6 header and the TCP / UDP / ICMP header after it, read from the first bytes of a packet, as
/// nfnetlink_log and nf_tables traces pass them up. Pure: bytes in, fields out; a truncated header gives the
/// fields that were there.
public struct PacketHeaders: Sendable, Equatable {
    /// 4 or 6.
    public var ipVersion: UInt8
    /// IPPROTO_* of the transport header (after any IPv6 extension headers).
    public var l4proto: UInt8
    public var source: IPAddress
    public var destination: IPAddress
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var tcpFlags: TCPFlags?
    public var icmpType: UInt8?
    public var icmpCode: UInt8?
    /// A fragment other than the first: it carries no transport header.
    public var isLaterFragment: Bool

    /// Reads `bytes` from the network header on; nil when no complete IP header is there.
    public init?(_ bytes: [UInt8]) {
        self.init(network: bytes, transport: nil)
    }

    /// `network` from the IP header on; `transport`, when given, is the transport header on its own (nf_tables
    /// traces send the two apart), otherwise it follows the IP header in `network`.
    public init?(network: [UInt8], transport: [UInt8]?) {
        guard let first = network.first else { return nil }
        var transportOffset: Int
        switch first >> 4 {
        case 4:
            guard network.count >= 20 else { return nil }
            let headerLength = Int(first & 0x0f) * 4
            guard headerLength >= 20 else { return nil }
            ipVersion = 4
            l4proto = network[9]
            source = Self.ipv4(network, 12)
            destination = Self.ipv4(network, 16)
            isLaterFragment = (UInt16(network[6]) << 8 | UInt16(network[7])) & 0x1fff != 0
            transportOffset = headerLength
        case 6:
            guard network.count >= 40 else { return nil }
            ipVersion = 6
            source = network.withUnsafeBytes { IPAddress(ipv6: $0.baseAddress! + 8) }
            destination = network.withUnsafeBytes { IPAddress(ipv6: $0.baseAddress! + 24) }
            var later = false
            (l4proto, transportOffset) = Self.skipExtensionHeaders(network, next: network[6], at: 40, later: &later)
            isLaterFragment = later
        default:
            return nil
        }
        guard !isLaterFragment else { return }
        if let transport {
            readTransport(transport, at: 0)
        } else if transportOffset <= network.count {
            readTransport(network, at: transportOffset)
        }
    }

    private static func ipv4(_ bytes: [UInt8], _ offset: Int) -> IPAddress {
        let value = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
        return IPAddress(ipv4: value.bigEndian)
    }

    /// Follows hop-by-hop, routing, destination options, fragment and AH headers to the transport protocol; an
    /// extension header cut off by the copy range ends the walk there.
    private static func skipExtensionHeaders(
        _ bytes: [UInt8], next: UInt8, at start: Int, later: inout Bool
    ) -> (UInt8, Int) {
        var next = next
        var offset = start
        for _ in 0..<8 {
            guard offset + 8 <= bytes.count else { return (next, offset) }
            switch Int32(next) {
            case Int32(IPPROTO_HOPOPTS), Int32(IPPROTO_ROUTING), Int32(IPPROTO_DSTOPTS):
                let length = (Int(bytes[offset + 1]) + 1) * 8
                next = bytes[offset]
                offset += length
            case Int32(IPPROTO_FRAGMENT):
                later = (UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])) >> 3 != 0
                next = bytes[offset]
                offset += 8
            case Int32(IPPROTO_AH):
                let length = (Int(bytes[offset + 1]) + 2) * 4
                next = bytes[offset]
                offset += length
            default:
                return (next, offset)
            }
        }
        return (next, offset)
    }

    private mutating func readTransport(_ bytes: [UInt8], at offset: Int) {
        let available = bytes.count - offset
        func u16(_ at: Int) -> UInt16 { UInt16(bytes[offset + at]) << 8 | UInt16(bytes[offset + at + 1]) }
        switch Int32(l4proto) {
        case Int32(IPPROTO_TCP), Int32(IPPROTO_UDP), Int32(IPPROTO_UDPLITE), Int32(IPPROTO_SCTP), Int32(IPPROTO_DCCP):
            guard available >= 4 else { return }
            sourcePort = u16(0)
            destinationPort = u16(2)
            if Int32(l4proto) == Int32(IPPROTO_TCP), available >= 14 { tcpFlags = TCPFlags(rawValue: bytes[offset + 13]) }
        case Int32(IPPROTO_ICMP), Int32(IPPROTO_ICMPV6):
            guard available >= 2 else { return }
            icmpType = bytes[offset]
            icmpCode = bytes[offset + 1]
        default:
            return
        }
    }

    public var protocolName: String { ConntrackEntry.protocolName(l4proto) }
}
