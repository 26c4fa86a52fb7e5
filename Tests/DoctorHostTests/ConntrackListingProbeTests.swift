import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// A collection's listing of the conntrack table: `conntrack -L -o extended` as sos keeps it (recorded here, with
/// conntrack's summary spliced into a line), and Open vSwitch's dump and counts in the real Sunbeam sosreport.
@Suite struct ConntrackListingProbeTests {
    static var recorded: String {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.path + "/commands/conntrack-listing/conntrack_-L_-o_extended"
    }

    @Test func conntrackListingWithTheSummarySplicedIn() throws {
        let text = try String(contentsOfFile: Self.recorded, encoding: .utf8)
        #expect(text.contains("ipv4conntrack v1.4.7 (conntrack-tools): 65 flow entries have been shown.\n     2 udp"))
        let listing = ConntrackListingProbe.parse(text, source: "sos_commands/conntrack/conntrack_-L_-o_extended")
        #expect(listing.reportedTotal == 65)
        #expect(listing.entries == 65)
        #expect(listing.unparsable == 0)
        #expect(listing.protocols == ["udp": 65])
        #expect(listing.tunnelEntries == ["udp/4789": 2, "udp/6081": 2, "udp/8472": 1])
        #expect(listing.tunnelExamples.count == 3)
        #expect(listing.tunnelExamples.allSatisfy { $0.hasPrefix("ipv") && $0.contains("dport=") })
    }

    @Test func garbageLinesAreCountedNotGuessed() {
        let listing = ConntrackListingProbe.parse("hello\nipv4 2 udp 17 29 src=1 dst=2 sport=3 dport=4789\n\u{1b}[31m\n", source: "x")
        #expect(listing.entries == 1)
        #expect(listing.unparsable == 2)
        #expect(listing.tunnelEntries == ["udp/4789": 1])
    }

    @Test(.enabled(if: Sosreport.present, "sosreport fixtures not found"))
    func openVSwitchInTheSunbeamSosreport() throws {
        let snapshot = SnapshotTaker.take(Fixtures.context(HostRoot(Sosreport.path(Sosreport.sunbeamPartial))))
        // dpctl/dump-conntrack, cut to its first 500 lines: 497 tcp and 3 udp (fixtures README).
        let listing = try #require(snapshot.listing?.value)
        #expect(listing.source == "sos_commands/openvswitch/openstack-hypervisor.ovs-appctl_dpctl.dump-conntrack_-m_system_ovs-system")
        #expect(listing.entries == 500)
        #expect(listing.protocols == ["tcp": 497, "udp": 3])
        #expect(listing.tunnelEntries.isEmpty)
        // dpctl/ct-stats-show lines 2-8: Total 2725, TCP 2703 (ESTABLISHED 67, CLOSING 13, TIME_WAIT 2623), UDP 22.
        let stats = try #require(snapshot.datapathConntrack?.value)
        #expect(stats.total == 2725)
        #expect(stats.protocols == ["TCP": 2703, "UDP": 22])
        #expect(stats.tcpStates == ["ESTABLISHED": 67, "CLOSING": 13, "TIME_WAIT": 2623])
        #expect(snapshot.conntrackSeen?.contains("tracks 2725 connections") == true)
    }
}
