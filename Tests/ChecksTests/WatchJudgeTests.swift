import DoctorCore
import DoctorHost
import Testing
import Watch
@testable import Checks

/// `watch` names a check exactly when the interval's rises would fail it under `check --sample`.
@Suite struct WatchJudgeTests {
    static func reading(at seconds: Double, entries: Int = 1532, _ perCPU: [[String: UInt64]]) -> WatchReading {
        WatchReading(
            monotonicSeconds: seconds, time: "2026-01-10T12:00:0\(Int(seconds))Z",
            count: .value(EntryCount(entries: entries, max: 262_144)), expectations: .value(0),
            cpus: .value(CPUStatistics(source: CtnetlinkProbe.statisticsSource, viaCtnetlink: true, cpus: perCPU)))
    }

    static let quiet: [[String: UInt64]] = [
        ["drop": 5, "invalid": 100, "insert_failed": 0, "early_drop": 0, "chaintoolong": 0],
        ["drop": 0, "invalid": 7, "insert_failed": 2, "early_drop": 0, "chaintoolong": 0],
    ]

    static func grown(_ deltas: [Int: [String: UInt64]]) -> [[String: UInt64]] {
        quiet.enumerated().map { cpu, counters in
            counters.merging(deltas[cpu] ?? [:]) { $0 + $1 }
        }
    }

    func judge(_ build: (inout SnapshotBuilder) -> Void = { _ in }) -> WatchJudge {
        var b = SnapshotBuilder()
        b.netlinkCounters()
        build(&b)
        return WatchJudge(base: b.snapshot, catalog: Catalog.all)
    }

    @Test func nothingRisingCrossesNothingEvenWithLifetimeTotals() {
        let crossed = judge().crossed(from: Self.reading(at: 1, Self.quiet), to: Self.reading(at: 2, Self.quiet))
        #expect(crossed.isEmpty)
    }

    @Test func dropsOnAFullTableAreTableDropsCritical() {
        let crossed = judge().crossed(
            from: Self.reading(at: 1, entries: 262_144, Self.quiet),
            to: Self.reading(at: 2, entries: 262_144, Self.grown([1: ["drop": 3]])))
        let drops = crossed.first { $0.check == "table.drops" }
        #expect(drops?.severity == .critical)
        #expect(drops?.observed.hasPrefix("drop +3 in 1 s") == true)
        #expect(crossed.contains { $0.check == "table.usage" })
    }

    @Test func unexplainedInvalidAndInsertFailuresAreErrors() {
        let crossed = judge().crossed(
            from: Self.reading(at: 1, Self.quiet), to: Self.reading(at: 2, Self.grown([0: ["invalid": 9], 1: ["insert_failed": 1]])))
        #expect(crossed.map(\.check) == ["table.insert-failed", "table.invalid"].filter { id in crossed.contains { $0.check == id } })
        #expect(Set(crossed.map(\.check)) == ["table.invalid", "table.insert-failed"])
        #expect(crossed.allSatisfy { $0.severity == .error })
    }

    @Test func invalidWithItsReasonLoggedIsNotACrossing() {
        let logged = judge { $0.set("net.netfilter.nf_conntrack_log_invalid", "255") }
        let crossed = logged.crossed(from: Self.reading(at: 1, Self.quiet), to: Self.reading(at: 2, Self.grown([0: ["invalid": 9]])))
        #expect(!crossed.contains { $0.check == "table.invalid" })
    }

    @Test func aStandingConditionIsNotNamedAsARise() {
        // Buckets far too few for the limit: table.buckets fails on its own, rises or not.
        let small = judge { $0.set("net.netfilter.nf_conntrack_buckets", "1024") }
        let crossed = small.crossed(from: Self.reading(at: 1, Self.quiet), to: Self.reading(at: 2, Self.quiet))
        #expect(!crossed.contains { $0.check == "table.buckets" })
        #expect(small.checkIDs.contains("table.buckets"))
    }

    @Test func readingsFromProcfsAreJudgedToo() {
        var first = Self.reading(at: 1, Self.quiet)
        var second = Self.reading(at: 2, Self.grown([0: ["drop": 2]]))
        first.cpus = first.cpus.map { CPUStatistics(source: ConntrackStatsProbe.path, viaCtnetlink: false, cpus: $0.cpus) }
        second.cpus = second.cpus.map { CPUStatistics(source: ConntrackStatsProbe.path, viaCtnetlink: false, cpus: $0.cpus) }
        #expect(judge().crossed(from: first, to: second).contains { $0.check == "table.drops" && $0.severity == .error })
    }
}
