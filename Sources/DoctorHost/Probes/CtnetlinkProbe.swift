import DoctorCore
import Netfilter

/// Whether ctnetlink answers in this namespace (and why not), the entry count and limit (GET_STATS), and the
/// per-CPU statistics by attribute (GET_STATS_CPU). Only on a live host. EPERM comes per request, not when the
/// socket opens, so each request's failure is kept.
public struct CtnetlinkProbe: Probe {
    public let name = "ctnetlink"

    public static let statisticsSource = "ctnetlink IPCTNL_MSG_CT_GET_STATS_CPU"

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        guard context.host.isLive else {
            snapshot.ctnetlink = .absent(CtnetlinkAccess.notLive(context.host))
            return
        }
        if let why = ModuleAutoload.ctnetlinkWithheld(snapshot.modules) {
            snapshot.ctnetlink = .withheld(why)
            return
        }
        var facts = snapshot.ctnetlink
        let failure = CtnetlinkAccess.session({ socket, failures in
            facts.table = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in
                CtnetlinkAccess.entryCount(try socket.count())
            }
            facts.statistics = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in
                CtnetlinkAccess.stats(try socket.cpuStatistics(), source: Self.statisticsSource)
            }
        }, notOpened: { error in
            facts.table = CtnetlinkAccess.reading(error)
            facts.statistics = CtnetlinkAccess.reading(error)
        })
        facts.failure = failure.map(CtnetlinkAccess.failure)
        snapshot.ctnetlink = facts
    }
}
