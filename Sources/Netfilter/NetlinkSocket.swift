import CNetfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One nfnetlink request: subsystem and message type, dump or not, address family.
public struct NetlinkRequest: Sendable, Equatable {
    public var subsystem: UInt8
    public var message: UInt8
    public var dump: Bool
    public var family: UInt8
    /// The kernel's name for it (`IPCTNL_MSG_CT_GET_STATS`), used in errors.
    public var name: String

    public init(subsystem: UInt8, message: UInt8, dump: Bool, family: UInt8 = 0, name: String) {
        self.subsystem = subsystem
        self.message = message
        self.dump = dump
        self.family = family
        self.name = name
    }

    /// A ctnetlink (NFNL_SUBSYS_CTNETLINK) request by its `enum cntl_msg_types` name.
    static func conntrack(_ message: cntl_msg_types, dump: Bool, name: String) -> NetlinkRequest {
        NetlinkRequest(subsystem: UInt8(NFNL_SUBSYS_CTNETLINK), message: UInt8(message.rawValue), dump: dump, name: name)
    }

    /// A ctnetlink_exp (NFNL_SUBSYS_CTNETLINK_EXP) request by its `enum ctnl_exp_msg_types` name.
    static func expectation(_ message: ctnl_exp_msg_types, dump: Bool, name: String) -> NetlinkRequest {
        NetlinkRequest(subsystem: UInt8(NFNL_SUBSYS_CTNETLINK_EXP), message: UInt8(message.rawValue), dump: dump, name: name)
    }
}

/// A NETLINK_NETFILTER socket from libmnl, closed exactly once, when the value goes away.
public struct NetlinkSocket: ~Copyable {
    let handle: OpaquePointer
    public let portID: UInt32
    private var lastSequence: UInt32

    /// How a reply ends.
    public enum Reply: Sendable {
        /// One message and nothing after it: GET_STATS replies carry NLM_F_MULTI but no NLMSG_DONE follows, so
        /// waiting for DONE would hang.
        case single
        /// Messages until NLMSG_DONE (dumps).
        case untilDone
    }

    /// Opens and binds the socket in the caller's network namespace, or in the one the file `netns` names
    /// (e.g. /run/netns/NAME): a netlink socket belongs for life to the namespace it was created in.
    public init(netns: String? = nil, receiveTimeoutSeconds: Int = 10) throws(NetlinkError) {
        let handle = try NetnsSwitch.run(in: netns) { () throws(NetlinkError) -> OpaquePointer in
            guard let socket = mnl_socket_open(NETLINK_NETFILTER) else { throw NetlinkError("socket", errno: errno) }
            return socket
        }
        var timeout = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(mnl_socket_get_fd(handle), SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard mnl_socket_bind(handle, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = errno
            mnl_socket_close(handle)
            throw NetlinkError("bind", errno: code)
        }
        self.handle = handle
        self.portID = mnl_socket_get_portid(handle)
        self.lastSequence = UInt32(truncatingIfNeeded: time(nil))
    }

    deinit {
        mnl_socket_close(handle)
    }

    /// The socket's file descriptor, for poll(2) and socket options; it stays owned by this value.
    public var fileDescriptor: Int32 { mnl_socket_get_fd(handle) }

    /// Sends `request` and returns its sequence number, which the reply must carry. `resourceID` goes into
    /// nfgenmsg.res_id (an nfnetlink_log group); `attributes` appends attributes with libmnl's mnl_attr_put*
    /// (at most `attributeCapacity` bytes of them); `acknowledge` asks for an NLMSG_ERROR reply even on success.
    public mutating func send(
        _ request: NetlinkRequest, resourceID: UInt16 = 0, acknowledge: Bool = false, attributeCapacity: Int = 192,
        attributes: (UnsafeMutablePointer<nlmsghdr>) -> Void = { _ in }
    ) throws(NetlinkError) -> UInt32 {
        lastSequence &+= 1
        let sequence = lastSequence
        let flags = UInt16(NLM_F_REQUEST) | (request.dump ? UInt16(NLM_F_DUMP) : 0) | (acknowledge ? UInt16(NLM_F_ACK) : 0)
        let sent = withUnsafeTemporaryAllocation(byteCount: 64 + max(192, attributeCapacity), alignment: 8) { buffer in
            let message = ctd_nfnl_request(
                buffer.baseAddress, request.subsystem, request.message, flags, request.family, resourceID, sequence)!
            attributes(message)
            return mnl_socket_sendto(handle, message, Int(message.pointee.nlmsg_len)) < 0 ? errno : 0
        }
        if sent != 0 { throw NetlinkError(request.name, errno: sent) }
        return sequence
    }

    /// Reads the reply to `sequence` through `buffer`, one receive at a time, handing each data message to
    /// `body` (false stops early). An NLMSG_ERROR reply throws with the kernel's errno.
    public func receive(
        _ sequence: UInt32, of request: NetlinkRequest, reply: Reply, buffer: UnsafeMutableRawBufferPointer,
        _ body: (UnsafePointer<nlmsghdr>) -> Bool
    ) throws(NetlinkError) {
        var stoppedEarly = false
        let failure: Int32 = {
            while true {
                let received = mnl_socket_recvfrom(handle, buffer.baseAddress, buffer.count)
                if received < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if received == 0 { return 0 }
                let status = Self.eachMessage(in: UnsafeMutableRawBufferPointer(rebasing: buffer[..<received]),
                                              sequence: sequence, portID: portID) { message in
                    let more = body(message)
                    if !more { stoppedEarly = true }
                    return more
                }
                if status < 0 { return errno }
                if status == MNL_CB_STOP || reply == .single { return 0 }
            }
        }()
        // Only a dump leaves a reply behind; a listener's acknowledged request must not eat the events queued after it.
        if request.dump && reply == .untilDone && (failure != 0 || stoppedEarly) { discardRest(buffer) }
        if failure != 0 { throw NetlinkError(request.name, errno: failure) }
    }

    /// Reads and drops what is left of a dump that ended early (an error, NLM_F_DUMP_INTR, or `body` stopping), up
    /// to its NLMSG_DONE or NLMSG_ERROR, so the next request on this socket reads its own reply rather than the
    /// old dump's messages (which libmnl refuses with EPROTO). Without waiting: the kernel queues a dump's next
    /// batch as the previous one is read, so nothing queued means the dump is over or lost.
    private func discardRest(_ buffer: UnsafeMutableRawBufferPointer) {
        let fd = mnl_socket_get_fd(handle)
        while true {
            let received = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if received < 0 && errno == EINTR { continue }
            guard received > 0 else { return }
            let batch = UnsafeRawBufferPointer(rebasing: buffer[..<received])
            let valid = Self.wellFormedLength(batch)
            var offset = 0
            while offset < valid {
                let type = batch.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                if type == UInt16(NLMSG_DONE) || type == UInt16(NLMSG_ERROR) { return }
                let length = Int(batch.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                offset += (length + 3) & ~3
            }
        }
    }

    /// Hands each data message in `received` to `body` through libmnl's checks (sequence, port, NLMSG_ERROR,
    /// NLMSG_DONE). libmnl's own length check casts nlmsg_len to int, so a message of 2^31 bytes or more passes it
    /// and the next one is looked for gigabytes away (found by Fuzz/run); only the run of messages that fit what is
    /// left of the buffer is handed to it, and anything after them ends the batch with EBADMSG. Returns
    /// mnl_cb_run's status.
    static func eachMessage(
        in received: UnsafeMutableRawBufferPointer, sequence: UInt32, portID: UInt32, _ body: (UnsafePointer<nlmsghdr>) -> Bool
    ) -> Int32 {
        guard let start = received.baseAddress else { return MNL_CB_OK }
        let valid = wellFormedLength(UnsafeRawBufferPointer(received))
        let status: Int32 = withoutActuallyEscaping(body) { escapable in
            let handler = MessageHandler(escapable)
            return withExtendedLifetime(handler) {
                mnl_cb_run(start, valid, sequence, portID, { message, context in
                    guard let message, let context else { return MNL_CB_ERROR }
                    let handler = Unmanaged<MessageHandler>.fromOpaque(context).takeUnretainedValue()
                    return handler.body(message) ? MNL_CB_OK : MNL_CB_STOP
                }, Unmanaged.passUnretained(handler).toOpaque())
            }
        }
        if status > MNL_CB_STOP && valid < received.count {
            errno = EBADMSG
            return MNL_CB_ERROR
        }
        return status
    }

    /// The bytes of the leading messages whose nlmsg_len is at least a header and at most what is left.
    static func wellFormedLength(_ received: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while received.count - offset >= MemoryLayout<nlmsghdr>.size {
            let length = Int(received.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= MemoryLayout<nlmsghdr>.size, length <= received.count - offset else { break }
            offset += min((length + 3) & ~3, received.count - offset)
        }
        return offset
    }
}

/// Carries the per-message closure through libmnl's `void *data`.
private final class MessageHandler {
    let body: (UnsafePointer<nlmsghdr>) -> Bool

    init(_ body: @escaping (UnsafePointer<nlmsghdr>) -> Bool) {
        self.body = body
    }
}

/// Runs a few calls inside another network namespace on this thread only, then switches back.
public enum NetnsSwitch {
    /// Moves the calling thread into the network namespace the file `path` names (/run/netns/NAME,
    /// /proc/PID/ns/net) for good. Only the main thread will do: /proc/net and /proc/self/ns/net follow the thread
    /// group leader, not the calling thread (only /proc/sys/net and /proc/thread-self follow the caller), so
    /// switching any other thread would leave half of procfs in the old namespace.
    public static func enter(_ path: String) throws(NetlinkError) {
        guard ctd_is_main_thread() != 0 else { throw NetlinkError("setns \(path): not on the main thread", errno: EINVAL) }
        try setns(path)
    }

    /// setns(CLONE_NEWNET) of the calling thread into the namespace the file `path` names.
    private static func setns(_ path: String) throws(NetlinkError) {
        let target = open(path, O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw NetlinkError("open \(path)", errno: errno) }
        defer { close(target) }
        guard ctd_setns_net(target) == 0 else { throw NetlinkError("setns \(path)", errno: errno) }
    }

    public static func run<T>(in path: String?, _ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        guard let path else { return try body() }
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw NetlinkError("open /proc/thread-self/ns/net", errno: errno) }
        defer { close(original) }
        try setns(path)
        defer {
            // Switching back cannot fail for a namespace this thread was just in; if it did, the thread would stay
            // in the wrong namespace, so stop rather than carry on there.
            if ctd_setns_net(original) != 0 { fatalError("setns back to the original network namespace failed") }
        }
        return try body()
    }
}
