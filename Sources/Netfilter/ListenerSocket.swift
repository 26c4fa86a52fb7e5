import CNetfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What one `poll` of a listener got: the decoded messages, and whether anything was missed.
public struct ListenerBatch<Message> {
    public var messages: [Message]
    /// ENOBUFS reports since the last poll: the kernel found the socket's receive queue full and dropped
    /// messages. One report can stand for many lost messages (the kernel reports once until the socket is read).
    public var overruns: Int
    /// Messages lost since the last poll: exact where the protocol numbers its messages (nfnetlink_log's
    /// NFULA_SEQ), 0 when there was no overrun, nil when there was one and the protocol cannot say how many.
    public var lost: Int?
    /// Messages that arrived but could not be decoded (a truncated or malformed message).
    public var undecodable: Int
    /// The socket's receive buffer after the poll (SO_RCVBUF as the kernel reports it), grown after overruns.
    public var receiveBufferBytes: Int

    public init(messages: [Message] = [], overruns: Int = 0, lost: Int? = 0, undecodable: Int = 0, receiveBufferBytes: Int = 0) {
        self.messages = messages
        self.overruns = overruns
        self.lost = lost
        self.undecodable = undecodable
        self.receiveBufferBytes = receiveBufferBytes
    }
}

extension ListenerBatch: Sendable where Message: Sendable {}

/// How large a listener's socket receive buffer starts and how far it may grow after overruns.
public struct ReceiveBufferPolicy: Sendable, Equatable {
    /// Asked for at open; nil keeps the kernel's default (net.core.rmem_default).
    public var initialBytes: Int?
    /// The most it grows to after ENOBUFS (doubling each time).
    public var maximumBytes: Int

    public init(initialBytes: Int? = 4 << 20, maximumBytes: Int = 64 << 20) {
        self.initialBytes = initialBytes
        self.maximumBytes = maximumBytes
    }

    public static let standard = ReceiveBufferPolicy()
}

/// A NETLINK_NETFILTER socket that receives what the kernel sends on its own (multicast groups, nfnetlink_log's
/// unicast): one reused receive buffer, poll(2) with a timeout, every ENOBUFS counted and answered by a larger
/// socket buffer, EINTR retried.
struct ListenerSocket: ~Copyable {
    var socket: NetlinkSocket
    private let buffer: UnsafeMutableRawBufferPointer
    private let policy: ReceiveBufferPolicy
    private(set) var receiveBufferBytes: Int
    /// The listener's name in errors ("conntrack events").
    let name: String

    /// 64 KiB: more than one netlink datagram the kernel sends to listeners (events and traces are under 1 KiB,
    /// nfnetlink_log batches are NLMSG_GOODSIZE unless one packet's copy is larger).
    static let readBufferSize = 65536

    init(netns: String?, name: String, policy: ReceiveBufferPolicy) throws(NetlinkError) {
        socket = try NetlinkSocket(netns: netns)
        buffer = .allocate(byteCount: Self.readBufferSize, alignment: 8)
        self.policy = policy
        self.name = name
        receiveBufferBytes = 0
        if let initial = policy.initialBytes { setReceiveBuffer(initial) }
        receiveBufferBytes = currentReceiveBuffer()
    }

    deinit {
        buffer.deallocate()
    }

    /// Joins an nfnetlink multicast group (enum nfnetlink_groups). Needs CAP_NET_ADMIN in the namespace: EPERM
    /// otherwise.
    func join(_ group: nfnetlink_groups, name groupName: String) throws(NetlinkError) {
        var number = Int32(group.rawValue)
        guard mnl_socket_setsockopt(socket.handle, NETLINK_ADD_MEMBERSHIP, &number, socklen_t(MemoryLayout<Int32>.size)) == 0
        else { throw NetlinkError("join \(groupName)", errno: errno) }
    }

    /// Sends a configuration request that the kernel acknowledges, and waits for the acknowledgement (or its
    /// errno). Data messages that arrive before it go to `body`.
    mutating func exchange(
        _ request: NetlinkRequest, resourceID: UInt16, attributes: (UnsafeMutablePointer<nlmsghdr>) -> Void,
        _ body: (UnsafePointer<nlmsghdr>) -> Void
    ) throws(NetlinkError) {
        let sequence = try socket.send(request, resourceID: resourceID, acknowledge: true, attributes: attributes)
        try socket.receive(sequence, of: request, reply: .untilDone, buffer: buffer) { message in
            body(message)
            return true
        }
    }

    /// Waits up to `timeoutMilliseconds` (0: not at all; negative: forever) for something to read, then reads
    /// every datagram queued, at most `limit` messages, handing each nfnetlink message to `body`. Returns the
    /// ENOBUFS reports met.
    mutating func poll(
        timeoutMilliseconds: Int, limit: Int, _ body: (UnsafePointer<nlmsghdr>) -> Void
    ) throws(NetlinkError) -> Int {
        var overruns = 0
        guard try waitReadable(timeoutMilliseconds) else { return 0 }
        var handled = 0
        let fd = socket.fileDescriptor
        while handled < limit {
            let received = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if received < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                if code == ENOBUFS {
                    overruns += 1
                    grow()
                    continue
                }
                throw NetlinkError("receive \(name)", errno: code)
            }
            handled += Self.forEachMessage(in: UnsafeRawBufferPointer(rebasing: buffer[..<received]), body)
        }
        return overruns
    }

    /// `poll` with each message decoded into a batch. `lost` is 0 without overruns and nil (unknown) after one;
    /// a listener whose protocol numbers its messages counts them itself.
    mutating func poll<Message>(
        timeoutMilliseconds: Int, limit: Int, decode: (UnsafePointer<nlmsghdr>) -> Message?
    ) throws(NetlinkError) -> ListenerBatch<Message> {
        var batch = ListenerBatch<Message>()
        batch.overruns = try poll(timeoutMilliseconds: timeoutMilliseconds, limit: limit) { message in
            if let decoded = decode(message) { batch.messages.append(decoded) } else { batch.undecodable += 1 }
        }
        batch.lost = batch.overruns == 0 ? 0 : nil
        batch.receiveBufferBytes = receiveBufferBytes
        return batch
    }

    /// Calls `body` for each data message in one datagram (netlink control messages skipped); returns how many.
    /// Only the leading messages that fit the datagram are walked: libmnl's mnl_nlmsg_ok casts nlmsg_len to int, so a
    /// message claiming 2^31 bytes or more passes it and the next is looked for gigabytes away (found by Fuzz/run).
    static func forEachMessage(in datagram: UnsafeRawBufferPointer, _ body: (UnsafePointer<nlmsghdr>) -> Void) -> Int {
        let valid = NetlinkSocket.wellFormedLength(datagram)
        guard var remaining = Int32(exactly: valid), let start = datagram.baseAddress else { return 0 }
        var message = start.assumingMemoryBound(to: nlmsghdr.self)
        var count = 0
        while mnl_nlmsg_ok(message, remaining) {
            if message.pointee.nlmsg_type >= UInt16(NLMSG_MIN_TYPE) {
                body(message)
                count += 1
            }
            guard let next = mnl_nlmsg_next(message, &remaining) else { break }
            message = UnsafePointer(next)
        }
        return count
    }

    private func waitReadable(_ timeoutMilliseconds: Int) throws(NetlinkError) -> Bool {
        let deadline = Self.monotonicMilliseconds() + max(timeoutMilliseconds, 0)
        while true {
            let left = timeoutMilliseconds < 0 ? -1 : Int32(clamping: max(deadline - Self.monotonicMilliseconds(), 0))
            var descriptor = pollfd(fd: socket.fileDescriptor, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&descriptor, 1, left)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { throw NetlinkError("poll \(name)", errno: errno) }
        }
    }

    static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }

    /// Doubles the receive buffer up to the policy's maximum, after an overrun.
    private mutating func grow() {
        guard receiveBufferBytes < policy.maximumBytes else { return }
        setReceiveBuffer(min(max(receiveBufferBytes * 2, 1 << 20), policy.maximumBytes))
        receiveBufferBytes = currentReceiveBuffer()
    }

    /// Asks for a receive buffer the kernel will report as `bytes` (it doubles what it is given, for its
    /// bookkeeping): SO_RCVBUFFORCE with CAP_NET_ADMIN, else SO_RCVBUF, which net.core.rmem_max caps.
    private func setReceiveBuffer(_ bytes: Int) {
        var half = Int32(clamping: bytes / 2)
        let size = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUFFORCE, &half, size) != 0 {
            _ = setsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUF, &half, size)
        }
    }

    private func currentReceiveBuffer() -> Int {
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(socket.fileDescriptor, SOL_SOCKET, SO_RCVBUF, &value, &size) == 0 ? Int(value) : 0
    }
}

/// The nfnetlink header fields every listener looks at.
enum NfnetlinkMessage {
    static func subsystem(_ message: UnsafePointer<nlmsghdr>) -> UInt8 { ctd_nfnl_subsys_id(message.pointee.nlmsg_type) }
    static func type(_ message: UnsafePointer<nlmsghdr>) -> UInt8 { ctd_nfnl_msg_type(message.pointee.nlmsg_type) }

    /// nfgenmsg.nfgen_family.
    static func family(_ message: UnsafePointer<nlmsghdr>) -> UInt8 {
        UnsafeRawPointer(message).load(fromByteOffset: MemoryLayout<nlmsghdr>.size, as: UInt8.self)
    }

    /// The attributes of a message of `subsystem` (NFNL_SUBSYS_*) and `type` (that subsystem's message enum);
    /// nil for another message or one shorter than its headers.
    static func attributes(_ message: UnsafePointer<nlmsghdr>, of subsystem: Int32, _ type: UInt32) -> UnsafeRawBufferPointer? {
        guard Int32(self.subsystem(message)) == subsystem, UInt32(self.type(message)) == type else { return nil }
        return attributes(message)
    }

    /// The attributes after the nfgenmsg header, or nil when the message is shorter than its headers.
    static func attributes(_ message: UnsafePointer<nlmsghdr>) -> UnsafeRawBufferPointer? {
        let headers = MemoryLayout<nlmsghdr>.size + MemoryLayout<nfgenmsg>.size
        let length = Int(message.pointee.nlmsg_len)
        guard length >= headers else { return nil }
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(message) + headers, count: length - headers)
    }
}
