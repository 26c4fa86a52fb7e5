import DoctorHost
import Foundation
import Wizard

/// The terminal: raw (no echo, no line buffering; signals still on, so Ctrl-C is SIGINT) while a key is read,
/// and put back as it was on every way out (`restore()` is called by the driver on exit, quit and signals).
public final class Terminal: @unchecked Sendable {
    public let input: Int32
    public let isInteractive: Bool
    private var saved: termios?

    public init(input: Int32 = STDIN_FILENO) {
        self.input = input
        isInteractive = isatty(input) == 1 && isatty(STDOUT_FILENO) == 1
    }

    /// Reads one key (raw mode for just that read) or a line; nil when a signal arrived or input ended.
    public func read(_ mode: InputMode) -> Input? {
        switch mode {
        case .key:
            enterRaw()
            defer { restore() }
            guard let byte = nextByte() else { return Signals.pending != 0 ? nil : .end }
            return .key(Character(UnicodeScalar(byte)))
        case .line:
            var bytes: [UInt8] = []
            while true {
                guard let byte = nextByte() else { return Signals.pending != 0 ? nil : (bytes.isEmpty ? .end : .line(decode(bytes))) }
                if byte == 0x0a { return .line(decode(bytes)) }
                if bytes.count < 4096 { bytes.append(byte) }
            }
        }
    }

    private func decode(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.filter { $0 >= 0x20 && $0 != 0x7f }, as: UTF8.self)
    }

    /// One byte, waiting on the input and the signal pipe together.
    private func nextByte() -> UInt8? {
        while Signals.pending == 0 {
            var fds = [pollfd(fd: input, events: Int16(POLLIN), revents: 0), pollfd(fd: Signals.fd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, Signals.fd >= 0 ? 2 : 1, -1)
            if ready < 0 { if errno == EINTR { continue } else { return nil } }
            if fds[0].revents != 0 {
                var byte: UInt8 = 0
                let n = Glibc.read(input, &byte, 1)
                if n == 1 { return byte }
                if n < 0 && errno == EINTR { continue }
                return nil
            }
        }
        return nil
    }

    private func enterRaw() {
        guard isInteractive, saved == nil else { return }
        var mode = termios()
        guard tcgetattr(input, &mode) == 0 else { return }
        saved = mode
        mode.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &mode.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(input, TCSANOW, &mode)
    }

    /// Puts the terminal back as it was found. Idempotent.
    public func restore() {
        guard var mode = saved else { return }
        tcsetattr(input, TCSANOW, &mode)
        saved = nil
    }
}
