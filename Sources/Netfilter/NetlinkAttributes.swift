import CNetfilter

/// Reading netlink attributes (struct nlattr: u16 length, u16 type, payload padded to NLA_ALIGNTO) in place, with
/// every length checked against what is there. Values in network order, as nfnetlink sends them.
enum NLA {
    /// NLA_TYPE_MASK: the type without the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags.
    static let typeMask = UInt16(truncatingIfNeeded: ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER))

    /// Calls `body(type, payload, payload size)` for each attribute in `count` bytes. False when an attribute's
    /// length is impossible or `body` says so.
    @inline(__always)
    static func forEach(
        _ start: UnsafeRawPointer, count: Int, _ body: (UInt16, UnsafeRawPointer, Int) -> Bool
    ) -> Bool {
        var offset = 0
        while offset + 4 <= count {
            let length = Int(start.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
            let type = start.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self) & typeMask
            guard length >= 4, offset + length <= count else { return false }
            if !body(type, start + offset + 4, length - 4) { return false }
            offset += (length + 3) & ~3
        }
        return true
    }

    @inline(__always)
    static func forEach(_ attributes: UnsafeRawBufferPointer, _ body: (UInt16, UnsafeRawPointer, Int) -> Bool) -> Bool {
        guard let start = attributes.baseAddress else { return true }
        return forEach(start, count: attributes.count, body)
    }

    static func u8(_ payload: UnsafeRawPointer, _ size: Int) -> UInt8? {
        size >= 1 ? payload.load(as: UInt8.self) : nil
    }

    static func u16(_ payload: UnsafeRawPointer, _ size: Int) -> UInt16? {
        size >= 2 ? UInt16(bigEndian: payload.loadUnaligned(as: UInt16.self)) : nil
    }

    static func u32(_ payload: UnsafeRawPointer, _ size: Int) -> UInt32? {
        size >= 4 ? UInt32(bigEndian: payload.loadUnaligned(as: UInt32.self)) : nil
    }

    static func u64(_ payload: UnsafeRawPointer, _ size: Int) -> UInt64? {
        size >= 8 ? UInt64(bigEndian: payload.loadUnaligned(as: UInt64.self)) : nil
    }

    /// The payload's bytes.
    static func bytes(_ payload: UnsafeRawPointer, _ size: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: payload, count: size))
    }

    /// An NLA_STRING / NLA_NUL_STRING payload: the bytes up to the first NUL, without it. Not decoded: the kernel
    /// does not promise UTF-8.
    static func stringBytes(_ payload: UnsafeRawPointer, _ size: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: payload, count: size).prefix { $0 != 0 })
    }

    /// Names the kernel made (tables, chains, interfaces) as text; bytes that are not UTF-8 become U+FFFD.
    static func string(_ payload: UnsafeRawPointer, _ size: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: payload, count: size).prefix { $0 != 0 }, as: UTF8.self)
    }
}
