import CNetfilter

/// One nf_tables trace event (NFT_MSG_TRACE): a packet marked with `meta nftrace set 1` met a rule, returned from
/// a chain, or got a base chain's policy.
public struct TraceEvent: Sendable {
    /// enum nft_trace_types.
    public enum Kind: Sendable, Equatable {
        case rule, `return`, policy
        case other(UInt32)

        init(_ value: UInt32) {
            switch value {
            case NFT_TRACETYPE_RULE.rawValue: self = .rule
            case NFT_TRACETYPE_RETURN.rawValue: self = .return
            case NFT_TRACETYPE_POLICY.rawValue: self = .policy
            default: self = .other(value)
            }
        }

        public var name: String {
            switch self {
            case .rule: "rule"
            case .return: "return"
            case .policy: "policy"
            case .other(let value): "type\(value)"
            }
        }
    }

    /// NFTA_VERDICT_CODE (NF_DROP, NF_ACCEPT, … or NFT_CONTINUE, NFT_JUMP, …) and NFTA_VERDICT_CHAIN.
    public struct Verdict: Sendable, Equatable, CustomStringConvertible {
        public var code: Int32
        /// The chain of a jump or goto.
        public var chain: String?

        public init(code: Int32, chain: String? = nil) {
            self.code = code
            self.chain = chain
        }

        /// As `nft monitor trace` prints it: "accept", "drop", "jump CHAIN", "continue", …
        public var description: String {
            let name: String =
                switch code {
                case Int32(NF_DROP): "drop"
                case Int32(NF_ACCEPT): "accept"
                case Int32(NF_STOLEN): "stolen"
                case Int32(NF_QUEUE): "queue"
                case Int32(NF_REPEAT): "repeat"
                case NFT_CONTINUE.rawValue: "continue"
                case NFT_BREAK.rawValue: "break"
                case NFT_JUMP.rawValue: "jump"
                case NFT_GOTO.rawValue: "goto"
                case NFT_RETURN.rawValue: "return"
                default: "verdict \(code)"
                }
            return chain.map { "\(name) \($0)" } ?? name
        }
    }

    /// NFTA_TRACE_ID: the same for every event of one packet's journey.
    public var id: UInt32?
    public var kind: Kind?
    /// nfgenmsg.nfgen_family of the table (NFPROTO_INET, _IPV4, …).
    public var family: UInt8
    public var table: String?
    public var chain: String?
    public var ruleHandle: UInt64?
    public var verdict: Verdict?
    /// NFTA_TRACE_NFPROTO: the protocol the packet was processed as (IPv4 or IPv6 in an inet table).
    public var nfproto: UInt32?
    /// NFTA_TRACE_POLICY: the base chain's policy that decided (with kind `.policy`).
    public var policy: UInt32?
    /// Input and output ifindex.
    public var inInterface: UInt32?
    public var outInterface: UInt32?
    public var mark: UInt32?
    public var networkHeader: [UInt8]
    public var transportHeader: [UInt8]

    public init(family: UInt8) {
        self.family = family
        networkHeader = []
        transportHeader = []
    }

    /// The IP and transport headers of the traced packet, when they can be read.
    public var headers: PacketHeaders? {
        PacketHeaders(network: networkHeader, transport: transportHeader.isEmpty ? nil : transportHeader)
    }

    /// Decodes an NFT_MSG_TRACE message; nil for other messages or a malformed one.
    static func decode(_ message: UnsafePointer<nlmsghdr>) -> TraceEvent? {
        guard let attributes = NfnetlinkMessage.attributes(message, of: NFNL_SUBSYS_NFTABLES, NFT_MSG_TRACE.rawValue)
        else { return nil }
        var event = TraceEvent(family: NfnetlinkMessage.family(message))
        let complete = NLA.forEach(attributes) { type, payload, size in
            switch UInt32(type) {
            case NFTA_TRACE_ID.rawValue: event.id = NLA.u32(payload, size)
            case NFTA_TRACE_TYPE.rawValue: event.kind = NLA.u32(payload, size).map(Kind.init)
            case NFTA_TRACE_TABLE.rawValue: event.table = NLA.string(payload, size)
            case NFTA_TRACE_CHAIN.rawValue: event.chain = NLA.string(payload, size)
            case NFTA_TRACE_RULE_HANDLE.rawValue: event.ruleHandle = NLA.u64(payload, size)
            case NFTA_TRACE_NFPROTO.rawValue: event.nfproto = NLA.u32(payload, size)
            case NFTA_TRACE_POLICY.rawValue: event.policy = NLA.u32(payload, size)
            case NFTA_TRACE_IIF.rawValue: event.inInterface = NLA.u32(payload, size)
            case NFTA_TRACE_OIF.rawValue: event.outInterface = NLA.u32(payload, size)
            case NFTA_TRACE_MARK.rawValue: event.mark = NLA.u32(payload, size)
            case NFTA_TRACE_NETWORK_HEADER.rawValue: event.networkHeader = NLA.bytes(payload, size)
            case NFTA_TRACE_TRANSPORT_HEADER.rawValue: event.transportHeader = NLA.bytes(payload, size)
            case NFTA_TRACE_VERDICT.rawValue:
                var code: Int32?
                var chain: String?
                let complete = NLA.forEach(payload, count: size) { type, payload, size in
                    switch UInt32(type) {
                    case NFTA_VERDICT_CODE.rawValue: code = NLA.u32(payload, size).map { Int32(bitPattern: $0) }
                    case NFTA_VERDICT_CHAIN.rawValue: chain = NLA.string(payload, size)
                    default: break
                    }
                    return true
                }
                if let code { event.verdict = Verdict(code: code, chain: chain) }
                return complete
            default: break
            }
            return true
        }
        return complete ? event : nil
    }
}

/// A subscription to nf_tables traces (NFNLGRP_NFTRACE) in one network namespace, as `nft monitor trace` makes.
/// Needs CAP_NET_ADMIN there (EPERM otherwise). Only packets a rule marks with `meta nftrace set 1` are traced,
/// and only while someone listens.
public struct TraceListener: ~Copyable {
    private var receiver: ListenerSocket

    public init(netns: String? = nil, receiveBuffer: ReceiveBufferPolicy = .standard) throws(NetlinkError) {
        let socket = try ListenerSocket(netns: netns, name: "nf_tables trace", policy: receiveBuffer)
        try socket.join(NFNLGRP_NFTRACE, name: "NFNLGRP_NFTRACE")
        receiver = socket
    }

    /// Waits up to `timeoutMilliseconds` for trace events and returns those queued (at most `limit`). Traces
    /// carry no sequence number, so after an overrun `lost` is nil: some were lost, how many is unknown.
    public mutating func poll(timeoutMilliseconds: Int, limit: Int = 10_000) throws(NetlinkError) -> ListenerBatch<TraceEvent> {
        try receiver.poll(timeoutMilliseconds: timeoutMilliseconds, limit: limit, decode: TraceEvent.decode)
    }

    /// The socket's receive buffer as the kernel reports it.
    public var receiveBufferBytes: Int { receiver.receiveBufferBytes }

    /// The socket, for a caller that waits on several descriptors with poll(2); it stays owned by the listener.
    public var fileDescriptor: Int32 { receiver.socket.fileDescriptor }
}
