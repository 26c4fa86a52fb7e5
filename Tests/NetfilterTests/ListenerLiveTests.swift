import CNetfilter
import Foundation
import Glibc
import Testing
@testable import Netfilter

/// The event, nflog and trace listeners on the running kernel, each test in a throwaway network namespace.
@Suite(.enabled(if: getuid() == 0, "listeners need CAP_NET_ADMIN and the tests create network namespaces: run them as root"))
struct ListenerLiveTests {
    /// Benchmarks/udp-traffic: one datagram from 127.0.0.1:40000 to each of COUNT destinations 127.1.A.B:10000+i.
    static let udpTraffic = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Benchmarks/udp-traffic").path

    /// Polls until `done` says so or `seconds` pass; returns everything received and the batches' totals.
    static func collect<M>(
        seconds: Double = 5, _ poll: (Int) throws -> ListenerBatch<M>, until done: ([M]) -> Bool
    ) rethrows -> (messages: [M], overruns: Int, lost: Int?) {
        var messages: [M] = []
        var overruns = 0
        var lost: Int? = 0
        let deadline = Date().addingTimeInterval(seconds)
        while !done(messages), Date() < deadline {
            let batch = try poll(100)
            messages += batch.messages
            overruns += batch.overruns
            lost = lost.flatMap { sum in batch.lost.map { sum + $0 } }
        }
        return (messages, overruns, lost)
    }

    static func flows(_ events: [ConntrackEvent], _ kind: ConntrackEvent.Kind) -> Set<String> {
        Set(events.filter { $0.kind == kind && $0.entry.l4proto == 17 }.map {
            "\($0.entry.source):\($0.entry.sourcePort ?? 0)>\($0.entry.destination):\($0.entry.destinationPort ?? 0)"
        })
    }

    @Test func newAndDestroyEventsCarryTheExactTuples() throws {
        let ns = try TestNamespace("events")
        try ns.run(CtnetlinkLiveTests.trackEverything)
        var listener = try ConntrackEventListener(netns: ns.path)
        try ns.run("python3 \(Self.udpTraffic) 3")
        let expected: Set<String> = [
            "127.0.0.1:40000>127.1.0.0:10000", "127.0.0.1:40000>127.1.0.0:10001", "127.0.0.1:40000>127.1.0.0:10002",
        ]
        let created = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) { Self.flows($0, .new) == expected }
        #expect(Self.flows(created.messages, .new) == expected)
        #expect(created.messages.filter { $0.kind == .new }.allSatisfy { $0.entry.reply?.source.description.hasPrefix("127.1.0.") == true })
        #expect(created.overruns == 0 && created.lost == 0)

        try ns.run("conntrack -F 2>/dev/null")
        let destroyed = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) { Self.flows($0, .destroy) == expected }
        #expect(Self.flows(destroyed.messages, .destroy) == expected)
    }

    @Test func onlyTheAskedKindsArrive() throws {
        let ns = try TestNamespace("evkinds")
        try ns.run(CtnetlinkLiveTests.trackEverything)
        var listener = try ConntrackEventListener(netns: ns.path, kinds: [.destroy])
        try ns.run("python3 \(Self.udpTraffic) 2; conntrack -F 2>/dev/null")
        let got = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) { Self.flows($0, .destroy).count == 2 }
        #expect(Self.flows(got.messages, .destroy).count == 2)
        #expect(got.messages.allSatisfy { $0.kind == .destroy })
    }

    @Test func conntrackInvalidLogLinesArriveOnNflogGroupZero() throws {
        let ns = try TestNamespace("nflog")
        try ns.run("""
            sysctl -qw net.netfilter.nf_log.2=nfnetlink_log
            sysctl -qw net.netfilter.nf_conntrack_log_invalid=6
            \(CtnetlinkLiveTests.trackEverything)
            """)
        var listener = try NflogListener(netns: ns.path, group: 0)
        try ns.run("python3 \(TestNamespace.tool("send-invalid-tcp")) 127.0.0.1 3")
        let invalid = { (packets: [NflogPacket]) in packets.filter { $0.prefix.contains("invalid tcp flag combination") } }
        let got = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) {
            Set(invalid($0).compactMap { $0.headers?.sourcePort }).count == 3
        }
        let packets = invalid(got.messages)
        #expect(Set(packets.compactMap { $0.headers?.sourcePort }) == [40000, 40001, 40002])
        #expect(packets.allSatisfy { $0.headers?.destinationPort == 9 && $0.headers?.tcpFlags == [.syn, .fin] })
        // "nf_ct_proto_6: " on 6.18 (older kernels named the tracker: "nf_ct_tcp: ").
        #expect(packets.allSatisfy { $0.family == 2 && $0.prefix.hasPrefix("nf_ct_") })
        #expect(packets.allSatisfy { $0.sequence != nil })
        #expect(got.lost == 0)
    }

    @Test func bindingTheLoggerIsExplicitAndVisibleInTheSysctl() throws {
        let ns = try TestNamespace("pfbind")
        let before = try ns.run("cat /proc/sys/net/netfilter/nf_log/2").trimmingCharacters(in: .whitespacesAndNewlines)
        do { _ = try NflogListener(netns: ns.path, group: 0) }
        #expect(try ns.run("cat /proc/sys/net/netfilter/nf_log/2").trimmingCharacters(in: .whitespacesAndNewlines) == before)
        do { _ = try NflogListener(netns: ns.path, group: 0, bindLoggerFor: [UInt8(NFPROTO_IPV4)]) }
        #expect(try ns.run("cat /proc/sys/net/netfilter/nf_log/2").trimmingCharacters(in: .whitespacesAndNewlines) == "nfnetlink_log")
    }

    @Test func aGroupAlreadyBoundIsBusy() throws {
        let ns = try TestNamespace("busy")
        let first = try NflogListener(netns: ns.path, group: 7)
        // nfulnl_recv_config answers EPERM for an instance another socket owns, before it looks at the command.
        #expect(throws: NetlinkError("NFULNL_CFG_CMD_BIND group 7", errno: EPERM)) {
            _ = try NflogListener(netns: ns.path, group: 7)
        }
        _ = consume first
        // Released with the socket: the group can be bound again.
        _ = try NflogListener(netns: ns.path, group: 7)
    }

    @Test func traceEventsNameTableChainRuleAndVerdict() throws {
        let ns = try TestNamespace("trace")
        try ns.run("""
            nft add table inet ctdtest
            nft add chain inet ctdtest prerouting '{ type filter hook prerouting priority 0; policy accept; }'
            nft add chain inet ctdtest output '{ type filter hook output priority 0; policy accept; }'
            nft add rule inet ctdtest prerouting udp dport 7777 meta nftrace set 1
            nft add rule inet ctdtest output udp dport 7777 meta nftrace set 1
            """)
        let handle = try ns.run("nft --echo --handle add rule inet ctdtest output udp dport 7777 counter accept")
        let acceptHandle = try #require(handle.firstMatch(of: /# handle (\d+)/).flatMap { UInt64($0.1) })
        var listener = try TraceListener(netns: ns.path)
        try ns.run("python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"x\", (\"127.0.0.1\", 7777))'")
        let got = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) { events in
            events.contains { $0.chain == "output" && $0.ruleHandle == acceptHandle }
                && events.contains { $0.chain == "prerouting" && $0.kind == .policy }
        }
        let events = got.messages
        #expect(events.allSatisfy { $0.table == "ctdtest" && $0.family == UInt8(NFPROTO_INET) })
        let accept = try #require(events.first { $0.chain == "output" && $0.ruleHandle == acceptHandle })
        #expect(accept.kind == .rule)
        #expect(accept.verdict?.description == "accept")
        #expect(accept.nfproto == UInt32(NFPROTO_IPV4))
        // Headers come with the first event of each traced packet only (nft_trace_notify's packet_dumped).
        let withHeaders = events.filter { !$0.networkHeader.isEmpty }
        #expect(!withHeaders.isEmpty)
        #expect(withHeaders.allSatisfy { $0.headers?.l4proto == 17 && $0.headers?.destinationPort == 7777 })
        let policy = try #require(events.first { $0.chain == "prerouting" && $0.kind == .policy })
        #expect(policy.policy == UInt32(NF_ACCEPT))
        #expect(events.allSatisfy { $0.id != nil })
    }

    @Test func anOverrunIsCountedAndTheLostNflogPacketsExactly() throws {
        let ns = try TestNamespace("overrun")
        try ns.run("nft add table inet ctdlog; nft add chain inet ctdlog out '{ type filter hook output priority 0; }'; nft add rule inet ctdlog out udp dport 6666 log group 5")
        let tiny = ReceiveBufferPolicy(initialBytes: 4096, maximumBytes: 1 << 20)
        var listener = try NflogListener(netns: ns.path, group: 5, receiveBuffer: tiny)
        let small = listener.receiveBufferBytes
        let burst = 2000
        let send = { (count: Int) in
            try ns.run("python3 -c 'import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(\(count)): s.sendto(b\"x\", (\"127.0.0.1\", 6666))'")
        }
        try send(burst)
        var received = 0
        var overruns = 0
        var lost = 0
        while true {
            let batch = try listener.poll(timeoutMilliseconds: 200)
            received += batch.messages.count
            overruns += batch.overruns
            lost += batch.lost ?? 0
            if batch.messages.isEmpty && batch.overruns == 0 { break }
        }
        // Packets lost at the end of the burst show as a gap only when the next one arrives.
        try send(1)
        let marker = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) { !$0.isEmpty }
        received += marker.messages.count
        lost += marker.lost ?? 0
        #expect(overruns > 0)
        #expect(lost > 0)
        #expect(received + lost == burst + 1)
        #expect(listener.receiveBufferBytes > small)
    }

    @Test func anEventOverrunSaysSomeWereLostWithoutANumber() throws {
        let ns = try TestNamespace("evoverrun")
        try ns.run(CtnetlinkLiveTests.trackEverything)
        var listener = try ConntrackEventListener(
            netns: ns.path, kinds: [.new], receiveBuffer: ReceiveBufferPolicy(initialBytes: 4096, maximumBytes: 1 << 20))
        try ns.run("python3 \(Self.udpTraffic) 3000")
        let got = try Self.collect({ try listener.poll(timeoutMilliseconds: $0) }) { _ in false }
        #expect(got.overruns > 0)
        #expect(got.lost == nil)
        #expect(got.messages.count < 3000)
        #expect(listener.receiveBufferBytes > 4096 * 2)
    }
}
