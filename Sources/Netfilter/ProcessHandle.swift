import CNetfilter

/// pidfds: a file descriptor that becomes readable when a child process ends, so a poll(2) loop can wait for
/// output and for the end at once.
public enum ProcessHandle {
    /// pidfd_open(2) of `pid`, or -1 on kernels before 5.3 (ENOSYS) and on any other error.
    public static func open(_ pid: Int32) -> Int32 {
        let fd = ctd_pidfd_open(pid)
        return fd >= 0 ? fd : -1
    }
}
