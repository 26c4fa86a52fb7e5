import CNetfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One packet nfnetlink_log passed up: from an NFLOG / `log group N` rule, or from the kernel's own logging
/// (conntrack's nf_conntrack_log_invalid, legacy `-j TRACE`) when nfnetlink_log is the family's bound logger
/// (net.netfilter.nf_log.N = nfnetlink_log), which logs to group 0.
public struct NflogPacket: Sendable {
    /// nfgenmsg.nfgen_family: NFPROTO_IPV4 (2), NFPROTO_IPV6 (10), NFPROTO_BRIDGE (7), …
    public var family: UInt8
    /// NF_INET_* hook the packet was logged at (NFULA_PACKET_HDR).
    public var hook: UInt8?
    /// The link-layer protocol (ETH_P_*) of NFULA_PACKET_HDR.
    public var hardwareProtocol: UInt16?
    /// NFULA_PREFIX without its NUL, as the kernel sent it: a rule's prefix is whatever its author typed.
    public var prefixBytes: [UInt8]
    public var mark: UInt32?
    /// ifindex of the input and output devices (NFULA_IFINDEX_INDEV / _OUTDEV), in the listener's namespace.
    public var inInterface: UInt32?
    public var outInterface: UInt32?
    /// NFULA_SEQ: this group's message number, counting from 0 at the bind.
    public var sequence: UInt32?
    /// The first bytes of the packet from its network header on (NFULA_PAYLOAD), up to the copy range.
    public var payload: [UInt8]

    public init(
        family: UInt8, hook: UInt8? = nil, hardwareProtocol: UInt16? = nil, prefixBytes: [UInt8] = [],
        mark: UInt32? = nil, inInterface: UInt32? = nil, outInterface: UInt32? = nil, sequence: UInt32? = nil,
        payload: [UInt8] = []
    ) {
        self.family = family
        self.hook = hook
        self.hardwareProtocol = hardwareProtocol
        self.prefixBytes = prefixBytes
        self.mark = mark
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.sequence = sequence
        self.payload = payload
    }

    /// The prefix as text; bytes that are not UTF-8 become U+FFFD. Not sanitized: escape it before a terminal.
    public var prefix: String { String(decoding: prefixBytes, as: UTF8.self) }

    /// The IP and transport headers at the start of `payload`, when they can be read.
    public var headers: PacketHeaders? { PacketHeaders(payload) }

    /// Decodes an NFULNL_MSG_PACKET message; nil for other messages or a malformed one.
    static func decode(_ message: UnsafePointer<nlmsghdr>) -> NflogPacket? {
        guard let attributes = NfnetlinkMessage.attributes(message, of: NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET.rawValue)
        else { return nil }
        var packet = NflogPacket(family: NfnetlinkMessage.family(message))
        let complete = NLA.forEach(attributes) { type, payload, size in
            switch UInt32(type) {
            case NFULA_PACKET_HDR.rawValue where size >= 4:
                // struct nfulnl_msg_packet_hdr: __be16 hw_protocol, __u8 hook, __u8 _pad.
                packet.hardwareProtocol = NLA.u16(payload, size)
                packet.hook = payload.load(fromByteOffset: 2, as: UInt8.self)
            case NFULA_MARK.rawValue: packet.mark = NLA.u32(payload, size)
            case NFULA_IFINDEX_INDEV.rawValue: packet.inInterface = NLA.u32(payload, size)
            case NFULA_IFINDEX_OUTDEV.rawValue: packet.outInterface = NLA.u32(payload, size)
            case NFULA_SEQ.rawValue: packet.sequence = NLA.u32(payload, size)
            case NFULA_PREFIX.rawValue: packet.prefixBytes = NLA.stringBytes(payload, size)
            case NFULA_PAYLOAD.rawValue: packet.payload = NLA.bytes(payload, size)
            default: break
            }
            return true
        }
        return complete ? packet : nil
    }
}

/// An nfnetlink_log listener bound to one group in one network namespace: it receives what NFLOG rules of that
/// group log and, for group 0, what the kernel logs through nfnetlink_log when that is the family's bound
/// logger. Binding needs CAP_NET_ADMIN there (EPERM); a group another socket has bound answers EBUSY. The group
/// is released when the listener goes away (the kernel frees it when the socket closes).
public struct NflogListener: ~Copyable {
    private var receiver: ListenerSocket
    public let group: UInt16
    /// Packets that arrived while the bind was being acknowledged; handed out by the first poll.
    private var pending: [NflogPacket] = []
    private var pendingUndecodable = 0
    /// The NFULA_SEQ the next packet should carry; a larger one means packets were lost in between. The kernel
    /// numbers a group's packets from 0 when it is bound (here), so a loss before the first packet read counts too.
    private var expectedSequence: UInt32 = 0

    /// Binds `group` with copy mode NFULNL_COPY_PACKET (the first `copyRange` bytes of each packet) and
    /// NFULNL_CFG_F_SEQ, so lost packets are counted exactly.
    ///
    /// `bindLoggerFor` (NFPROTO_* families) first makes nfnetlink_log the families' logger in that namespace
    /// (NFULNL_CFG_CMD_PF_UNBIND, then PF_BIND): that is `sysctl -w net.netfilter.nf_log.<family>=nfnetlink_log`,
    /// a change of the namespace that outlives this listener, so only a caller that journals and undoes it
    /// should ask. Without it, kernel messages arrive only if the binding is already nfnetlink_log.
    public init(
        netns: String? = nil, group: UInt16 = 0, copyRange: UInt32 = 128, bindLoggerFor families: [UInt8] = [],
        receiveBuffer: ReceiveBufferPolicy = .standard
    ) throws(NetlinkError) {
        var socket = try ListenerSocket(netns: netns, name: "nfnetlink_log group \(group)", policy: receiveBuffer)
        var early = Early()
        for family in families {
            try Self.configure(&socket, group: 0, family: family, name: "NFULNL_CFG_CMD_PF_UNBIND", into: &early) { message in
                Self.putCommand(message, NFULNL_CFG_CMD_PF_UNBIND)
            }
            try Self.configure(&socket, group: 0, family: family, name: "NFULNL_CFG_CMD_PF_BIND", into: &early) { message in
                Self.putCommand(message, NFULNL_CFG_CMD_PF_BIND)
            }
        }
        // One message: the instance is created, set to copy packets and to number them under one request, so no
        // packet of this listener's comes without NFULA_SEQ.
        try Self.configure(
            &socket, group: group, family: UInt8(AF_UNSPEC), name: "NFULNL_CFG_CMD_BIND group \(group)", into: &early
        ) { message in
            Self.putCommand(message, NFULNL_CFG_CMD_BIND)
            // struct nfulnl_msg_config_mode (packed): __be32 copy_range, __u8 copy_mode, __u8 _pad.
            var mode: (UInt32, UInt8, UInt8) = (copyRange.bigEndian, UInt8(NFULNL_COPY_PACKET), 0)
            mnl_attr_put(message, UInt16(NFULA_CFG_MODE.rawValue), 6, &mode)
            mnl_attr_put_u16(message, UInt16(NFULA_CFG_FLAGS.rawValue), UInt16(NFULNL_CFG_F_SEQ).bigEndian)
        }
        receiver = socket
        self.group = group
        pending = early.packets
        pendingUndecodable = early.undecodable
    }

    /// Waits up to `timeoutMilliseconds` for packets and returns those queued (at most `limit`), with `lost`
    /// counted from gaps in NFULA_SEQ: exact for every packet lost before the last one received.
    public mutating func poll(timeoutMilliseconds: Int, limit: Int = 10_000) throws(NetlinkError) -> ListenerBatch<NflogPacket> {
        let wait = pending.isEmpty ? timeoutMilliseconds : 0
        var batch = try receiver.poll(timeoutMilliseconds: wait, limit: limit, decode: NflogPacket.decode)
        batch.messages = pending + batch.messages
        batch.undecodable += pendingUndecodable
        pending = []
        pendingUndecodable = 0
        var lost = 0
        for packet in batch.messages {
            guard let sequence = packet.sequence else { continue }
            let gap = sequence &- expectedSequence
            // A gap of more than 2^31 is a packet from before (reordering cannot happen on one socket).
            if gap < 1 << 31 { lost += Int(gap) }
            expectedSequence = sequence &+ 1
        }
        batch.lost = lost
        return batch
    }

    /// The socket's receive buffer as the kernel reports it.
    public var receiveBufferBytes: Int { receiver.receiveBufferBytes }

    /// The socket, for a caller that waits on several descriptors with poll(2); it stays owned by the listener.
    public var fileDescriptor: Int32 { receiver.socket.fileDescriptor }

    /// Packets that came before the last acknowledgement of the setup.
    private struct Early {
        var packets: [NflogPacket] = []
        var undecodable = 0
    }

    private static func configure(
        _ socket: inout ListenerSocket, group: UInt16, family: UInt8, name: String, into early: inout Early,
        _ attributes: (UnsafeMutablePointer<nlmsghdr>) -> Void
    ) throws(NetlinkError) {
        let request = NetlinkRequest(
            subsystem: UInt8(NFNL_SUBSYS_ULOG), message: UInt8(NFULNL_MSG_CONFIG.rawValue), dump: false,
            family: family, name: name)
        try socket.exchange(request, resourceID: group, attributes: attributes) { message in
            if let packet = NflogPacket.decode(message) { early.packets.append(packet) } else { early.undecodable += 1 }
        }
    }

    /// NFULA_CFG_CMD: struct nfulnl_msg_config_cmd { __u8 command; }.
    private static func putCommand(_ message: UnsafeMutablePointer<nlmsghdr>, _ command: nfulnl_msg_config_cmds) {
        mnl_attr_put_u8(message, UInt16(NFULA_CFG_CMD.rawValue), UInt8(command.rawValue))
    }
}
