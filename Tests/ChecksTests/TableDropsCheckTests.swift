import DoctorCore
import Testing
@testable import Checks

@Suite struct TableDropsCheckTests {
    let check = TableDropsCheck()

    @Test func nothingDroppedPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "drop 0 (lifetime total); early_drop 0 (lifetime total); table 1532 of 262144 entries (0%)")
    }

    @Test func lifetimeDropsAreAtMostAWarningAndSayHowToConfirm() {
        var b = SnapshotBuilder()
        b.counter("drop", 42)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.explanation.contains("lifetime totals since boot (the host has been up 3 days 4 hours)"))
        #expect(f.explanation.contains("ctdoctor check --sample 10 --only table.drops"))
        #expect(f.remediation?.steps.first?.purpose.contains("--sample 10 --only table.drops") == true)
        #expect(f.argvs.allSatisfy { $0 == nil })
    }

    @Test func lifetimeEarlyDropsAloneAreInfo() {
        var b = SnapshotBuilder()
        b.counter("early_drop", 7)
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .info)
        #expect(f.explanation.contains("7 unassured entries were evicted"))
    }

    @Test func childNamespaceCountsSinceItWasCreated() {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.counter("drop", 1)
        #expect(check.evaluate(b.snapshot).explanation.contains("since this network namespace was created"))
    }

    @Test func dropsNowOnAFullTableAreCritical() {
        var b = SnapshotBuilder()
        b.count(262_144)
        b.sample(seconds: 10, ["drop": 30])
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .critical)
        #expect(f.observed.hasPrefix("drop +30 in 10 s (3.0/s)"))
        #expect(f.explanation.contains("Conntrack dropped 30 packets in the last 10 s. The table is full"))
        #expect(!(f.remediation?.steps.contains { $0.purpose.contains("--sample") } ?? true))
    }

    @Test func dropsNowWithRoomAreAnErrorNotBlamedOnTheTable() {
        var b = SnapshotBuilder()
        b.sample(seconds: 5, ["drop": 2])
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .error)
        #expect(f.explanation.contains("not a full table"))
    }

    @Test func evictionsNowAreAWarning() {
        var b = SnapshotBuilder()
        b.count(250_000)
        b.sample(seconds: 10, ["early_drop": 100])
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .warning)
        #expect(f.explanation.contains("100 unassured entries were evicted"))
    }

    @Test func quietSampleAfterOldDropsPasses() {
        var b = SnapshotBuilder()
        b.counter("drop", 500)
        b.sample(seconds: 10, [:])
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.hasPrefix("drop +0 in 10 s (0.0/s); 500 since"))
    }

    @Test func netlinkCountersArePreferredAndProcKeptAsCrossCheck() {
        var b = SnapshotBuilder()
        b.netlinkCounters()
        b.counter("drop", 3)
        let f = check.evaluate(b.snapshot)
        #expect(f.evidence[0] == Evidence("ctnetlink IPCTNL_MSG_CT_GET_STATS_CPU", "drop = 3, early_drop = 0"))
        #expect(f.evidence[1] == Evidence("/proc/net/stat/nf_conntrack", "drop = 3, early_drop = 0"))
    }

    @Test func noCountersAnywhereIsSkippedWhenRefused() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.permissionDenied, errno: 1, name: "EPERM")
        b.snapshot.stats = .absent("/proc/net/stat/nf_conntrack: No such file or directory")
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }
}
