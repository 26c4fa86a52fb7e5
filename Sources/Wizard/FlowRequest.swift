import Foundation

/// The flow a person asks about: every answer a flow can ask for, filled from flags or from questions. Values are
/// validated here, because they end up in nft rules and command lines.
public struct FlowRequest: Sendable, Codable, Equatable {
    public enum Proto: String, Sendable, Codable, CaseIterable {
        case tcp, udp, icmp

        /// The IP protocol number nf_conntrack_log_invalid selects (ICMPv6 is 58).
        public func number(ipv6: Bool) -> Int {
            switch self {
            case .tcp: 6
            case .udp: 17
            case .icmp: ipv6 ? 58 : 1
            }
        }
    }

    public var proto: Proto?
    public var source: String?
    public var destination: String?
    public var destinationPort: UInt16?
    public var interface: String?
    /// How long to trace or listen, seconds.
    public var duration: Int
    /// Stop after this many traced packets or INVALID reasons.
    public var packets: Int

    public init(proto: Proto? = nil, source: String? = nil, destination: String? = nil, destinationPort: UInt16? = nil,
                interface: String? = nil, duration: Int = 10, packets: Int = 50) {
        self.proto = proto
        self.source = source
        self.destination = destination
        self.destinationPort = destinationPort
        self.interface = interface
        self.duration = duration
        self.packets = packets
    }

    public var isIPv6: Bool { (destination ?? source).map(Address.isIPv6) ?? false }

    /// The question fields a flow can ask.
    public enum Field: String, Sendable, Codable {
        case proto, source = "src", destination = "dst", destinationPort = "dport", interface = "iface"

        public var flag: String { "--\(rawValue)" }

        public var question: String {
            switch self {
            case .proto: "Protocol (tcp, udp, icmp)"
            case .source: "Source address (empty: any)"
            case .destination: "Destination address the client connects to (before any DNAT)"
            case .destinationPort: "Destination port the client connects to (before any DNAT)"
            case .interface: "Interface the packets arrive on (empty: any)"
            }
        }
    }

    public func has(_ field: Field) -> Bool {
        switch field {
        case .proto: proto != nil
        case .source: source != nil
        case .destination: destination != nil
        case .destinationPort: destinationPort != nil
        case .interface: interface != nil
        }
    }

    /// Sets `field` from typed text; returns why it was refused. Empty text means "any" for optional fields.
    public mutating func set(_ field: Field, _ text: String) -> String? {
        let value = text.trimmingCharacters(in: .whitespaces)
        switch field {
        case .proto:
            guard let p = Proto(rawValue: value.isEmpty ? "tcp" : value.lowercased()) else { return "tcp, udp or icmp" }
            proto = p
        case .source, .destination:
            if value.isEmpty && field == .source { source = ""; return nil }
            guard Address.isValid(value) else { return "an IPv4 or IPv6 address, e.g. 192.0.2.10" }
            if field == .source { source = value } else { destination = value }
        case .destinationPort:
            guard let port = UInt16(value), port > 0 else { return "a port number from 1 to 65535" }
            destinationPort = port
        case .interface:
            guard value.isEmpty || Self.isInterfaceName(value) else { return "an interface name (letters, digits, . _ -; at most 15)" }
            interface = value
        }
        return nil
    }

    /// Linux interface names: 1–15 bytes, no '/', no whitespace; stricter here so a name is safe in any command.
    public static func isInterfaceName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 15 && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}

/// IP address literals (no names: nothing is resolved).
public enum Address {
    public static func isValid(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    public static func isIPv4(_ text: String) -> Bool {
        var buffer = in_addr()
        return text.count <= 15 && inet_pton(AF_INET, text, &buffer) == 1
    }

    public static func isIPv6(_ text: String) -> Bool {
        var buffer = in6_addr()
        return text.count <= 45 && inet_pton(AF_INET6, text, &buffer) == 1
    }
}
