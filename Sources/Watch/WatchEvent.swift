/// A conntrack event as `watch` counts it: its kind and the flow it belongs to. The host turns the listener's
/// events into these, so the pure side needs no netlink types.
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case new, update, destroy
    }

    public var kind: Kind
    public var flow: WatchFlowKey

    public init(kind: Kind, flow: WatchFlowKey) {
        self.kind = kind
        self.flow = flow
    }
}

/// A flow as `watch` groups events: protocol, source address, destination address and port, so a client's
/// connections to one service are one flow whatever source port each used.
public struct WatchFlowKey: Hashable, Sendable {
    public var l4proto: UInt8
    public var source: WatchAddress
    public var destination: WatchAddress
    public var port: UInt16?

    public init(l4proto: UInt8, source: WatchAddress, destination: WatchAddress, port: UInt16?) {
        self.l4proto = l4proto
        self.source = source
        self.destination = destination
        self.port = port
    }

    /// "udp 127.0.0.1 → 127.1.0.0:10000", "tcp ::1 → [2001:db8::2]:443", with the protocol named by the caller
    /// (the host knows the kernel's protocol numbers).
    public func text(protocolName: (UInt8) -> String) -> String {
        let target = destination.isIPv6 && port != nil ? "[\(destination)]" : destination.description
        return "\(protocolName(l4proto)) \(source) → \(target)\(port.map { ":\($0)" } ?? "")"
    }
}

/// An IPv4 or IPv6 address as two integers (the IPv4 one in `low`), printed without the C library.
public struct WatchAddress: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool

    public init(high: UInt64, low: UInt64, isIPv6: Bool) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
    }

    /// Dotted quad, or RFC 5952 text: lower-case hex, the longest run of two or more zero groups as "::".
    public var description: String {
        guard isIPv6 else {
            let v = UInt32(truncatingIfNeeded: low)
            return "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)"
        }
        let groups = (0..<8).map { i -> UInt16 in
            let word = i < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (UInt64(3 - i % 4) * 16))
        }
        var best = (start: -1, length: 0)
        var i = 0
        while i < 8 {
            guard groups[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8 && groups[j] == 0 { j += 1 }
            if j - i > best.length && j - i >= 2 { best = (i, j - i) }
            i = j
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.start >= 0 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}
