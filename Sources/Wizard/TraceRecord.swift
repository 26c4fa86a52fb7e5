import Foundation
/// One nf_tables trace event, as the trace listener decodes it (NFTA_TRACE_*).
public struct TraceRecord: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case rule, `return`, policy }

    public var id: UInt32
    /// nfproto of the table: "ip", "ip6", "inet", "bridge", "arp", "netdev".
    public var family: String
    public var table: String
    public var chain: String
    public var kind: Kind
    public var ruleHandle: UInt64?
    /// accept, drop, continue, jump, goto, return, queue, stolen, break.
    public var verdict: String?
    /// The chain a jump or goto went to.
    public var verdictChain: String?
    public var inInterface: String?
    public var outInterface: String?
    public var packet: PacketHeader?

    public init(id: UInt32, family: String, table: String, chain: String, kind: Kind, ruleHandle: UInt64? = nil,
                verdict: String? = nil, verdictChain: String? = nil, inInterface: String? = nil,
                outInterface: String? = nil, packet: PacketHeader? = nil) {
        self.id = id
        self.family = family
        self.table = table
        self.chain = chain
        self.kind = kind
        self.ruleHandle = ruleHandle
        self.verdict = verdict
        self.verdictChain = verdictChain
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.packet = packet
    }

    public var place: String { "\(family) \(table) \(chain)" }
}

/// The addresses, ports and TCP flags of a packet, decoded from its network and transport headers.
public struct PacketHeader: Sendable, Codable, Equatable, Hashable {
    public var source: String
    public var destination: String
    public var proto: String
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?
    public var tcpFlags: String?

    public init(source: String, destination: String, proto: String, sourcePort: UInt16? = nil,
                destinationPort: UInt16? = nil, tcpFlags: String? = nil) {
        self.source = source
        self.destination = destination
        self.proto = proto
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.tcpFlags = tcpFlags
    }

    public var from: String { Self.endpoint(source, sourcePort) }
    public var to: String { Self.endpoint(destination, destinationPort) }
    public var description: String { "\(proto) \(from) → \(to)" + (tcpFlags.map { " [\($0)]" } ?? "") }

    public static func endpoint(_ address: String, _ port: UInt16?) -> String {
        guard let port else { return address }
        return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Decodes an IPv4 or IPv6 header and, when given, the transport header after it. Nil for anything short or
    /// unknown: trace and log messages come from the kernel, but are never trusted to be well formed.
    public static func decode(network: [UInt8], transport: [UInt8]? = nil) -> PacketHeader? {
        guard let first = network.first else { return nil }
        var proto: UInt8
        var source: String, destination: String
        var rest: ArraySlice<UInt8>
        switch first >> 4 {
        case 4:
            let headerLength = Int(first & 0x0f) * 4
            guard network.count >= 20, headerLength >= 20 else { return nil }
            proto = network[9]
            source = network[12..<16].map(String.init).joined(separator: ".")
            destination = network[16..<20].map(String.init).joined(separator: ".")
            rest = network.count > headerLength ? network[headerLength...] : []
        case 6:
            guard network.count >= 40 else { return nil }
            proto = network[6]
            source = ipv6(network[8..<24])
            destination = ipv6(network[24..<40])
            rest = network[40...]
        default:
            return nil
        }
        let l4 = transport.map { ArraySlice($0) } ?? rest
        var header = PacketHeader(source: source, destination: destination, proto: protocolName(proto))
        let b = Array(l4)
        if (proto == 6 || proto == 17 || proto == 132), b.count >= 4 {
            header.sourcePort = UInt16(b[0]) << 8 | UInt16(b[1])
            header.destinationPort = UInt16(b[2]) << 8 | UInt16(b[3])
        }
        if proto == 6, b.count >= 14 { header.tcpFlags = tcpFlags(b[13]) }
        return header
    }

    public static func protocolName(_ number: UInt8) -> String {
        switch number {
        case 1: "icmp"
        case 6: "tcp"
        case 17: "udp"
        case 58: "icmpv6"
        case 132: "sctp"
        default: "proto-\(number)"
        }
    }

    static func tcpFlags(_ byte: UInt8) -> String {
        let names: [(UInt8, String)] = [(0x02, "SYN"), (0x10, "ACK"), (0x01, "FIN"), (0x04, "RST"), (0x08, "PSH"), (0x20, "URG")]
        let set = names.filter { byte & $0.0 != 0 }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: ",")
    }

    /// RFC 5952 text: lower case, leading zeros dropped, the longest run of zero groups as "::".
    static func ipv6(_ bytes: ArraySlice<UInt8>) -> String {
        let b = Array(bytes)
        let groups = (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (i, g) in groups.enumerated() {
            if g == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":"), tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}
