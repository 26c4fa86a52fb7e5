import DoctorCore
import Testing
@testable import Checks

@Suite struct TableTunnelTrafficCheckTests {
    let check = TableTunnelTrafficCheck()

    func deep(_ tunnels: [String: Int], entries: Int = 1000) -> HostSnapshot {
        var b = SnapshotBuilder()
        var summary = TableSummary(entries: entries)
        summary.tunnelEntries = tunnels
        b.snapshot.tableSummary = .value(summary)
        return b.snapshot
    }

    @Test func aPlainCheckHasNoTableToJudge() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed.contains("ctdoctor check --deep"))
    }

    @Test func deepDumpWithoutTunnelFlowsPasses() {
        let f = check.evaluate(deep([:]))
        #expect(f.status == .pass)
        #expect(f.observed == "1000 entries, none for an overlay tunnel port")
    }

    @Test func trackedVxlanAndGeneveFailWithNotrackRules() {
        let f = check.evaluate(deep(["udp/4789": 300, "udp/6081": 20]))
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "320 of 1000 entries are overlay tunnel flows: VXLAN udp/4789 300, Geneve udp/6081 20")
        #expect(f.argvs.contains { $0 == ["nft", "add", "rule", "inet", "ctdoctor", "notrack-prerouting", "udp", "dport", "{ 4789, 6081 }", "notrack"] })
        #expect(f.argvs.contains { $0 == ["nft", "add", "rule", "inet", "ctdoctor", "notrack-output", "udp", "dport", "{ 4789, 6081 }", "notrack"] })
        #expect(f.remediation?.steps.contains { $0.risk == .disruptive } == true)
    }

    @Test func aListingThatIsNotTheWholeTableCannotPass() {
        var b = SnapshotBuilder()
        b.snapshot.listing = .value(ConntrackListing(source: "sos_commands/openvswitch/dump", entries: 500, protocols: ["tcp": 497, "udp": 3]))
        b.snapshot.datapathConntrack = .value(DatapathConntrack(source: "sos_commands/openvswitch/ct-stats", total: 2725))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed.contains("the listing holds 500 of the 2725 connections"))
    }

    @Test func aCompleteListingWithTunnelFlowsFails() {
        var b = SnapshotBuilder()
        b.snapshot.listing = .value(ConntrackListing(
            source: "sos_commands/conntrack/conntrack_-L_-o_extended", entries: 65, tunnelEntries: ["udp/8472": 1],
            tunnelExamples: ["ipv4     2 udp      17 29 src=127.0.0.1 dst=127.0.0.1 sport=58825 dport=8472"], reportedTotal: 65))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.evidence.contains { $0.source == "sos_commands/conntrack/conntrack_-L_-o_extended" && $0.value.contains("dport=8472") })
    }
}
