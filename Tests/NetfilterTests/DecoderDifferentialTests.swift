import CNetfilter
import Foundation
import Glibc
import Testing
@testable import Netfilter

/// The Swift entry decoder (`ConntrackMessage.parse`, which `top` and the event listener use) against
/// libnetfilter_conntrack's `nfct_nlmsg_parse`, attribute by attribute, on messages dumped from a real table.
@Suite(.enabled(if: getuid() == 0, "the table is made in a throwaway network namespace: run as root"))
struct DecoderDifferentialTests {
    /// A namespace whose table holds TCP (with labels and a helper), UDP in a zone, ICMP and IPv6 entries, with
    /// counters, timestamps and marks on.
    static let setup = """
        sysctl -qw net.netfilter.nf_conntrack_acct=1
        sysctl -qw net.netfilter.nf_conntrack_timestamp=1
        nft -f - <<'NFT'
        table inet ctd {
            ct helper ftp-std { type "ftp" protocol tcp; }
            chain raw-out { type filter hook output priority raw; udp dport 5353 ct zone set 5; udp sport 5353 ct zone set 5; }
            chain raw-pre { type filter hook prerouting priority raw; udp dport 5353 ct zone set 5; udp sport 5353 ct zone set 5; }
            chain out {
                type filter hook output priority 0;
                ct state new ct mark set 0x2a
                tcp dport 8080 ct label set 3
                tcp dport 8080 ct label set 70
                tcp dport 21 ct helper set "ftp-std"
            }
        }
        NFT
        python3 - <<'PY'
        import socket
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            server = socket.socket(family)
            server.bind((host, 8080))
            server.listen(4)
            client = socket.create_connection((host, 8080))
            server.accept()[0].send(b"hello")
            client.recv(8)
            ftp = socket.socket(family)
            ftp.bind((host, 21))
            ftp.listen(1)
            control = socket.create_connection((host, 21))
            responder = socket.socket(family, socket.SOCK_DGRAM)
            responder.bind((host, 5353))
            query = socket.socket(family, socket.SOCK_DGRAM)
            query.sendto(b"?", (host, 5353))
            _, peer = responder.recvfrom(8)
            responder.sendto(b"!", peer)
        raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        raw.sendto(bytes([8, 0, 0xf7, 0xb2, 0, 77, 0, 0]), ("127.0.0.1", 0))  # echo request id 77, checksum set
        raw6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        raw6.sendto(bytes([128, 0, 0, 0, 0, 78, 0, 1]), ("::1", 0))         # the kernel fills the ICMPv6 checksum
        PY
        """

    @Test func swiftDecoderAndLibnetfilterConntrackAgreeOnEveryAttribute() throws {
        let ns = try TestNamespace("differ")
        try ns.run(Self.setup)
        var ct = try Ctnetlink(netns: ns.path)
        var compared = 0
        var seen = Set<String>()
        var disagreements: [String] = []
        try ct.exchange(Ctnetlink.dumpTable) { message in
            let ours = ConntrackMessage.parse(message).map(Self.attributes) ?? [:]
            guard let object = nfct_new() else { return false }
            defer { nfct_destroy(object) }
            let theirs = nfct_nlmsg_parse(message, object) < 0 ? [:] : Self.attributes(object)
            if ours != theirs {
                let keys = Set(ours.keys).union(theirs.keys).sorted().filter { ours[$0] != theirs[$0] }
                disagreements.append(keys.map { "\($0): swift \(ours[$0] ?? "-") libnetfilter_conntrack \(theirs[$0] ?? "-")" }.joined(separator: "; "))
            }
            seen.formUnion(theirs.keys)
            compared += 1
            return true
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
        #expect(compared >= 8)
        // The table exercised every attribute compared.
        let wanted: Set<String> = [
            "family", "l4proto", "orig.src", "orig.dst", "orig.sport", "orig.dport", "orig.icmp.type", "orig.icmp.code",
            "orig.icmp.id", "reply.src", "reply.dst", "reply.sport", "reply.dport", "status", "timeout", "mark", "zone",
            "helper", "labels", "counters.orig.packets", "counters.orig.bytes", "counters.reply.packets",
            "counters.reply.bytes", "tcp.state", "id", "timestamp.start",
        ]
        #expect(wanted.subtracting(seen).isEmpty, "never seen: \(wanted.subtracting(seen).sorted())")
    }

    /// The decoded entry as attribute name → value text.
    static func attributes(_ entry: ConntrackEntry) -> [String: String] {
        var out: [String: String] = ["family": "\(entry.family)", "l4proto": "\(entry.l4proto)", "status": "\(entry.status)"]
        func tuple(_ prefix: String, _ t: ConntrackTuple, icmp: Bool) {
            out["\(prefix).src"] = t.source.description
            out["\(prefix).dst"] = t.destination.description
            out["\(prefix).sport"] = t.sourcePort.map { "\($0)" }
            out["\(prefix).dport"] = t.destinationPort.map { "\($0)" }
            guard icmp else { return }
            out["\(prefix).icmp.type"] = t.icmpType.map { "\($0)" }
            out["\(prefix).icmp.code"] = t.icmpCode.map { "\($0)" }
            out["\(prefix).icmp.id"] = t.icmpID.map { "\($0)" }
        }
        tuple("orig", entry.original, icmp: true)
        if let reply = entry.reply { tuple("reply", reply, icmp: false) }
        out["timeout"] = entry.timeout.map { "\($0)" }
        out["mark"] = entry.mark.map { "\($0)" }
        out["zone"] = entry.zone.map { "\($0)" }
        out["helper"] = entry.helper.map(\.description)
        out["labels"] = entry.labels.map { $0.bits.map(String.init).joined(separator: ",") }
        if let c = entry.counters {
            out["counters.orig.packets"] = "\(c.originalPackets)"
            out["counters.orig.bytes"] = "\(c.originalBytes)"
            out["counters.reply.packets"] = "\(c.replyPackets)"
            out["counters.reply.bytes"] = "\(c.replyBytes)"
        }
        out["tcp.state"] = entry.tcpState.map { "\($0)" }
        out["id"] = entry.id.map { "\($0)" }
        out["timestamp.start"] = entry.startNanoseconds.map { "\($0)" }
        return out
    }

    /// The same attributes read back from libnetfilter_conntrack's object. Reply ICMP fields are left out: it
    /// keeps them without attribute bits of their own.
    static func attributes(_ ct: OpaquePointer) -> [String: String] {
        var out: [String: String] = [:]
        func set(_ attribute: nf_conntrack_attr) -> Bool { nfct_attr_is_set(ct, attribute) > 0 }
        func u8(_ key: String, _ a: nf_conntrack_attr) { if set(a) { out[key] = "\(nfct_get_attr_u8(ct, a))" } }
        func u16(_ key: String, _ a: nf_conntrack_attr, network: Bool = false) {
            if set(a) { out[key] = "\(network ? UInt16(bigEndian: nfct_get_attr_u16(ct, a)) : nfct_get_attr_u16(ct, a))" }
        }
        func u32(_ key: String, _ a: nf_conntrack_attr) { if set(a) { out[key] = "\(nfct_get_attr_u32(ct, a))" } }
        func u64(_ key: String, _ a: nf_conntrack_attr) { if set(a) { out[key] = "\(nfct_get_attr_u64(ct, a))" } }
        func address(_ key: String, v4: nf_conntrack_attr, v6: nf_conntrack_attr) {
            if set(v4) { out[key] = IPAddress(ipv4: nfct_get_attr_u32(ct, v4)).description }
            if set(v6), let bytes = nfct_get_attr(ct, v6) { out[key] = IPAddress(ipv6: bytes).description }
        }
        u8("family", ATTR_ORIG_L3PROTO)
        u8("l4proto", ATTR_ORIG_L4PROTO)
        u32("status", ATTR_STATUS)
        address("orig.src", v4: ATTR_ORIG_IPV4_SRC, v6: ATTR_ORIG_IPV6_SRC)
        address("orig.dst", v4: ATTR_ORIG_IPV4_DST, v6: ATTR_ORIG_IPV6_DST)
        address("reply.src", v4: ATTR_REPL_IPV4_SRC, v6: ATTR_REPL_IPV6_SRC)
        address("reply.dst", v4: ATTR_REPL_IPV4_DST, v6: ATTR_REPL_IPV6_DST)
        u16("orig.sport", ATTR_ORIG_PORT_SRC, network: true)
        u16("orig.dport", ATTR_ORIG_PORT_DST, network: true)
        u16("reply.sport", ATTR_REPL_PORT_SRC, network: true)
        u16("reply.dport", ATTR_REPL_PORT_DST, network: true)
        u8("orig.icmp.type", ATTR_ICMP_TYPE)
        u8("orig.icmp.code", ATTR_ICMP_CODE)
        u16("orig.icmp.id", ATTR_ICMP_ID, network: true)
        u32("timeout", ATTR_TIMEOUT)
        u32("mark", ATTR_MARK)
        u16("zone", ATTR_ZONE)
        if set(ATTR_HELPER_NAME), let name = nfct_get_attr(ct, ATTR_HELPER_NAME) {
            out["helper"] = String(cString: name.assumingMemoryBound(to: CChar.self))
        }
        if set(ATTR_CONNLABELS), let labels = nfct_get_attr(ct, ATTR_CONNLABELS) {
            let bitmask = OpaquePointer(labels)
            let bits = (0...nfct_bitmask_maxbit(bitmask)).filter { nfct_bitmask_test_bit(bitmask, $0) != 0 }
            out["labels"] = bits.map(String.init).joined(separator: ",")
        }
        u64("counters.orig.packets", ATTR_ORIG_COUNTER_PACKETS)
        u64("counters.orig.bytes", ATTR_ORIG_COUNTER_BYTES)
        u64("counters.reply.packets", ATTR_REPL_COUNTER_PACKETS)
        u64("counters.reply.bytes", ATTR_REPL_COUNTER_BYTES)
        u8("tcp.state", ATTR_TCP_STATE)
        u32("id", ATTR_ID)
        u64("timestamp.start", ATTR_TIMESTAMP_START)
        return out
    }
}
