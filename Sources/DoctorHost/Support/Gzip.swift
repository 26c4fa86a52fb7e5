import DoctorCore
import CZlib

/// Decompresses gzip (or zlib) data held in memory, such as /proc/config.gz read through `HostRoot`.
public enum Gzip {
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The decompressed bytes, or why the data is not a complete gzip stream or would inflate past `limit` (a small
    /// file can expand a thousandfold).
    public static func decompress(_ input: [UInt8], limit: ReadLimit = .configFile) -> Result<[UInt8], Failure> {
        if input.isEmpty { return .failure(Failure(description: "empty file")) }
        var stream = z_stream()
        // windowBits 15 + 32: accept gzip and zlib headers alike. inflateInit2 is a C macro, so call the function behind it.
        let initStatus = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initStatus == Z_OK else { return .failure(Failure(description: "zlib could not start (\(initStatus))")) }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            stream.next_in = inBuf.baseAddress
            stream.avail_in = uInt(inBuf.count)
            while true {
                let (code, produced): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    let code = inflate(&stream, Z_NO_FLUSH)
                    return (code, outBuf.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                if output.count > limit.bytes { return Z_MEM_ERROR }
                switch code {
                case Z_STREAM_END: return Z_STREAM_END
                case Z_OK: continue
                case Z_BUF_ERROR:
                    // No progress possible: input ended before the stream did.
                    if stream.avail_in == 0 { return Z_BUF_ERROR }
                    continue
                default: return code
                }
            }
        }
        switch status {
        case Z_STREAM_END: return .success(output)
        case Z_BUF_ERROR: return .failure(Failure(description: "truncated gzip data"))
        case Z_MEM_ERROR where output.count > limit.bytes: return .failure(Failure(description: "decompressed, \(limit)"))
        case Z_DATA_ERROR:
            let why = stream.msg.map { String(cString: $0) } ?? "corrupt data"
            return .failure(Failure(description: "not valid gzip data (\(why))"))
        default: return .failure(Failure(description: "zlib error \(status)"))
        }
    }
}
