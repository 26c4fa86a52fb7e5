import DoctorCore
import Testing
@testable import Checks

@Suite struct TcpEstablishedTimeoutCheckTests {
    let check = TcpEstablishedTimeoutCheck()
    let key = "net.netfilter.nf_conntrack_tcp_timeout_established"

    @Test func defaultWithRoomPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "net.netfilter.nf_conntrack_tcp_timeout_established = 432000 s (5 days); table 0% full (1532 of 262144 entries)")
    }

    @Test(arguments: [(200_000, Severity.warning), (250_000, Severity.error)])
    func longTimeoutOnABusyTableFails(count: Int, severity: Severity) {
        var b = SnapshotBuilder()
        b.count(count)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == severity)
        #expect(f.observed.contains("= 432000 s (5 days)"))
        #expect(f.observed.contains("(\(count) of 262144 entries)"))
        #expect(f.explanation.contains("ctdoctor check --deep"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_established=86400"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_established=432000"]])
        #expect(f.remediation?.steps.first?.purpose.contains("kube-proxy") == true)
    }

    @Test func justUnderThreeQuartersPasses() {
        var b = SnapshotBuilder()
        b.count(196_607)
        #expect(check.evaluate(b.snapshot).status == .pass)
    }

    @Test func shortTimeoutIsInfoWithAdviceOnly() {
        var b = SnapshotBuilder()
        b.set(key, "3600")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .info)
        #expect(f.observed.contains("= 3600 s (1 hour)"))
        #expect(f.explanation.contains("7200 s (2 hours)"))
        #expect(f.argvs == [nil])
    }

    @Test func unreadableCountStillJudgesTheTimeout() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.permissionDenied, errno: 1, name: "EPERM")
        b.setReading("net.netfilter.nf_conntrack_count", .denied("permission denied"))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("table fill unknown (count or limit (not visible: net.netfilter.nf_conntrack_count could not be read: permission denied))"))
        b.set(key, "600")
        #expect(check.evaluate(b.snapshot).severity == .info)
    }

    @Test func unlimitedMaxMeansFillUnknown() {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.table = .value(EntryCount(entries: 900_000, max: 0))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("no limit"))
    }

    @Test func deepDumpMostlyEstablishedStillFailsAndSaysHowManyIdle() {
        var b = SnapshotBuilder()
        b.count(200_000)
        b.snapshot.tableSummary = .value(TableSummary(
            entries: 200_000, tcpStates: ["ESTABLISHED": 150_000, "TIME_WAIT": 50_000],
            establishedIdle: Histogram(buckets: [
                HistogramBucket(label: "≤ 1 h", upTo: 3600, count: 30_000),
                HistogramBucket(label: "> 1 h", upTo: nil, count: 120_000),
            ]), establishedIdleBoundedByAge: true))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.hasSuffix("; ESTABLISHED 150000 of 200000 dumped entries (75%), 120000 idle for over an hour"))
        #expect(f.explanation.contains("The table dump shows ESTABLISHED 150000"))
    }

    /// Without start times, "idle" is only what the time left implies: entries given a shorter timeout of their own
    /// (created 2 s ago with --timeout 100) would otherwise be called idle for days.
    @Test func idleReadOffTheTimeLeftAloneSaysItIsAnEstimate() {
        var b = SnapshotBuilder()
        b.count(200_000)
        b.snapshot.tableSummary = .value(TableSummary(
            entries: 200_000, tcpStates: ["ESTABLISHED": 150_000, "TIME_WAIT": 50_000],
            establishedIdle: Histogram(buckets: [HistogramBucket(label: "> 1 h", upTo: nil, count: 150_000)]),
            establishedIdleBoundedByAge: false))
        let f = check.evaluate(b.snapshot)
        #expect(f.observed.contains("150000 idle for over an hour if they run on this timeout (nf_conntrack_timestamp is off"))
    }

    @Test func deepDumpWithFewEstablishedPassesBecauseTheTimeoutIsNotTheCause() {
        var b = SnapshotBuilder()
        b.count(250_000)
        b.snapshot.tableSummary = .value(TableSummary(entries: 250_000, tcpStates: ["ESTABLISHED": 1000]))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("ESTABLISHED entries are only 0%"))
        #expect(f.explanation.contains("ctdoctor top"))
    }

    /// The same few ESTABLISHED entries, but the dump stopped early: a share of the entries read cannot clear the
    /// timeout, so the full table fails as it would without a dump, and says the dump was partial.
    @Test func incompleteDumpCannotMakeThePass() {
        var b = SnapshotBuilder()
        b.count(250_000)
        b.snapshot.tableSummary = .value(TableSummary(
            entries: 2_000, incomplete: "IPCTNL_MSG_CT_GET (dump): EINTR: the table changed while it was dumped", tcpStates: ["ESTABLISHED": 10]))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.contains("ESTABLISHED 10 of 2000 dumped entries (0%) (the dump stopped early, so only those entries were seen)"), "\(f.observed)")
        #expect(f.evidence.contains { $0.value.hasSuffix(": IPCTNL_MSG_CT_GET (dump): EINTR: the table changed while it was dumped") })
    }

    @Test func absentIsNotApplicable() {
        var b = SnapshotBuilder()
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }
}
