import DoctorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The main output of a command on standard output: a failed write (a full disk, /dev/full, a closed pipe with
/// SIGPIPE ignored) is an error with the reason, never lost in silence and never a trap.
public enum StandardOutput {
    public static func write(_ text: String) throws(InputError) {
        try flush()
        if let code = Descriptor.writeAll(STDOUT_FILENO, text) { throw failure(code) }
    }

    /// Writes out what `print` has buffered, so nothing printed before is lost or comes out of order.
    public static func flush() throws(InputError) {
        if fflush(nil) != 0 { throw failure(errno) }
    }

    static func failure(_ code: Int32) -> InputError {
        InputError("standard output: cannot write: \(Descriptor.describe(code))")
    }
}
