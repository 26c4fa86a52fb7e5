/// What `net.netfilter.nf_conntrack_log_invalid` asks for. It is an L4 protocol number, not a switch: 0 logs nothing,
/// 255 (IPPROTO_RAW) every protocol, any other value only INVALID packets of that one protocol
/// (`nf_l4proto_log_invalid` compares it with the packet's protocol). Every check that needs its meaning uses this
/// type; the verdicts are in the README's table and in `LogInvalidTests`.
public struct LogInvalid: Sendable, Equatable {
    public let protocolNumber: Int

    /// IPPROTO_RAW: every protocol.
    public static let allProtocols = 255

    /// Protocols conntrack has a tracker of its own for, which can mark (and so log) a packet INVALID.
    /// ICMP (1) and ICMPv6 (58) have one too, but only errors about unknown flows end up there.
    public static let transportTrackers: Set<Int> = [6, 17, 33, 47, 132, 136]
    public static let icmp: Set<Int> = [1, 58]

    /// nil for a number outside 0…255 (the key is a u8; SysctlKey.logInvalid's range rejects it first).
    public init?(_ value: Int) {
        guard (0...255).contains(value) else { return nil }
        protocolNumber = value
    }

    public enum Selection: Sendable, Equatable {
        /// 0: nothing is logged.
        case off
        /// 255: every protocol.
        case all
        /// A transport protocol with its own tracker (TCP, UDP, DCCP, GRE, SCTP, UDP-Lite): its INVALID packets only.
        case transport
        /// ICMP or ICMPv6 only: the TCP, UDP and SCTP packets that cause resets are never logged.
        case icmpOnly
        /// A protocol conntrack has no tracker for (the generic tracker never marks a packet INVALID): nothing is logged.
        case untracked
    }

    public var selection: Selection {
        switch protocolNumber {
        case 0: .off
        case Self.allProtocols: .all
        case let n where Self.icmp.contains(n): .icmpOnly
        case let n where Self.transportTrackers.contains(n): .transport
        default: .untracked
        }
    }

    /// Whether any INVALID packet is selected for logging (the loggers then matter).
    public var logsAnything: Bool { selection != .off && selection != .untracked }

    /// Whether the INVALID packets that matter (TCP, UDP, SCTP: the ones behind resets) can be explained.
    public var explainsTransport: Bool { selection == .all || selection == .transport }

    /// NFPROTO families whose logger must be bound for the lines to appear: conntrack logs with the packet's own
    /// family, so ICMP needs IPv4 only, ICMPv6 IPv6 only, anything else both (IPv6 when the kernel has it).
    public func families(ipv6: Bool) -> [Int] {
        guard logsAnything else { return [] }
        switch protocolNumber {
        case 1: return [NFProtoFamily.ipv4]
        case 58: return [NFProtoFamily.ipv6]
        default: return ipv6 ? [NFProtoFamily.ipv4, NFProtoFamily.ipv6] : [NFProtoFamily.ipv4]
        }
    }

    /// "TCP", "all protocols", "protocol 99".
    public var protocolName: String { Self.name(protocolNumber) ?? "protocol \(protocolNumber)" }

    /// "6 (TCP)", "255 (all protocols)", "0 (off)".
    public var description: String { "\(protocolNumber) (\(protocolNumber == 0 ? "off" : protocolName))" }

    static func name(_ number: Int) -> String? {
        switch number {
        case 1: "ICMP"
        case 6: "TCP"
        case 17: "UDP"
        case 33: "DCCP"
        case 47: "GRE"
        case 58: "ICMPv6"
        case 132: "SCTP"
        case 136: "UDP-Lite"
        case allProtocols: "all protocols"
        default: nil
        }
    }
}

/// NFPROTO numbers nf_log binds loggers for.
public enum NFProtoFamily {
    public static let ipv4 = 2
    public static let arp = 3
    public static let netdev = 5
    public static let bridge = 7
    public static let ipv6 = 10

    /// "IPv4", "IPv6", "bridge".
    public static func name(_ pf: Int) -> String {
        switch pf {
        case ipv4: "IPv4"
        case ipv6: "IPv6"
        case bridge: "bridge"
        case arp: "ARP"
        case netdev: "netdev"
        default: "pf \(pf)"
        }
    }
}

extension HostSnapshot {
    /// `nf_conntrack_log_invalid`, parsed and bounded.
    public var logInvalid: SysctlReading<LogInvalid> {
        sysctl(.logInvalid).flatMap { n in LogInvalid(n).map { .value($0) } ?? .error("nf_conntrack_log_invalid = \(n) is not a protocol number") }
    }

    /// The families `log` needs a logger for on this host (IPv6 when the kernel has an IPv6 nf_log binding).
    public func loggedFamilies(_ log: LogInvalid) -> [Int] {
        log.families(ipv6: sysctls.entry(SysctlKey.nfLogBinding(NFProtoFamily.ipv6).name) != nil)
    }
}
