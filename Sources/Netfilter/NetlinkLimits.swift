import CNetfilter

/// Sizes libmnl uses; the macros are reached through the shim header.
public enum NetlinkLimits {
    /// `MNL_SOCKET_BUFFER_SIZE`: min(page size, 8192). One receive buffer of this size serves any dump.
    public static var socketBufferSize: Int { Int(ctd_mnl_socket_buffer_size()) }
}
