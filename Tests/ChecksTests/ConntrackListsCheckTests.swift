import DoctorCore
import Testing
@testable import Checks

@Suite struct ConntrackListsCheckTests {
    let check = ConntrackListsCheck()

    func lists(unconfirmed: ListSample = ListSample(first: 0), dying: ListSample = ListSample(first: 0)) -> Reading<ConntrackLists> {
        .value(ConntrackLists(unconfirmed: unconfirmed, dying: dying, resampleSeconds: 1))
    }

    @Test func emptyListsPassAndUnconfirmedIsNotApplicableOnNewKernels() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "unconfirmed: not applicable on Linux 6.18.44 (no such list since 5.19); dying: 0")
    }

    @Test func persistentDyingListOnNewKernelsMeansASlowListener() {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.lists = lists(dying: ListSample(first: 40, second: 38, stillListed: 35))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.hasSuffix("dying: 40, then 38 after 1 s (35 still listed)"))
        #expect(f.explanation.contains("35 entries were still on the dying list after 1 s"))
        #expect(f.explanation.contains("event listener"))
        #expect(f.remediation?.steps.contains { $0.purpose.contains("NetlinkBufferSize") } == true)
    }

    @Test func entriesPassingThroughPass() {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.lists = lists(dying: ListSample(first: 2, second: 1, stillListed: 0))
        #expect(check.evaluate(b.snapshot).status == .pass)
    }

    @Test func oldKernelJudgesTheUnconfirmedListToo() {
        var b = SnapshotBuilder()
        b.kernel("5.15.0-91-generic")
        b.snapshot.ctnetlink.lists = lists(unconfirmed: ListSample(first: 12, second: 12, stillListed: 12))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.hasPrefix("unconfirmed: 12, then 12 after 1 s (12 still listed)"))
        #expect(f.explanation.contains("NFQUEUE"))
    }

    @Test func unconfirmedLeftoversOnNewKernelsAreIgnored() {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.lists = lists(unconfirmed: ListSample(first: 3, second: 3, stillListed: 3))
        #expect(check.evaluate(b.snapshot).status == .pass)
    }

    @Test func refusedIsSkipped() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.permissionDenied, errno: 1, name: "EPERM")
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }

    @Test func deepModeComparesTheCountWithTheDump() {
        var b = SnapshotBuilder()
        b.snapshot.tableSummary = .value(TableSummary(entries: 1500, countBefore: 1532, countAfter: 1540))
        let f = check.evaluate(b.snapshot)
        #expect(f.evidence.last == Evidence(
            "GET_STATS around the table dump",
            "counted 1532 before and 1540 after, the dump returned 1500: 32 counted but not in the table (unconfirmed, dying, or changing during the dump)"))
    }

    /// A dump that stopped early returned fewer entries than the table holds; that gap is the dump's own, not
    /// entries on the unconfirmed or dying lists, so no comparison is made.
    @Test func incompleteDumpMakesNoComparison() {
        var b = SnapshotBuilder()
        b.snapshot.tableSummary = .value(TableSummary(entries: 169, countBefore: 3000, countAfter: 3000, incomplete: "EINTR"))
        let f = check.evaluate(b.snapshot)
        #expect(!f.evidence.contains { $0.source == "GET_STATS around the table dump" })
    }
}
