import Foundation
import Glibc
import Testing
@testable import Netfilter

/// ctnetlink on the running kernel, each test in a throwaway network namespace of its own.
@Suite(.enabled(if: getuid() == 0, "ctnetlink requests need CAP_NET_ADMIN and the tests create network namespaces: run them as root"))
struct CtnetlinkLiveTests {
    /// Turns conntrack on in the namespace: hooks register only when a rule needs them.
    static let trackEverything = """
        nft add table inet ctd
        nft add chain inet ctd out '{ type filter hook output priority 0; }'
        nft add rule inet ctd out ct state new counter
        """

    @Test func freshNamespaceCountsNothingAndReportsTheGlobalMax() throws {
        let ns = try TestNamespace("fresh")
        var ct = try Ctnetlink(netns: ns.path)
        let count = try ct.count()
        #expect(count.entries == 0)
        let max = try String(contentsOfFile: "/proc/sys/net/netfilter/nf_conntrack_max", encoding: .utf8)
        #expect(count.maxEntries.map(String.init) == max.trimmingCharacters(in: .whitespacesAndNewlines))
        // A second request on the same socket works: the single GET_STATS reply was read whole.
        #expect(try ct.count().entries == 0)
    }

    /// A dump whose reader stops after the first entry leaves the rest of it behind; the next request on the same
    /// socket still reads its own reply, not the old dump's messages.
    @Test func aDumpStoppedEarlyLeavesTheSocketUsable() throws {
        let ns = try TestNamespace("stopped")
        try ns.run("python3 \(TestNamespace.tool("fill-conntrack")) 2000")
        var ct = try Ctnetlink(netns: ns.path)
        var seen = 0
        try ct.exchange(Ctnetlink.dumpTable) { _ in
            seen += 1
            return false
        }
        #expect(seen == 1)
        #expect(try ct.count().entries == 2000)
        var entries = 0
        try ct.streamTable { _ in entries += 1 }
        #expect(entries == 2000)
    }

    @Test func perCPUStatisticsComeByAttributeName() throws {
        let ns = try TestNamespace("stats")
        var ct = try Ctnetlink(netns: ns.path)
        let cpus = try ct.cpuStatistics()
        #expect(cpus.count >= 1)
        #expect(cpus.map(\.cpu) == Array(0..<cpus.count))
        for cpu in cpus {
            for name in ["found", "invalid", "insert", "insert_failed", "drop", "early_drop", "error", "search_restart"] {
                #expect(cpu.values[name] == 0, "cpu \(cpu.cpu) \(name)")
            }
        }
        let expectations = try ct.expectationStatistics()
        #expect(expectations.first?.values.keys.sorted() == ["expect_create", "expect_delete", "expect_new"])
    }

    @Test func realTrafficIsCountedAndSummarized() throws {
        let ns = try TestNamespace("traffic")
        try ns.run(Self.trackEverything)
        try ns.run("python3 \(TestNamespace.tool("make-traffic")) 5 3")
        var ct = try Ctnetlink(netns: ns.path)
        #expect(try ct.count().entries == 8)
        var entries: [ConntrackEntry] = []
        let unparsable = try ct.streamTable { entries.append($0) }
        #expect(unparsable == 0)
        #expect(entries.count == 8)
        let tcp = entries.filter { $0.l4proto == 6 }
        let udp = entries.filter { $0.l4proto == 17 }
        #expect(tcp.count == 5)
        #expect(tcp.allSatisfy { $0.destinationPort == 8080 && $0.destination.description == "127.0.0.1" })
        #expect(tcp.allSatisfy { $0.tcpState.map(ConntrackEntry.tcpStateName) == "TIME_WAIT" })
        #expect(udp.count == 3)
        #expect(udp.allSatisfy { $0.destinationPort == 5353 && !$0.isUnreplied })
        #expect(entries.allSatisfy { ($0.timeout ?? 0) > 0 && $0.id != nil && $0.mark == 0 })
    }

    @Test func invalidPacketsRaiseTheInvalidCounter() throws {
        let ns = try TestNamespace("invalid")
        try ns.run(Self.trackEverything)
        try ns.run("python3 \(TestNamespace.tool("send-invalid-tcp")) 127.0.0.1 3")
        var ct = try Ctnetlink(netns: ns.path)
        let invalid = try ct.cpuStatistics().reduce(0) { $0 + Int($1.values["invalid"] ?? 0) }
        // Each SYN+FIN is seen on the way out and again on the way in over loopback.
        #expect(invalid >= 3)
    }

    @Test func ctnetlinkCreatedEntriesCountAsInsertNotAsTraffic() throws {
        let ns = try TestNamespace("insert")
        try ns.run("python3 \(TestNamespace.tool("fill-conntrack")) 100")
        var ct = try Ctnetlink(netns: ns.path)
        #expect(try ct.count().entries == 100)
        let insert = try ct.cpuStatistics().reduce(0) { $0 + Int($1.values["insert"] ?? 0) }
        #expect(insert == 100)
        var assured = 0
        try ct.streamTable { if $0.isAssured { assured += 1 } }
        #expect(assured == 100)
    }

    @Test func listsAreEmptyAndExpectationsNone() throws {
        let ns = try TestNamespace("lists")
        var ct = try Ctnetlink(netns: ns.path)
        #expect(try ct.listEntries(Ctnetlink.getDying).count == 0)
        #expect(try ct.listEntries(Ctnetlink.getUnconfirmed).count == 0)
        #expect(try ct.countExpectations() == 0)
    }

    @Test func errorsKeepTheKernelsErrno() throws {
        let ns = try TestNamespace("errors")
        var ct = try Ctnetlink(netns: ns.path)
        let unknownMessage = NetlinkRequest(subsystem: 1, message: 8, dump: false, name: "ctnetlink message 8")
        let unknownSubsystem = NetlinkRequest(subsystem: 15, message: 0, dump: false, name: "subsystem 15")
        let dyingWithoutDump = NetlinkRequest(subsystem: 1, message: 6, dump: false, name: "IPCTNL_MSG_CT_GET_DYING")
        for (request, errno, kind) in [
            (unknownMessage, EINVAL, NetlinkError.Kind.unsupported), (unknownSubsystem, EINVAL, .unsupported),
            (dyingWithoutDump, EOPNOTSUPP, .operationNotSupported),
        ] {
            #expect(throws: NetlinkError(request.name, errno: errno)) { try ct.exchange(request) { _ in true } }
            #expect(NetlinkError(request.name, errno: errno).kind == kind)
        }
        // The socket is still usable after the errors.
        #expect(try ct.count().entries == 0)
    }

    @Test func aMissingNamespaceIsAnError() {
        #expect(throws: NetlinkError("open /run/netns/ctd-no-such-namespace", errno: ENOENT)) {
            _ = try Ctnetlink(netns: "/run/netns/ctd-no-such-namespace")
        }
    }
}
