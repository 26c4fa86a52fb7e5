import CNetfilter
import Glibc
import Testing
@testable import Netfilter

/// Reply messages built byte by byte, as the kernel lays them out, read back by `ConntrackMessage.parse`.
@Suite struct ConntrackMessageTests {
    static func attr(_ type: UInt16, _ payload: [UInt8], nested: Bool = false) -> [UInt8] {
        let length = UInt16(4 + payload.count)
        var bytes = withUnsafeBytes(of: length.littleEndian, Array.init) + withUnsafeBytes(of: (type | (nested ? 0x8000 : 0)).littleEndian, Array.init)
        bytes += payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func be16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }
    static func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian, Array.init) }

    /// An nfnetlink message; by default a ctnetlink IPCTNL_MSG_CT_NEW with NLM_F_MULTI, as in a dump reply.
    static func message(
        family: UInt8 = 2, type: UInt16 = UInt16(NFNL_SUBSYS_CTNETLINK) << 8 | UInt16(IPCTNL_MSG_CT_NEW.rawValue),
        flags: UInt16 = UInt16(NLM_F_MULTI), _ attributes: [UInt8]
    ) -> [UInt8] {
        let length = UInt32(16 + 4 + attributes.count)
        var bytes = withUnsafeBytes(of: length.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: type.littleEndian, Array.init)
        bytes += withUnsafeBytes(of: flags.littleEndian, Array.init)
        bytes += [UInt8](repeating: 0, count: 8)                                // seq, pid
        bytes += [family, 0, 0, 0]                                              // nfgenmsg
        return bytes + attributes
    }

    /// Runs `body` on a copy of `bytes` aligned as the kernel's messages are.
    static func withMessage<T>(_ bytes: [UInt8], _ body: (UnsafePointer<nlmsghdr>) -> T) -> T {
        bytes.withUnsafeBytes { raw in
            let aligned = UnsafeMutableRawPointer.allocate(byteCount: raw.count, alignment: 8)
            defer { aligned.deallocate() }
            aligned.copyMemory(from: raw.baseAddress!, byteCount: raw.count)
            return body(aligned.assumingMemoryBound(to: nlmsghdr.self))
        }
    }

    static func tcpEntry(helper: String? = nil) -> [UInt8] {
        let ip = attr(1, attr(1, [10, 0, 0, 1]) + attr(2, [192, 168, 1, 2]), nested: true)
        let proto = attr(2, attr(1, [6]) + attr(2, be16(51234)) + attr(3, be16(443)), nested: true)
        var attributes = attr(1, ip + proto, nested: true)
        attributes += attr(3, be32(0x2 | 0x4 | 0x8))
        attributes += attr(4, attr(1, attr(1, [3]), nested: true), nested: true)
        attributes += attr(7, be32(431_000))
        attributes += attr(8, be32(0x2a))
        attributes += attr(12, be32(777))
        attributes += attr(18, be16(5))
        if let helper { attributes += attr(5, attr(1, Array(helper.utf8) + [0]), nested: true) }
        attributes += attr(20, attr(1, withUnsafeBytes(of: UInt64(1_700_000_000_000_000_000).bigEndian, Array.init)), nested: true)
        return message(attributes)
    }

    func parse(_ bytes: [UInt8]) -> ConntrackEntry? {
        Self.withMessage(bytes) { ConntrackMessage.parse($0) }
    }

    @Test func everyFieldOfATCPEntry() throws {
        let entry = try #require(parse(Self.tcpEntry(helper: "ftp")))
        #expect(entry.family == 2)
        #expect(entry.l4proto == 6)
        #expect(entry.source.description == "10.0.0.1")
        #expect(entry.destination.description == "192.168.1.2")
        #expect(entry.sourcePort == 51234)
        #expect(entry.destinationPort == 443)
        #expect(entry.tcpState == 3)
        #expect(entry.isAssured)
        #expect(!entry.isUnreplied)
        #expect(entry.timeout == 431_000)
        #expect(entry.mark == 0x2a)
        #expect(entry.id == 777)
        #expect(entry.zone == 5)
        #expect(entry.helper?.description == "ftp")
        #expect(entry.startNanoseconds == 1_700_000_000_000_000_000)
    }

    @Test func ipv6AndMissingOptionalAttributes() throws {
        var src = [UInt8](repeating: 0, count: 16); src[15] = 1
        var dst = [UInt8](repeating: 0, count: 16); dst[0] = 0x20; dst[1] = 0x01; dst[2] = 0x0d; dst[3] = 0xb8; dst[15] = 2
        let ip = Self.attr(1, Self.attr(3, src) + Self.attr(4, dst), nested: true)
        let proto = Self.attr(2, Self.attr(1, [17]) + Self.attr(2, Self.be16(5353)) + Self.attr(3, Self.be16(53)), nested: true)
        let entry = try #require(parse(Self.message(family: 10, Self.attr(1, ip + proto, nested: true))))
        #expect(entry.family == 10)
        #expect(entry.source.description == "::1")
        #expect(entry.destination.description == "2001:db8::2")
        #expect(entry.destinationPort == 53)
        #expect(entry.tcpState == nil)
        #expect(entry.mark == nil)
        #expect(entry.zone == nil)
        #expect(entry.helper == nil)
        #expect(entry.isUnreplied)
    }

    @Test func replyTupleCountersLabelsAndICMP() throws {
        let origIP = Self.attr(1, Self.attr(1, [10, 0, 0, 1]) + Self.attr(2, [10, 0, 0, 2]), nested: true)
        let origProto = Self.attr(2, Self.attr(1, [1]) + Self.attr(4, Self.be16(77)) + Self.attr(5, [8]) + Self.attr(6, [0]), nested: true)
        let replyIP = Self.attr(1, Self.attr(1, [10, 0, 0, 2]) + Self.attr(2, [10, 0, 0, 1]), nested: true)
        let replyProto = Self.attr(2, Self.attr(1, [1]) + Self.attr(4, Self.be16(77)) + Self.attr(5, [0]) + Self.attr(6, [0]), nested: true)
        let be64 = { (v: UInt64) in withUnsafeBytes(of: v.bigEndian, Array.init) }
        var attributes = Self.attr(1, origIP + origProto, nested: true) + Self.attr(2, replyIP + replyProto, nested: true)
        attributes += Self.attr(9, Self.attr(1, be64(3)) + Self.attr(2, be64(252)), nested: true)
        attributes += Self.attr(10, Self.attr(3, Self.be32(2)) + Self.attr(4, Self.be32(168)), nested: true)
        // Labels 3 and 70: the kernel's bitmap of longs, little-endian here.
        var labels = [UInt8](repeating: 0, count: 16)
        labels[0] = 1 << 3
        labels[8] = 1 << 6
        attributes += Self.attr(22, labels)
        let entry = try #require(parse(Self.message(attributes)))
        #expect(entry.l4proto == 1)
        #expect(entry.original.icmpType == 8 && entry.original.icmpCode == 0 && entry.original.icmpID == 77)
        #expect(entry.sourcePort == nil)
        let reply = try #require(entry.reply)
        #expect(reply.source.description == "10.0.0.2" && reply.destination.description == "10.0.0.1")
        #expect(reply.icmpType == 0)
        #expect(entry.counters == ConntrackCounters(originalPackets: 3, originalBytes: 252, replyPackets: 2, replyBytes: 168))
        #expect(entry.labels?.bits == [3, 70])
        // A summary's stream skips them, and reads the rest the same.
        let lean = try #require(Self.withMessage(Self.message(attributes)) { ConntrackMessage.parse($0, detail: false) })
        #expect(lean.reply == nil && lean.counters == nil && lean.labels == nil)
        #expect(lean.original == entry.original)
    }

    @Test func truncatedOrTuplelessMessagesAreRejected() {
        var bytes = Self.tcpEntry()
        // Claim a longer first attribute than the message holds.
        bytes[20] = 0xff
        bytes[21] = 0x7f
        #expect(parse(bytes) == nil)
        #expect(parse(Self.message(Self.attr(3, Self.be32(8)))) == nil)
    }

    @Test func helperNamesStayInline() {
        #expect(HelperName("sip").description == "sip")
        #expect(HelperName("a-very-long-helper-name").description == "a-very-long-hel")
        #expect(HelperName("ftp") == HelperName("ftp"))
    }
}

/// Found by Fuzz/run (FuzzNetlink): libmnl's length check casts nlmsg_len to int, so a message claiming 2^31 bytes or
/// more passed it and the entry parser read gigabytes past the receive buffer.
@Suite struct NetlinkMessageLoopTests {
    @Test func messageLongerThanTheBufferEndsTheBatch() {
        let valid = ConntrackMessageTests.tcpEntry()
        var forged = ConntrackMessageTests.tcpEntry()
        forged.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(0x8001_004c).littleEndian, Array.init))
        var buffer = valid + forged
        var parsed = 0
        let (status, code): (Int32, Int32) = buffer.withUnsafeMutableBytes { raw in
            let status = NetlinkSocket.eachMessage(in: raw, sequence: 0, portID: 0) { message in
                if ConntrackMessage.parse(message) != nil { parsed += 1 }
                return true
            }
            return (status, errno)
        }
        #expect(parsed == 1, "the valid message before it is read")
        #expect(status == MNL_CB_ERROR)
        #expect(code == EBADMSG)
    }

    /// The second find: a control message (NLMSG_NOOP), which libmnl handles without calling back, with such a length.
    @Test func controlMessageLongerThanTheBufferIsNeverFollowed() {
        var noop = [UInt8](repeating: 0, count: 16)
        noop.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(0x8000_0010).littleEndian, Array.init))
        noop[4] = 1  // NLMSG_NOOP
        var buffer = noop + ConntrackMessageTests.tcpEntry()
        var parsed = 0
        let (status, code): (Int32, Int32) = buffer.withUnsafeMutableBytes { raw in
            let status = NetlinkSocket.eachMessage(in: raw, sequence: 0, portID: 0) { _ in parsed += 1; return true }
            return (status, errno)
        }
        #expect(parsed == 0 && status == MNL_CB_ERROR && code == EBADMSG)
        #expect(NetlinkSocket.wellFormedLength(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
    }
}
