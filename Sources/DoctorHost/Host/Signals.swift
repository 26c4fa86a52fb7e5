import Foundation

/// SIGINT, SIGTERM and SIGHUP become a flag and a byte on a pipe: the wizard sees them between steps and while it
/// waits (input, listeners), puts everything back, restores the terminal, then exits 128+signal.
public enum Signals {
    nonisolated(unsafe) private static var pipeFDs: [Int32] = [-1, -1]
    nonisolated(unsafe) private static var caught: sig_atomic_t = 0

    public static let watched: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    public static func install() {
        guard pipeFDs[0] < 0 else { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        pipeFDs = fds
        for signal in watched {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                Signals.caught = number
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(Signals.pipeFDs[1], &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // no SA_RESTART: a blocking read returns EINTR
            sigaction(signal, &action, nil)
        }
        // A parent may hand down a mask that blocks them (test runners do): then they would never arrive.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in watched { sigaddset(&unblock, signal) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The signal caught, or 0.
    public static var pending: Int32 { Int32(caught) }

    /// Readable when a signal arrived: poll it beside input and sockets.
    public static var fd: Int32 { pipeFDs[0] }

    /// Sleeps up to `milliseconds`, waking early for a signal; true when one is pending.
    @discardableResult
    public static func wait(milliseconds: Int) -> Bool {
        if pending != 0 { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&p, 1, Int32(clamping: milliseconds))
        return pending != 0
    }
}
