import DoctorCore

/// Whether the host asks conntrack to log INVALID packets, and for which protocol families.
///
/// `nf_conntrack_log_invalid` holds an L4 protocol number (255 = every protocol), not a switch.
/// Conntrack logs through `nf_log_packet` with the packet's own family, so ICMP (1) needs only an
/// IPv4 logger, ICMPv6 (58) only an IPv6 one, and anything else both (IPv6 when this kernel has it).
struct LoggingWants {
    static let key = "net.netfilter.nf_conntrack_log_invalid"
    static let ipv6BindingKey = "net.netfilter.nf_log.10"

    enum State: Equatable {
        /// 0, or no such key (nothing to log with).
        case off
        case on(protocolNumber: Int, families: [Int])
        /// The setting could not be read; the reading says why.
        case unknown(Reading<Int>)
    }

    let state: State

    init(_ snapshot: HostSnapshot) {
        let reading = snapshot.sysctls.int(Self.key)
        switch reading {
        case .value(0), .absent: state = .off
        case .value(let proto): state = .on(protocolNumber: proto, families: Self.families(for: proto, snapshot))
        case .denied, .failed: state = .unknown(reading)
        }
    }

    static func families(for proto: Int, _ snapshot: HostSnapshot) -> [Int] {
        switch proto {
        case 1: [NFProto.ipv4]
        case 58: [NFProto.ipv6]
        default: snapshot.sysctls.entry(ipv6BindingKey) == nil ? [NFProto.ipv4] : [NFProto.ipv4, NFProto.ipv6]
        }
    }

    var isWanted: Bool {
        if case .on = state { return true }
        return false
    }

    /// The families that need a logger; empty when logging is not wanted.
    var families: [Int] {
        if case .on(_, let families) = state { return families }
        return []
    }

    /// "net.netfilter.nf_conntrack_log_invalid = 255 (all protocols)".
    var observed: String {
        switch state {
        case .off: "\(Self.key) = 0"
        case .on(let proto, _): "\(Self.key) = \(IPProtocol.describe(proto))"
        case .unknown(let reading): "\(Self.key) \(Wording.reading(reading))"
        }
    }
}

/// NFPROTO numbers used by nf_log.
enum NFProto {
    static let ipv4 = 2
    static let bridge = 7
    static let ipv6 = 10

    /// "IPv4", "IPv6", "bridge".
    static func name(_ pf: Int) -> String {
        switch pf {
        case ipv4: "IPv4"
        case ipv6: "IPv6"
        case bridge: "bridge"
        case 3: "ARP"
        case 5: "netdev"
        default: "pf \(pf)"
        }
    }

    static func bindingKey(_ pf: Int) -> String { "net.netfilter.nf_log.\(pf)" }
}
