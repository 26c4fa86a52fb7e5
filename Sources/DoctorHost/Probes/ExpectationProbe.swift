import DoctorCore
import Netfilter

/// Expectations in this namespace: how many exist now (an EXP_GET dump, counted) and the lifetime event counters
/// (EXP_GET_STATS_CPU). Their limit is the nf_conntrack_expect_max sysctl. Run after `CtnetlinkProbe`.
public struct ExpectationProbe: Probe {
    public let name = "expectations"

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        guard context.host.isLive else {
            snapshot.ctnetlink.expectations = .absent(CtnetlinkAccess.notLive(context.host))
            return
        }
        if snapshot.ctnetlink.withheld != nil { return }
        snapshot.ctnetlink.expectations = CtnetlinkAccess.single(recordingIn: &snapshot.ctnetlink) {
            (socket: inout Ctnetlink) throws(NetlinkError) -> ExpectationFacts in
            let count = try socket.countExpectations()
            let events = CtnetlinkAccess.stats(try socket.expectationStatistics(), source: "")
            return ExpectationFacts(count: count, counters: events.counters)
        }
    }
}
