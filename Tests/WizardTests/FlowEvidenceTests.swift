import DoctorCore
import Testing
@testable import Wizard

/// The pure readings behind table-full, events and stuck: rates and causes from a sample, the timeouts that fit what
/// fills the table, /proc/net/netlink's subscribers, and the lists read for the kernel's version.
struct FlowEvidenceTests {
    func evidence(drop: UInt64, count: Int, summary: TableSummary? = nil, timeouts: [String: Int] = [:]) -> TableEvidence {
        TableEvidence(seconds: 2, rises: ["drop": drop, "early_drop": 0, "insert_failed": 0], countBefore: count, countAfter: count,
                      max: 1000, summary: summary, timeouts: timeouts, rendered: [])
    }

    @Test func ratesNotTotalsAndTheCausesTheyShow() {
        let full = evidence(drop: 50, count: 1000)
        #expect(full.rate("drop") == 25)
        #expect(full.lines().first == "rates over 2.0 s: drop 25.0/s (+50) · early_drop 0.0/s (+0) · insert_failed 0.0/s (+0) · clash_resolve not read · chaintoolong not read")
        #expect(full.causes() == ["the table is full: 1000 of 1000 entries", "new flows are dropped now: drop 25.0/s"])
        #expect(evidence(drop: 0, count: 10).causes().isEmpty)
        // One reading only: no rate, and no cause claimed from it.
        var once = evidence(drop: 50, count: 10)
        once.seconds = nil
        #expect(once.rate("drop") == nil && once.causes().isEmpty)
    }

    @Test func timeoutsFollowWhatFillsTheTableAndOnlyShorten() {
        let udp = TableSummary(entries: 100, protocols: ["udp": 90, "tcp": 10], tcpStates: ["TIME_WAIT": 10])
        let steps = evidence(drop: 0, count: 100, summary: udp, timeouts: ["nf_conntrack_udp_timeout_stream": 120, "nf_conntrack_udp_timeout": 10,
                                                                          "nf_conntrack_tcp_timeout_time_wait": 120])
            .timeoutSteps()
        #expect(steps.map(\.command) == ["sysctl -w net.netfilter.nf_conntrack_udp_timeout_stream=60"])
        let tw = TableSummary(entries: 100, protocols: ["tcp": 100], tcpStates: ["TIME_WAIT": 60])
        #expect(evidence(drop: 0, count: 100, summary: tw, timeouts: ["nf_conntrack_tcp_timeout_time_wait": 120]).timeoutSteps().map(\.command)
                == ["sysctl -w net.netfilter.nf_conntrack_tcp_timeout_time_wait=30"])
        #expect(evidence(drop: 0, count: 100, summary: tw, timeouts: [:]).timeoutSteps().isEmpty, "a timeout not read is not proposed")
    }

    @Test func conntrackEventSubscribersFromProcNetNetlink() {
        let text = """
            sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode
            0000000057b3ab69 12  0          00000000 0        0        0     2        0        2038150
            000000005ccb9af2 12  10536      00000004 1280     0        0     2        299      2038184
            000000005ccb9af3 12  77         00000007 0        0        0     2        0        2038185
            000000005ccb9af4 0   78         00000007 0        0        0     2        0        2038186
            garbage \u{1b}[2J 12 zz
            """
        let listeners = EventListener.parse(text)
        #expect(listeners.map(\.portID) == [10536, 77])
        #expect(listeners[0].events == ["DESTROY"] && listeners[1].events == ["NEW", "UPDATE", "DESTROY"])
        let lines = EventListener.lines(listeners, eventsSetting: 1)
        #expect(lines.contains("    netlink port 10536: DESTROY; drops 299"))
        #expect(lines.contains { $0.hasPrefix("a listener dropped messages") })
        #expect(EventListener.lines([], eventsSetting: 2).count == 2, "events=2 with no listener is explained")
        let unread = EventListener.lines(Reading<[EventListener]>.denied("/proc/net/netlink: permission denied"), eventsSetting: 2)
        #expect(unread == ["listeners subscribed to conntrack events in this namespace: not read (/proc/net/netlink: permission denied)"])
        #expect(EventListener.lines(Reading.value([]), eventsSetting: 1) == ["listeners subscribed to conntrack events in this namespace: 0"])
    }

    @Test func listsAreReadForTheKernelVersion() {
        let held = ConntrackLists(unconfirmed: ListSample(first: 3, second: 3, stillListed: 3), dying: ListSample(first: 5, second: 5, stillListed: 5), resampleSeconds: 1)
        let new = ListSamples.lines([held, held], kernel: KernelVersion(6, 18))
        #expect(new[0] == "sample 1: dying 5 (still listed 1.0 s later: 5); unconfirmed: no such list on Linux 6.18.0")
        #expect(new.contains { $0.contains("DESTROY event could not be delivered") })
        #expect(!new.contains { $0.hasPrefix("entries stay unconfirmed") })
        let old = ListSamples.lines([held, held], kernel: KernelVersion(5, 10))
        #expect(old[0].hasSuffix("unconfirmed 3 (still listed: 3)"))
        #expect(old.contains { $0.hasPrefix("entries stay unconfirmed") })
    }
}
