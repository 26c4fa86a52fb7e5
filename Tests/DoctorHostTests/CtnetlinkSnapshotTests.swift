import Foundation
import Glibc
import Netfilter
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct CtnetlinkSnapshotTests {
    @Test func copiedRootsHaveNoNetlinkReadings() {
        let snapshot = Fixtures.snapshot(Fixtures.monolithic, [CtnetlinkProbe(), ExpectationProbe(), ConntrackListsProbe(), CounterSampleProbe(), TableDumpProbe()])
        let why = CtnetlinkAccess.notLive(Fixtures.root(Fixtures.monolithic))
        #expect(why.hasPrefix("not a live host: "))
        #expect(snapshot.ctnetlink == .absent(why))
        #expect(snapshot.ctnetlink.failure == nil)
        #expect(snapshot.sample == nil)
        #expect(snapshot.tableSummary == .absent(TableDumpProbe.notAsked))
    }

    @Test(arguments: [
        (EPERM, "denied", CtnetlinkFailure.Kind.permissionDenied, "IPCTNL_MSG_CT_GET_STATS"),
        (EINVAL, "absent", .noCtnetlink, "IPCTNL_MSG_CT_GET_STATS"),
        (EPROTONOSUPPORT, "absent", .noNfnetlink, "socket"),
        (ENOBUFS, "failed", .other, "IPCTNL_MSG_CT_GET_STATS"),
    ])
    func errnoMapsToReadingAndFailure(code: Int32, reading: String, kind: CtnetlinkFailure.Kind, operation: String) {
        let error = NetlinkError(operation, errno: code)
        let mapped: Reading<Int> = CtnetlinkAccess.reading(error)
        switch (mapped, reading) {
        case (.denied, "denied"), (.absent, "absent"), (.failed, "failed"): break
        default: Issue.record("\(mapped) for errno \(code)")
        }
        let failure = CtnetlinkAccess.failure(error)
        #expect(failure.kind == kind)
        #expect(failure.errno == code)
        #expect(failure.message == error.description)
    }

    @Test func perCPUCountersAreSummedByName() {
        let stats = CtnetlinkAccess.stats([
            CPUCounters(cpu: 0, values: ["drop": 3, "attr16": 1]),
            CPUCounters(cpu: 1, values: ["drop": UInt32.max, "invalid": 2]),
        ], source: "s")
        #expect(stats.cpus == 2)
        #expect(stats.counters == ["drop": UInt64(UInt32.max) + 3, "invalid": 2, "attr16": 1])
    }

    @Test func slabinfoGivesTheEntrySize() throws {
        let text = """
            slabinfo - version: 2.1
            # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
            nf_conntrack_expect      0      0    208   19    1 : tunables    0    0    0 : slabdata      0      0      0
            nf_conntrack          3024   3024    256   16    1 : tunables    0    0    0 : slabdata    189    189      0
            """
        #expect(SlabProbe.parse(text) == .value(SlabCache(name: "nf_conntrack", objectSize: 256, activeObjects: 3024, totalObjects: 3024)))
        let old = "nf_conntrack_ffffffff81b2a940    120    150    312   25    2 : tunables    0    0    0 : slabdata      6      6      0\n"
        #expect(SlabProbe.parse(old).value?.objectSize == 312)
        guard case .absent(let why) = SlabProbe.parse("nf_conntrack_expect 0 0 208 19 1\n") else {
            Issue.record("expected absent")
            return
        }
        #expect(why.contains("no nf_conntrack cache"))
    }

    @Test func slabinfoOnACopiedRoot() throws {
        let temp = try TemporaryRoot()
        try temp.write("/proc/slabinfo", "nf_conntrack 10 16 320 12 1 : tunables 0 0 0 : slabdata 1 1 0\n")
        #expect(Fixtures.snapshot(temp.root, [SlabProbe()]).conntrackSlab.value?.objectSize == 320)
        #expect(Fixtures.snapshot(Fixtures.root(Fixtures.monolithic), [SlabProbe()]).conntrackSlab.value == nil)
    }

    @Test func snapshotsWrittenBeforeCtnetlinkStillLoad() throws {
        var old = HostSnapshot(takenAt: "2025-01-01T00:00:00Z", toolVersion: "0.0.9")
        old.stats = .absent("no procfs")
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(old)) as! [String: Any]
        for key in ["ctnetlink", "conntrackSlab", "sample", "tableSummary"] { json.removeValue(forKey: key) }
        let loaded = try JSONDecoder().decode(HostSnapshot.self, from: JSONSerialization.data(withJSONObject: json))
        let why = "not in this snapshot (taken by ctdoctor 0.0.9, before it read this)"
        #expect(loaded.ctnetlink == .absent(why))
        #expect(loaded.conntrackSlab == .absent(why))
        #expect(loaded.tableSummary == .absent(why))
        #expect(loaded.sample == nil)
        #expect(loaded.stats == old.stats)
    }

    @Test func aFullSnapshotSurvivesJSON() throws {
        var snapshot = HostSnapshot(takenAt: "t", toolVersion: "v")
        snapshot.ctnetlink = CtnetlinkFacts(
            table: .value(EntryCount(entries: 5, max: 10)),
            failure: CtnetlinkFailure(request: "r", errno: 1, errnoName: "EPERM", kind: .permissionDenied, message: "m"),
            statistics: .value(ConntrackStats(source: "s", cpus: 2, counters: ["drop": 1])),
            expectations: .value(ExpectationFacts(count: 1, counters: ["expect_new": 2])),
            lists: .value(ConntrackLists(unconfirmed: ListSample(first: 0), dying: ListSample(first: 2, second: 1, stillListed: 1), resampleSeconds: 1)))
        snapshot.sample = CounterSample(
            seconds: 10,
            first: CounterReadings(netlink: .denied("d"), procfs: .value(ConntrackStats(source: "p", cpus: 1, counters: [:])), table: .absent("a"), sysctlCount: .value(3)),
            second: CounterReadings(netlink: .denied("d"), procfs: .failed("f"), table: .absent("a"), sysctlCount: .value(4)))
        var summarizer = TableSummarizer(establishedTimeout: 100, nowNanoseconds: 10)
        summarizer.add(TableSummarizerTests.entry(timeout: 50))
        snapshot.tableSummary = .value(summarizer.summary(countBefore: 1, countAfter: 1))
        let data = try JSONEncoder().encode(snapshot)
        #expect(try JSONDecoder().decode(HostSnapshot.self, from: data) == snapshot)
    }
}
