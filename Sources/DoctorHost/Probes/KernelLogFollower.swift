import DoctorCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// New records of /dev/kmsg as they are logged: opened non-blocking and moved to the end, so only lines logged
/// from now on are read. Needs CAP_SYSLOG when kernel.dmesg_restrict = 1.
public final class KernelLogFollower {
    public let fileDescriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 16384)
    /// Records overwritten before they were read (EPIPE): the reader fell behind the ring buffer.
    public private(set) var overwritten = 0

    /// Opens /dev/kmsg of `host` at its end, or returns why it cannot.
    public static func open(_ host: HostRoot) -> Result<KernelLogFollower, KernelLogFollowerError> {
        let path = host.resolve(KernelLogProbe.kmsg)
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            var why = "\(KernelLogProbe.kmsg): \(HostRoot.describe(errno: code))"
            if code == EPERM || code == EACCES {
                why += ": reading the kernel log needs CAP_SYSLOG"
                if host.readTrimmed("/proc/sys/kernel/dmesg_restrict").value == "1" { why += " (kernel.dmesg_restrict = 1)" }
            }
            return .failure(KernelLogFollowerError(description: why))
        }
        _ = lseek(fd, 0, SEEK_END)
        return .success(KernelLogFollower(fd))
    }

    private init(_ fd: Int32) {
        fileDescriptor = fd
    }

    deinit {
        close(fileDescriptor)
    }

    /// Every record logged since the last call, oldest first, as (seconds since boot, message).
    public func drain(_ body: (Double, String) -> Void) {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fileDescriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                switch errno {
                case EINTR: continue
                case EPIPE: overwritten += 1; continue
                default: return
                }
            }
            if n == 0 { return }
            if let record = KernelLogProbe.parseKmsgRecord(buffer[0..<n]) { body(record.seconds, record.message) }
        }
    }
}

public struct KernelLogFollowerError: Error, CustomStringConvertible {
    public var description: String
}
