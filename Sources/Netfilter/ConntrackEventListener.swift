import CNetfilter

/// One conntrack event: an entry created, changed or destroyed, with the entry as the kernel sent it.
public struct ConntrackEvent: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case new, update, destroy
    }

    public var kind: Kind
    public var entry: ConntrackEntry

    public init(kind: Kind, entry: ConntrackEntry) {
        self.kind = kind
        self.entry = entry
    }

    /// IPCTNL_MSG_CT_NEW with NLM_F_CREATE|NLM_F_EXCL is a new entry, without them an update;
    /// IPCTNL_MSG_CT_DELETE is a destroy (ctnetlink_conntrack_event). nil for anything else.
    static func kind(type: UInt8, flags: UInt16) -> Kind? {
        switch UInt32(type) {
        case IPCTNL_MSG_CT_NEW.rawValue:
            let created = UInt16(NLM_F_CREATE | NLM_F_EXCL)
            return flags & created == created ? .new : .update
        case IPCTNL_MSG_CT_DELETE.rawValue:
            return .destroy
        default:
            return nil
        }
    }

    /// Decodes one message from the ctnetlink event groups; nil when it is not a conntrack event or is malformed.
    static func decode(_ message: UnsafePointer<nlmsghdr>) -> ConntrackEvent? {
        guard NfnetlinkMessage.subsystem(message) == UInt8(NFNL_SUBSYS_CTNETLINK),
            let kind = kind(type: NfnetlinkMessage.type(message), flags: message.pointee.nlmsg_flags),
            let entry = ConntrackMessage.parse(message)
        else { return nil }
        return ConntrackEvent(kind: kind, entry: entry)
    }
}

/// A subscription to ctnetlink's event groups (NFNLGRP_CONNTRACK_NEW / _UPDATE / _DESTROY) in one network
/// namespace, as `conntrack -E` makes. Subscribing needs CAP_NET_ADMIN there (EPERM otherwise). With
/// net.netfilter.nf_conntrack_events = 2 (the default since 5.17) the subscription itself turns events on; with
/// 0 nothing arrives, and nothing says so here: read the sysctl.
public struct ConntrackEventListener: ~Copyable {
    private var receiver: ListenerSocket

    public init(
        netns: String? = nil, kinds: Set<ConntrackEvent.Kind> = Set(ConntrackEvent.Kind.allCases),
        receiveBuffer: ReceiveBufferPolicy = .standard
    ) throws(NetlinkError) {
        let socket = try ListenerSocket(netns: netns, name: "conntrack events", policy: receiveBuffer)
        let groups: [(ConntrackEvent.Kind, nfnetlink_groups, String)] = [
            (.new, NFNLGRP_CONNTRACK_NEW, "NFNLGRP_CONNTRACK_NEW"),
            (.update, NFNLGRP_CONNTRACK_UPDATE, "NFNLGRP_CONNTRACK_UPDATE"),
            (.destroy, NFNLGRP_CONNTRACK_DESTROY, "NFNLGRP_CONNTRACK_DESTROY"),
        ]
        for (kind, group, name) in groups where kinds.contains(kind) {
            try socket.join(group, name: name)
        }
        receiver = socket
    }

    /// Waits up to `timeoutMilliseconds` for events and returns those queued (at most `limit`). Events carry no
    /// sequence number, so after an overrun `lost` is nil: some were lost, how many is unknown.
    public mutating func poll(timeoutMilliseconds: Int, limit: Int = 10_000) throws(NetlinkError) -> ListenerBatch<ConntrackEvent> {
        try receiver.poll(timeoutMilliseconds: timeoutMilliseconds, limit: limit, decode: ConntrackEvent.decode)
    }

    /// The socket's receive buffer as the kernel reports it.
    public var receiveBufferBytes: Int { receiver.receiveBufferBytes }

    /// The socket, for a caller that waits on several descriptors with poll(2); it stays owned by the listener.
    public var fileDescriptor: Int32 { receiver.socket.fileDescriptor }
}
