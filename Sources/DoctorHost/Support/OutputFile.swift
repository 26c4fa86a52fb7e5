import DoctorCore
import Foundation

/// Writes a whole file or nothing: the text goes to a temporary file beside the target, then is renamed over it.
public enum OutputFile {
    public static func write(_ text: String, to path: String, flag: String = "--output") throws(InputError) {
        let target = URL(fileURLWithPath: path)
        let temp = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).tmp-\(getpid())").path
        func failure(_ code: Int32) -> InputError {
            InputError("\(flag) \(path): cannot write: \(String(cString: strerror(code)))")
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(errno) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(temp)
                throw failure(code)
            }
            bytes = bytes.dropFirst(n)
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            let code = errno
            unlink(temp)
            throw failure(code)
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw failure(code)
        }
    }
}
