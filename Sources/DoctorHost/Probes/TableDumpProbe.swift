import DoctorCore
/// `--deep`: streams this namespace's conntrack table once into a bounded summary (states, protocols, top
/// talkers, timeouts). Never runs for a plain check, which must stay instant whatever the table size.
/// Run after `SysctlProbe`: idle ESTABLISHED times are estimated from the ESTABLISHED timeout.
public struct TableDumpProbe: Probe {
    public let name = "conntrack table dump"

    public static let notAsked = "the table was not dumped: a plain check never dumps it (`ctdoctor check --deep` or `ctdoctor top` do)"

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        guard context.deep else {
            snapshot.tableSummary = .absent(Self.notAsked)
            return
        }
        guard context.host.isLive else {
            snapshot.tableSummary = .absent(CtnetlinkAccess.notLive(context.host))
            return
        }
        if let why = snapshot.ctnetlink.withheld {
            snapshot.tableSummary = .denied(why)
            return
        }
        let timeout = snapshot.sysctl(.tcpTimeoutEstablished).value
        snapshot.tableSummary = TableScan.run(establishedTimeout: timeout, progress: context.dumpProgress)
    }
}
