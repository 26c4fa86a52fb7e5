#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A netlink call that failed: which one, and the errno it gave, kept as the kernel said it.
public struct NetlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the errno means for a ctnetlink caller.
    public enum Kind: String, Sendable, Equatable {
        /// EPERM/EACCES: no CAP_NET_ADMIN in the namespace. Comes per request: unprivileged users can open the socket.
        case permissionDenied
        /// EPROTONOSUPPORT (no nfnetlink), EINVAL (subsystem or message unknown: ctnetlink absent, or a kernel
        /// too old for this message), ENOENT.
        case unsupported
        /// EOPNOTSUPP: the kernel knows the message but not in this form (e.g. GET_DYING without NLM_F_DUMP).
        case operationNotSupported
        /// ENOBUFS: the socket's receive queue overflowed and the kernel dropped messages.
        case overrun
        /// EINTR from mnl_cb_run: a message carried NLM_F_DUMP_INTR, so the dump was not consistent.
        case dumpInterrupted
        /// EAGAIN: no answer before the receive timeout.
        case timedOut
        case other
    }

    /// The call or request, e.g. "socket", "IPCTNL_MSG_CT_GET_STATS".
    public var operation: String
    public var errno: Int32

    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var kind: Kind {
        switch errno {
        case EPERM, EACCES: .permissionDenied
        case EPROTONOSUPPORT, EINVAL, ENOENT: .unsupported
        case EOPNOTSUPP: .operationNotSupported
        case ENOBUFS: .overrun
        case EINTR: .dumpInterrupted
        case EAGAIN: .timedOut
        default: .other
        }
    }

    /// "EPERM", "EINVAL", … or "errno 123".
    public var errnoName: String {
        switch errno {
        case EPERM: "EPERM"
        case EACCES: "EACCES"
        case ENOENT: "ENOENT"
        case EINTR: "EINTR"
        case EINVAL: "EINVAL"
        case EAGAIN: "EAGAIN"
        case ENOBUFS: "ENOBUFS"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EPROTONOSUPPORT: "EPROTONOSUPPORT"
        case ENOMEM: "ENOMEM"
        case EBADMSG: "EBADMSG"
        case EPROTO: "EPROTO"
        case ESRCH: "ESRCH"
        case EBUSY: "EBUSY"
        default: "errno \(errno)"
        }
    }

    /// What happened, why, and what to do, as a sentence.
    public var description: String {
        let base = "\(operation): \(errnoName) (\(String(cString: strerror(errno))))"
        switch kind {
        case .permissionDenied where operation.hasPrefix("NFULNL_CFG_CMD_BIND"):
            return base + ": binding an nfnetlink_log group needs CAP_NET_ADMIN in this network namespace, and the group"
                + " must not be bound by another socket (ulogd, another listener)"
        case .permissionDenied:
            let subsystem = operation.hasPrefix("NFT_MSG") ? "nf_tables" : operation.hasPrefix("IPCTNL") ? "ctnetlink" : "nfnetlink"
            return base + ": \(subsystem) needs CAP_NET_ADMIN in this network namespace; run as root"
        case .unsupported:
            return operation == "socket"
                ? base + ": this kernel has no nfnetlink (CONFIG_NETFILTER_NETLINK)"
                : base + ": the kernel does not know this request (ctnetlink, nf_conntrack_netlink, absent or too old)"
        case .operationNotSupported:
            return base + ": the kernel knows the request but not in this form"
        case .overrun:
            return base + ": the socket's receive queue overflowed and the kernel dropped messages"
        case .dumpInterrupted:
            return base + ": the table changed while it was dumped (NLM_F_DUMP_INTR); the dump is not consistent"
        case .timedOut:
            return base + ": no answer from the kernel in time"
        case .other:
            return base
        }
    }
}
