import DoctorCore
import Testing
@testable import Checks

@Suite struct TableInsertFailedCheckTests {
    let check = TableInsertFailedCheck()

    @Test func noFailuresPass() {
        var b = SnapshotBuilder()
        b.counter("clash_resolve", 12)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("12 clashes were resolved"))
    }

    @Test func lifetimeFailuresWarn() {
        var b = SnapshotBuilder()
        b.counter("insert_failed", 9)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.explanation.contains("9 new entries failed to be confirmed"))
        #expect(f.explanation.contains("--sample 10 --only table.insert-failed"))
        #expect(f.remediation?.steps.contains { $0.purpose.contains("single-request-reopen") } == true)
    }

    @Test func failuresNowAreAnError() {
        var b = SnapshotBuilder()
        b.sample(seconds: 10, ["insert_failed": 4, "clash_resolve": 20])
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .error)
        #expect(f.observed.hasPrefix("insert_failed +4 in 10 s"))
        #expect(f.explanation.contains("4 new entries failed to be confirmed in the last 10 s"))
    }

    @Test func chainTooLongPointsAtBuckets() {
        var b = SnapshotBuilder()
        b.counter("insert_failed", 5)
        b.counter("chaintoolong", 5)
        #expect(check.evaluate(b.snapshot).explanation.contains("5 of them were refused for a hash chain too long: see table.buckets"))
    }

    @Test func kernelWithoutClashResolveSaysSo() throws {
        var b = SnapshotBuilder()
        var stats = try #require(b.snapshot.stats.value)
        stats.counters["clash_resolve"] = nil
        b.snapshot.stats = .value(stats)
        b.counter("insert_failed", 1)
        let f = check.evaluate(b.snapshot)
        #expect(f.observed.contains("clash_resolve (not on this kernel: 5.10+)"))
        #expect(f.explanation.contains("no clash_resolve counter"))
    }
}
