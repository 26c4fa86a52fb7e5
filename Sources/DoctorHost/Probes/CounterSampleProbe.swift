import DoctorCore
import Netfilter

/// `--sample SECONDS`: reads every source of the counters and the count, waits, and reads them again, so checks
/// judge rates ("drops are happening now") instead of lifetime totals. Does nothing without `--sample` or on a
/// copied root, whose files do not change.
public struct CounterSampleProbe: Probe {
    public let name = "counter sample"

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        guard context.sampleSeconds > 0, context.host.isLive else { return }
        let withheld = snapshot.ctnetlink.withheld
        let started = CtnetlinkAccess.monotonicSeconds()
        let first = Self.read(context.host, withheld: withheld)
        CtnetlinkAccess.sleep(seconds: context.sampleSeconds)
        let secondStarted = CtnetlinkAccess.monotonicSeconds()
        let second = Self.read(context.host, withheld: withheld)
        snapshot.sample = CounterSample(seconds: secondStarted - started, first: first, second: second)
    }

    /// `withheld`: ctnetlink is not asked (see ModuleAutoload), only /proc is read.
    static func read(_ host: HostRoot, withheld: String? = nil) -> CounterReadings {
        var netlink: Reading<ConntrackStats> = .failed("not read")
        var table: Reading<EntryCount> = .failed("not read")
        if let withheld {
            netlink = .denied(withheld)
            table = .denied(withheld)
        } else { CtnetlinkAccess.session({ socket, failures in
            netlink = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in
                CtnetlinkAccess.stats(try socket.cpuStatistics(), source: CtnetlinkProbe.statisticsSource)
            }
            table = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in
                CtnetlinkAccess.entryCount(try socket.count())
            }
        }, notOpened: { error in
            netlink = CtnetlinkAccess.reading(error)
            table = CtnetlinkAccess.reading(error)
        }) }
        let count = host.readTrimmed(SysctlKey.conntrackCount.path).flatMap { SysctlKey.conntrackCount.parse($0).reading }
        return CounterReadings(netlink: netlink, procfs: ConntrackStatsProbe.read(host), table: table, sysctlCount: count)
    }
}
