import Foundation

/// One INVALID packet as nfnetlink_log delivered it: conntrack's log prefix ("nf_ct_proto_6: invalid tcp flag
/// combination ") and the packet's header.
public struct InvalidMessage: Sendable, Codable, Equatable {
    public var prefix: String
    public var packet: PacketHeader?

    public init(prefix: String, packet: PacketHeader?) {
        self.prefix = prefix
        self.packet = packet
    }

    /// The reason as the kernel states it: the prefix without "nf_ct_proto_N: " and trailing space, printable only.
    public var reason: String {
        var text = Substring(prefix)
        if text.hasPrefix("nf_ct_"), let colon = text.firstIndex(of: ":") { text = text[text.index(after: colon)...] }
        let clean = String(text).unicodeScalars.map { $0.value >= 0x20 && $0.value != 0x7f ? Character($0) : "?" }
        return String(clean).trimmingCharacters(in: .whitespaces)
    }

    /// What the reason is about, without the numbers in it: "SEQ is under the lower bound 1234 (…)" → its kind.
    public var kind: InvalidKind { InvalidKind(reason: reason) }
}

/// What an INVALID reason usually means and which remediation fits.
public enum InvalidKind: String, Sendable, Codable, CaseIterable {
    case flags, window, checksum, malformed, state, icmp, other

    public init(reason: String) {
        let r = reason.lowercased()
        if r.contains("flag") { self = .flags }
        else if r.contains("upper bound") || r.contains("lower bound") || r.contains("window") { self = .window }
        else if r.contains("checksum") { self = .checksum }
        else if r.contains("truncated") || r.contains("short") || r.contains("malformed") || r.contains("bad length") { self = .malformed }
        else if r.contains("state") || r.contains("new") || r.contains("ignored") || r.contains("rst") || r.contains("challenge") { self = .state }
        else if r.contains("icmp") { self = .icmp }
        else { self = .other }
    }

    public var meaning: String {
        switch self {
        case .flags:
            "A TCP flag combination no real stack sends (SYN+FIN, SYN+RST, no flags): scans or crafted packets. Nothing to tune; drop INVALID packets so they never reach NAT or a service untranslated."
        case .window:
            "The packet's sequence or acknowledgement number lies outside the window conntrack tracks for the connection. Usual causes: asymmetric routing (conntrack sees only one direction), packets lost or reordered before this host, a connection picked up mid-stream after a flush or failover, or offloads (GRO/LRO) merging segments. Confirm the routing first; `nf_conntrack_tcp_be_liberal=1` stops the checks, but also the protection they give."
        case .checksum:
            "The checksum does not match: usually checksum offload (the packet is checked before the NIC fills the sum, e.g. on a veth or tap from a VM), sometimes real corruption. Check offload settings (`ethtool -k IFACE`); `nf_conntrack_checksum=0` stops the check."
        case .malformed:
            "The header is cut short or its length is wrong: broken senders, fragments handled badly, or a tunnel MTU problem. Capture it (tcpdump) before changing anything."
        case .state:
            "The packet does not fit the connection's state (e.g. ignored while conntrack waits for a handshake, an RST out of window): often a connection that outlived its entry, a retransmission after a timeout, or two peers that disagree after a restart."
        case .icmp:
            "An ICMP error that refers to no known connection, or an ICMP type conntrack does not track; often harmless background noise or the echo of an earlier drop."
        case .other:
            "A reason ctdoctor has no note for; the kernel's words above are the best lead (search them in net/netfilter/nf_conntrack_proto_*.c)."
        }
    }
}

/// The reasons seen during a listen: grouped by the kernel's words, counted, with the flows they came from.
public struct InvalidResult: Sendable, Codable, Equatable {
    public struct Group: Sendable, Codable, Equatable {
        public var reason: String
        public var kind: InvalidKind
        public var count: Int
        /// "tcp 10.0.0.1:1234 → 10.0.0.2:80" → packets, the most frequent first (at most 5 kept).
        public var flows: [Flow]

        public struct Flow: Sendable, Codable, Equatable {
            public var flow: String
            public var count: Int
        }
    }

    public var groups: [Group]
    public var total: Int
    /// Messages the socket lost (ENOBUFS), as the listener counted them.
    public var lost: Int
    public var seconds: Double
    /// Whether conntrack tracked a probe datagram in this namespace while listening; false: nothing here uses
    /// conntrack (no rule, NAT or ct expression), so no packet can be INVALID; nil: not probed.
    public var tracking: Bool?
    /// The listener's receive buffer after it overran and grew; nil without an overrun.
    public var enlargedBuffer: Int?

    public static let notTracking = "conntrack is not active in this namespace: no rule, NAT or ct expression here uses it, so it tracks no packet and none can be INVALID. Listen in the namespace where the traffic is tracked, or add a rule that uses conntrack (e.g. `ct state invalid counter`)"

    public init(messages: [InvalidMessage], lost: Int, seconds: Double, tracking: Bool? = nil, enlargedBuffer: Int? = nil) {
        self.tracking = tracking
        self.enlargedBuffer = enlargedBuffer
        var order: [String] = []
        var counts: [String: Int] = [:]
        var flows: [String: [String: Int]] = [:]
        for message in messages {
            let reason = message.reason
            if counts[reason] == nil { order.append(reason) }
            counts[reason, default: 0] += 1
            flows[reason, default: [:]][message.packet?.description ?? "(no header)", default: 0] += 1
        }
        groups = order.map { reason in
            let top = (flows[reason] ?? [:]).sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5)
            return Group(reason: reason, kind: InvalidKind(reason: reason), count: counts[reason] ?? 0,
                         flows: top.map { Group.Flow(flow: $0.key, count: $0.value) })
        }.sorted { $0.count > $1.count }
        total = messages.count
        self.lost = lost
        self.seconds = seconds
    }

    public var kinds: [InvalidKind] {
        var seen: [InvalidKind] = []
        for g in groups where !seen.contains(g.kind) { seen.append(g.kind) }
        return seen
    }
}
