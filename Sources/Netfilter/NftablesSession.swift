import CNetfilter

/// The attributes of a netlink message or of a nested attribute, read in place: a view over bytes that live only as
/// long as the receive buffer, so nothing is copied unless the reader asks for it.
public struct NetlinkAttributes: Sequence {
    public let bytes: UnsafeRawBufferPointer

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public struct Attribute {
        /// The type without the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags.
        public let type: UInt16
        public let payload: UnsafeRawBufferPointer

        public var nested: NetlinkAttributes { NetlinkAttributes(payload) }

        /// A NUL-terminated string, without its terminator (and without anything a sender put after one).
        public var string: String {
            let end = payload.firstIndex(of: 0) ?? payload.count
            return String(decoding: UnsafeRawBufferPointer(rebasing: payload[0..<end]), as: UTF8.self)
        }

        /// Big-endian unsigned integer of up to 8 bytes (network byte order, as nf_tables sends them).
        public var bigEndian: UInt64 {
            payload.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }

        public var bytes: [UInt8] { Array(payload) }
    }

    public struct Iterator: IteratorProtocol {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        public mutating func next() -> Attribute? {
            // struct nlattr { u16 nla_len; u16 nla_type; }, in host order, padded to 4 bytes.
            guard offset + 4 <= bytes.count else { return nil }
            let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = bytes.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & 0x3fff
            guard length >= 4, offset + length <= bytes.count else { return nil }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[(offset + 4)..<(offset + length)])
            offset += (length + 3) & ~3
            return Attribute(type: type, payload: payload)
        }
    }

    public func makeIterator() -> Iterator { Iterator(bytes: bytes) }

    public subscript(type: UInt16) -> Attribute? { first { $0.type == type } }
}

/// nf_tables over nfnetlink (NFNL_SUBSYS_NFTABLES): dumps of tables, chains, rules, set elements and objects, each
/// reply message handed over as its address family and attributes, read in place from one receive buffer. The
/// caller decodes what it needs while the message is in the buffer, so a ruleset of any size costs one buffer.
public struct NftablesSession: ~Copyable {
    public static let subsystem: UInt8 = 10

    public enum Message: UInt8, Sendable {
        case getTable = 1, getChain = 4, getRule = 7, getSet = 10, getSetElements = 13, getGeneration = 16, getObject = 19

        var name: String {
            switch self {
            case .getTable: "NFT_MSG_GETTABLE"
            case .getChain: "NFT_MSG_GETCHAIN"
            case .getRule: "NFT_MSG_GETRULE"
            case .getSet: "NFT_MSG_GETSET"
            case .getSetElements: "NFT_MSG_GETSETELEM"
            case .getGeneration: "NFT_MSG_GETGEN"
            case .getObject: "NFT_MSG_GETOBJ"
            }
        }
    }

    private var socket: NetlinkSocket
    private let buffer: UnsafeMutableRawBufferPointer

    /// Opens a socket in the caller's network namespace. Opening succeeds without privileges; each request then
    /// fails with EPERM (nfnetlink asks for CAP_NET_ADMIN on every nf_tables message, reads included).
    public init(receiveTimeoutSeconds: Int = 10) throws(NetlinkError) {
        socket = try NetlinkSocket(receiveTimeoutSeconds: receiveTimeoutSeconds)
        buffer = .allocate(byteCount: Ctnetlink.receiveBufferSize, alignment: 8)
    }

    deinit {
        buffer.deallocate()
    }

    /// Dumps `message` for `family` (0: every family), filtered by the string attributes given (e.g. the table of a
    /// rule dump), handing each reply's family and attributes to `body`.
    public mutating func dump(
        _ message: Message, family: UInt8 = 0, filter: [(type: UInt16, value: String)] = [],
        _ body: (UInt8, NetlinkAttributes) -> Void
    ) throws(NetlinkError) {
        let request = NetlinkRequest(subsystem: Self.subsystem, message: message.rawValue, dump: message != .getGeneration,
                                     family: family, name: message.name)
        // Each string attribute: a 4-byte header, the string and its NUL, padded to 4 bytes.
        let capacity = filter.reduce(0) { $0 + ($1.value.utf8.count + 1 + 4 + 3) & ~3 }
        let sequence = try socket.send(request, attributeCapacity: capacity) { message in
            for (type, value) in filter { mnl_attr_put_strz(message, type, value) }
        }
        try socket.receive(sequence, of: request, reply: message == .getGeneration ? .single : .untilDone, buffer: buffer) { header in
            let payload = UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: Int(header.pointee.nlmsg_len))
            // nlmsghdr (16 bytes), then nfgenmsg (family, version, res_id: 4 bytes), then the attributes.
            guard payload.count >= 20 else { return true }
            body(payload[16], NetlinkAttributes(UnsafeRawBufferPointer(rebasing: payload[20...])))
            return true
        }
    }

    /// The ruleset's generation: it changes with every committed change, so equal values before and after a series
    /// of dumps mean they saw one ruleset.
    public mutating func generation() throws(NetlinkError) -> UInt32 {
        var id: UInt32 = 0
        try dump(.getGeneration) { _, attributes in
            if let value = attributes[1] { id = UInt32(truncatingIfNeeded: value.bigEndian) }
        }
        return id
    }
}
