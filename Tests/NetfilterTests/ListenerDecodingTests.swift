import CNetfilter
import Testing
@testable import Netfilter

/// Listener messages built byte by byte as the kernel lays them out, and the packet header decoder.
@Suite struct ListenerDecodingTests {
    typealias Bytes = ConntrackMessageTests

    static func type(_ subsystem: Int32, _ message: UInt32) -> UInt16 { UInt16(subsystem) << 8 | UInt16(message) }

    static let ipTuple = Bytes.attr(
        1,
        Bytes.attr(1, Bytes.attr(1, [127, 0, 0, 1]) + Bytes.attr(2, [127, 1, 0, 0]), nested: true)
            + Bytes.attr(2, Bytes.attr(1, [17]) + Bytes.attr(2, Bytes.be16(40000)) + Bytes.attr(3, Bytes.be16(10000)), nested: true),
        nested: true)

    @Test(arguments: [
        (IPCTNL_MSG_CT_NEW.rawValue, UInt16(NLM_F_CREATE | NLM_F_EXCL), ConntrackEvent.Kind.new),
        (IPCTNL_MSG_CT_NEW.rawValue, 0, .update),
        (IPCTNL_MSG_CT_NEW.rawValue, UInt16(NLM_F_CREATE), .update),
        (IPCTNL_MSG_CT_DELETE.rawValue, 0, .destroy),
    ])
    func eventKindsFollowTypeAndFlags(message: UInt32, flags: UInt16, kind: ConntrackEvent.Kind) throws {
        let bytes = Bytes.message(type: Self.type(NFNL_SUBSYS_CTNETLINK, message), flags: flags, Self.ipTuple)
        let event = try #require(Bytes.withMessage(bytes, ConntrackEvent.decode))
        #expect(event.kind == kind)
        #expect(event.entry.destination.description == "127.1.0.0")
        #expect(event.entry.sourcePort == 40000)
    }

    @Test func otherMessagesAreNotEvents() {
        let expectation = Bytes.message(type: Self.type(NFNL_SUBSYS_CTNETLINK_EXP, IPCTNL_MSG_EXP_NEW.rawValue), Self.ipTuple)
        #expect(Bytes.withMessage(expectation, ConntrackEvent.decode) == nil)
        let getStats = Bytes.message(type: Self.type(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_GET_STATS.rawValue), Self.ipTuple)
        #expect(Bytes.withMessage(getStats, ConntrackEvent.decode) == nil)
    }

    /// IPv4 + TCP with SYN and FIN, from 127.0.0.1:40001 to 127.0.0.1:9.
    static let synFin: [UInt8] = {
        var ip: [UInt8] = [0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]
        ip += Bytes.be16(40001) + Bytes.be16(9) + Bytes.be32(1000) + Bytes.be32(0) + [5 << 4, 0x03] + Bytes.be16(1024) + [0, 0, 0, 0]
        return ip
    }()

    @Test func nflogPacketsKeepPrefixBytesAndDecodeTheirHeaders() throws {
        // A prefix with a byte that is not UTF-8 and an escape sequence: kept as sent, never interpreted here.
        let prefix: [UInt8] = Array("nf_ct_tcp: invalid tcp flag combination ".utf8) + [0xff, 0x1b, 0x5b, 0x32, 0x4a]
        var attributes = Bytes.attr(1, Bytes.be16(0x0800) + [3, 0])   // NFULA_PACKET_HDR: ETH_P_IP, NF_INET_LOCAL_OUT
        attributes += Bytes.attr(2, Bytes.be32(0x2a))                   // NFULA_MARK
        attributes += Bytes.attr(5, Bytes.be32(1))                      // NFULA_IFINDEX_OUTDEV
        attributes += Bytes.attr(9, Self.synFin)                        // NFULA_PAYLOAD
        attributes += Bytes.attr(10, prefix + [0])                      // NFULA_PREFIX
        attributes += Bytes.attr(12, Bytes.be32(41))                    // NFULA_SEQ
        let bytes = Bytes.message(type: Self.type(NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET.rawValue), flags: 0, attributes)
        let packet = try #require(Bytes.withMessage(bytes, NflogPacket.decode))
        #expect(packet.family == 2)
        #expect(packet.hook == 3)
        #expect(packet.hardwareProtocol == 0x0800)
        #expect(packet.mark == 0x2a)
        #expect(packet.outInterface == 1 && packet.inInterface == nil)
        #expect(packet.sequence == 41)
        #expect(packet.prefixBytes == prefix)
        #expect(packet.prefix.hasPrefix("nf_ct_tcp: invalid tcp flag combination "))
        #expect(packet.prefix.unicodeScalars.contains("\u{FFFD}"))
        let headers = try #require(packet.headers)
        #expect(headers.ipVersion == 4 && headers.l4proto == 6)
        #expect(headers.source.description == "127.0.0.1")
        #expect(headers.sourcePort == 40001 && headers.destinationPort == 9)
        #expect(headers.tcpFlags == [.syn, .fin])
        #expect(headers.tcpFlags?.description == "SYN,FIN")
    }

    @Test func aTruncatedNflogAttributeRejectsTheMessage() {
        var bytes = Bytes.message(
            type: Self.type(NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET.rawValue), flags: 0, Bytes.attr(12, Bytes.be32(1)))
        bytes[20] = 0x40  // NFULA_SEQ claims 64 bytes
        #expect(Bytes.withMessage(bytes, NflogPacket.decode) == nil)
    }

    @Test func traceEventsCarryTableChainHandleAndVerdict() throws {
        var attributes = Bytes.attr(1, Array("ctdtest".utf8) + [0])                     // NFTA_TRACE_TABLE
        attributes += Bytes.attr(2, Array("output".utf8) + [0])                         // NFTA_TRACE_CHAIN
        attributes += Bytes.attr(3, withUnsafeBytes(of: UInt64(4).bigEndian, Array.init))  // NFTA_TRACE_RULE_HANDLE
        attributes += Bytes.attr(4, Bytes.be32(NFT_TRACETYPE_RULE.rawValue))           // NFTA_TRACE_TYPE
        let jump = Bytes.attr(1, Bytes.be32(UInt32(bitPattern: NFT_JUMP.rawValue))) + Bytes.attr(2, Array("sub".utf8) + [0])
        attributes += Bytes.attr(5, jump, nested: true)                                 // NFTA_TRACE_VERDICT
        attributes += Bytes.attr(6, Bytes.be32(0xdead))                                 // NFTA_TRACE_ID
        attributes += Bytes.attr(8, Array(Self.synFin.prefix(20)))                      // NFTA_TRACE_NETWORK_HEADER
        attributes += Bytes.attr(9, Array(Self.synFin.suffix(20)))                      // NFTA_TRACE_TRANSPORT_HEADER
        attributes += Bytes.attr(12, Bytes.be32(1))                                     // NFTA_TRACE_OIF
        attributes += Bytes.attr(15, Bytes.be32(2))                                     // NFTA_TRACE_NFPROTO
        let bytes = Bytes.message(family: 1, type: Self.type(NFNL_SUBSYS_NFTABLES, NFT_MSG_TRACE.rawValue), flags: 0, attributes)
        let event = try #require(Bytes.withMessage(bytes, TraceEvent.decode))
        #expect(event.family == 1)
        #expect(event.table == "ctdtest" && event.chain == "output")
        #expect(event.ruleHandle == 4)
        #expect(event.kind == .rule)
        #expect(event.verdict == TraceEvent.Verdict(code: NFT_JUMP.rawValue, chain: "sub"))
        #expect(event.verdict?.description == "jump sub")
        #expect(event.id == 0xdead)
        #expect(event.outInterface == 1 && event.nfproto == 2)
        #expect(event.headers?.tcpFlags == [.syn, .fin])
        #expect(event.headers?.destinationPort == 9)
    }

    @Test func verdictNamesAreNftsOwn() {
        #expect(TraceEvent.Verdict(code: Int32(NF_ACCEPT)).description == "accept")
        #expect(TraceEvent.Verdict(code: Int32(NF_DROP)).description == "drop")
        #expect(TraceEvent.Verdict(code: NFT_CONTINUE.rawValue).description == "continue")
        #expect(TraceEvent.Verdict(code: NFT_GOTO.rawValue, chain: "x").description == "goto x")
        #expect(TraceEvent.Kind(NFT_TRACETYPE_POLICY.rawValue) == .policy)
        #expect(TraceEvent.Kind(9) == .other(9))
    }

    @Test func ipv6HeadersSkipExtensionHeaders() throws {
        var bytes: [UInt8] = [0x60, 0, 0, 0, 0, 16, 0, 64]   // next header: hop-by-hop
        bytes += [UInt8](repeating: 0, count: 15) + [1]       // ::1
        bytes += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
        bytes += [17, 0, 1, 4, 0, 0, 0, 0]                    // hop-by-hop, 8 bytes, then UDP
        bytes += Bytes.be16(5353) + Bytes.be16(53) + [0, 8, 0, 0]
        let headers = try #require(PacketHeaders(bytes))
        #expect(headers.ipVersion == 6 && headers.l4proto == 17)
        #expect(headers.destination.description == "2001:db8::2")
        #expect(headers.sourcePort == 5353 && headers.destinationPort == 53)
        #expect(headers.tcpFlags == nil)
    }

    @Test func truncatedOrForeignHeadersGiveWhatIsThere() throws {
        #expect(PacketHeaders([]) == nil)
        #expect(PacketHeaders([0x45, 0, 0]) == nil)
        #expect(PacketHeaders(Array(repeating: 0x20, count: 40)) == nil)  // version 2
        let ipOnly = try #require(PacketHeaders(Array(Self.synFin.prefix(22))))
        #expect(ipOnly.l4proto == 6 && ipOnly.sourcePort == nil)
        // A later fragment (offset 185 × 8) carries no ports, even if the bytes after the header look like some.
        var fragment = Self.synFin
        fragment[6] = 0x00
        fragment[7] = 0xb9
        let later = try #require(PacketHeaders(fragment))
        #expect(later.isLaterFragment && later.sourcePort == nil)
        var icmp: [UInt8] = [0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        icmp += [3, 3, 0, 0]
        let unreachable = try #require(PacketHeaders(icmp))
        #expect(unreachable.icmpType == 3 && unreachable.icmpCode == 3)
    }

    @Test func datagramsAreSplitIntoMessagesSkippingControlOnes() {
        let event = Bytes.message(type: Self.type(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW.rawValue), Self.ipTuple)
        var done = [UInt8](repeating: 0, count: 20)
        done[0] = 20
        done[4] = UInt8(NLMSG_DONE)
        let datagram = event + done + event
        var seen = 0
        let count = Bytes.withMessage(datagram) { message in
            ListenerSocket.forEachMessage(in: UnsafeRawBufferPointer(start: message, count: datagram.count)) { _ in seen += 1 }
        }
        #expect(count == 2 && seen == 2)
    }

    /// Found by Fuzz/run (FuzzListeners): a control message claiming 2^31 bytes passed libmnl's int-cast length check
    /// and the walk jumped gigabytes past the datagram; a data message so long went to the decoders whole.
    @Test func messagesLongerThanTheDatagramAreNeverWalked() {
        let event = Bytes.message(type: Self.type(NFNL_SUBSYS_CTNETLINK, IPCTNL_MSG_CT_NEW.rawValue), Self.ipTuple)
        var noop = [UInt8](repeating: 0, count: 20)
        noop.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(0x8000_0014).littleEndian, Array.init))
        noop[4] = UInt8(NLMSG_NOOP)
        var huge = event
        huge.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(0x8000_0000 + UInt32(event.count)).littleEndian, Array.init))
        for (datagram, expected) in [(event + noop + event, 1), (event + huge, 1), (huge + event, 0)] {
            var seen = 0
            let count = Bytes.withMessage(datagram) { message in
                ListenerSocket.forEachMessage(in: UnsafeRawBufferPointer(start: message, count: datagram.count)) { _ in seen += 1 }
            }
            #expect(count == expected && seen == expected)
        }
    }
}
