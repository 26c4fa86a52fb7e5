import CNetfilter

/// Userspace conntrack helpers (nfnetlink_cthelper, what `nfct helper list` shows), read over netlink.
public enum UserspaceHelpers {
    /// NFNL_SUBSYS_CTHELPER, NFNL_MSG_CTHELPER_GET as a dump.
    public static let request = NetlinkRequest(subsystem: 9, message: 1, dump: true, name: "NFNL_MSG_CTHELPER_GET")

    /// The names of the registered helpers. EINVAL or EOPNOTSUPP mean a kernel without nfnetlink_cthelper
    /// (CONFIG_NF_CT_NETLINK_HELPER); EPERM, not root.
    public static func names() throws(NetlinkError) -> [String] {
        var socket = try NetlinkSocket()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Ctnetlink.receiveBufferSize, alignment: 8)
        defer { buffer.deallocate() }
        var names: [String] = []
        let sequence = try socket.send(request)
        try socket.receive(sequence, of: request, reply: .untilDone, buffer: buffer) { header in
            let message = UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: Int(header.pointee.nlmsg_len))
            // NFCTH_NAME (1) after the netlink and nfgenmsg headers.
            if message.count > 20, let name = NetlinkAttributes(UnsafeRawBufferPointer(rebasing: message[20...]))[1]?.string {
                names.append(name)
            }
            return true
        }
        return names
    }
}
