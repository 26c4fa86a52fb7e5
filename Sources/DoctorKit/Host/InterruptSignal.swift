#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// SIGINT and SIGTERM turned into a readable file descriptor (the self-pipe trick), so a poll(2) loop wakes up on
/// Ctrl-C whichever thread the signal went to, and can finish cleanly: print a summary, close its sockets.
public enum InterruptSignal {
    nonisolated(unsafe) private static var pipeEnds: (read: Int32, write: Int32) = (-1, -1)

    /// Installs the handlers once; returns the descriptor that becomes readable on a signal, or nil.
    public static func install() -> Int32? {
        if pipeEnds.read >= 0 { return pipeEnds.read }
        var ends: [Int32] = [0, 0]
        // pipe2 needs _GNU_SOURCE; pipe and fcntl do the same.
        guard pipe(&ends) == 0 else { return nil }
        for fd in ends {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        pipeEnds = (ends[0], ends[1])
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            _ = write(InterruptSignal.pipeEnds.write, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A parent may have spawned us with them blocked (the mask is inherited): Ctrl-C must still stop us.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
        return ends[0]
    }

    /// Whether a signal arrived (drains the pipe).
    public static func received() -> Bool {
        guard pipeEnds.read >= 0 else { return false }
        var byte: UInt8 = 0
        var got = false
        while read(pipeEnds.read, &byte, 1) == 1 { got = true }
        return got
    }
}
