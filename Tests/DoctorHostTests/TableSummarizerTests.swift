import Netfilter
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct TableSummarizerTests {
    static let now: UInt64 = 1_700_000_000 * 1_000_000_000

    static func entry(
        _ proto: UInt8 = 6, src: UInt32 = 0x0A00_0001, dst: UInt32 = 0x0A00_0002, dport: UInt16? = 443,
        state: UInt8? = 3, status: UInt32 = 0x6, timeout: UInt32 = 431_000, mark: UInt32 = 0, zone: UInt16? = nil,
        helper: String? = nil, startedSecondsAgo: UInt64? = nil
    ) -> ConntrackEntry {
        ConntrackEntry(
            family: 2, l4proto: proto, source: IPAddress(ipv4: src.bigEndian), destination: IPAddress(ipv4: dst.bigEndian),
            sourcePort: 40000, destinationPort: dport, tcpState: proto == 6 ? state : nil, status: status,
            timeout: timeout, mark: mark, zone: zone, helper: helper.map(HelperName.init),
            startNanoseconds: startedSecondsAgo.map { now - $0 * 1_000_000_000 })
    }

    @Test func countsEveryDimension() {
        var s = TableSummarizer(topK: 3, establishedTimeout: 432_000, nowNanoseconds: Self.now)
        for _ in 0..<4 { s.add(Self.entry()) }
        s.add(Self.entry(state: 7, timeout: 100))
        s.add(Self.entry(17, dst: 0x0A00_0035, dport: 53, status: 0, timeout: 25, mark: 0x10, zone: 2))
        s.add(Self.entry(1, dport: nil, status: 0, timeout: 20, helper: "ftp"))
        let summary = s.summary(countBefore: 7, countAfter: 7, seconds: 0.5)
        #expect(summary.entries == 7)
        #expect(summary.countBefore == 7)
        #expect(summary.protocols == ["tcp": 5, "udp": 1, "icmp": 1])
        #expect(summary.families == ["ipv4": 7])
        #expect(summary.tcpStates == ["ESTABLISHED": 4, "TIME_WAIT": 1])
        #expect(summary.assured == 5)
        #expect(summary.unreplied == 2)
        #expect(summary.zones == Tally(counts: ["0": 6, "2": 1]))
        #expect(summary.marks == Tally(counts: ["0": 6, "0x10": 1]))
        #expect(summary.helpers == Tally(counts: ["ftp": 1]))
        #expect(summary.topSources == [TopItem(key: "10.0.0.1", count: 7)])
        #expect(summary.topDestinations.first == TopItem(key: "10.0.0.2", count: 6))
        #expect(summary.topDestinationPorts == [TopItem(key: "tcp/443", count: 5), TopItem(key: "udp/53", count: 1)])
        #expect(summary.timeouts.buckets.map(\.count) == [0, 2, 1, 0, 0, 4, 0])
        #expect(summary.timeouts.buckets.map(\.label) == ["≤ 10 s", "≤ 1 min", "≤ 5 min", "≤ 1 h", "≤ 1 day", "≤ 5 days", "> 5 days"])
        // ESTABLISHED idle = 432000 − 431000 = 1000 s for all four.
        #expect(summary.establishedIdle?.count(atMost: 3600) == 4)
        #expect(summary.establishedIdle?.total == 4)
        #expect(summary.ages == nil)
        #expect(summary.oldest.isEmpty)
    }

    /// Entries created 2 s ago with a timeout of their own (100 s, or a longer one) are not idle for days.
    @Test func idleNeverExceedsAgeAndOwnLongerTimeoutsAreLeftOut() {
        var s = TableSummarizer(establishedTimeout: 432_000, nowNanoseconds: Self.now)
        s.add(Self.entry(timeout: 98, startedSecondsAgo: 2))
        s.add(Self.entry(timeout: 500_000, startedSecondsAgo: 2))
        s.add(Self.entry(timeout: 431_000, startedSecondsAgo: 90_000))
        let summary = s.summary()
        #expect(summary.establishedIdle?.total == 2)
        #expect(summary.establishedIdle?.count(atMost: 10) == 1, "2 s old: at most 2 s idle")
        #expect(summary.establishedIdle?.count(atMost: 3600) == 2, "1000 s by its time left, younger than its age")
        #expect(summary.establishedOwnTimeout == 1)
        #expect(summary.establishedIdleBoundedByAge == true)
        var noStamps = TableSummarizer(establishedTimeout: 432_000, nowNanoseconds: Self.now)
        noStamps.add(Self.entry(timeout: 98))
        #expect(noStamps.summary().establishedIdleBoundedByAge == false)
    }

    @Test func agesAndOldestNeedTimestamps() {
        var s = TableSummarizer(nowNanoseconds: Self.now)
        for age in [5, 7200, 30, 100_000, 2, 999_999, 40] as [UInt64] { s.add(Self.entry(startedSecondsAgo: age)) }
        let summary = s.summary()
        #expect(summary.ages?.total == 7)
        #expect(summary.oldest.map(\.ageSeconds) == [999_999, 100_000, 7200, 40, 30])
        #expect(summary.oldest.first?.entry == "tcp 10.0.0.1:40000 → 10.0.0.2:443 ESTABLISHED")
    }

    @Test func memoryIsBoundedWhateverTheCardinality() {
        var s = TableSummarizer(topK: 5, nowNanoseconds: Self.now)
        for i in 0..<50_000 as Range<UInt32> {
            s.add(Self.entry(17, src: 0x0B00_0000 + i, dst: 0x0C00_0000 + i % 7, dport: UInt16(i % 20_000), mark: i, zone: UInt16(i % 300)))
        }
        let summary = s.summary()
        #expect(summary.entries == 50_000)
        #expect(summary.topSources.count == 5)
        #expect(summary.marks.counts.count == TableSummarizer.tallyCap)
        #expect(summary.marks.other == 50_000 - TableSummarizer.tallyCap)
        #expect(summary.zones.counts.count == TableSummarizer.tallyCap)
        // Seven destinations fit in the sketch: their counts are exact.
        #expect(summary.topDestinations.allSatisfy { $0.overcount == 0 && $0.count >= 7142 })
    }
}

@Suite struct SpaceSavingTests {
    @Test func exactWhileTheKeysFit() {
        var sketch = SpaceSaving<UInt32>(capacity: 8)
        for (key, n) in [(1, 50), (2, 20), (3, 5)] as [(UInt32, Int)] { for _ in 0..<n { sketch.add(key) } }
        #expect(sketch.top(2).map { [Int($0.key), $0.count, $0.overcount] } == [[1, 50, 0], [2, 20, 0]])
    }

    @Test func heavyHittersSurviveANoisyStreamWithinTheirBound() {
        var sketch = SpaceSaving<UInt32>(capacity: 16)
        var truth: [UInt32: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        for i in 0..<40_000 {
            let key: UInt32 = i % 4 == 0 ? UInt32(i % 3) : 1000 + UInt32.random(in: 0..<5000, using: &generator)
            truth[key, default: 0] += 1
            sketch.add(key)
        }
        let top = sketch.top(3)
        #expect(Set(top.map(\.key)) == [0, 1, 2])
        for item in sketch.top(16) {
            let real = truth[item.key] ?? 0
            #expect(real <= item.count && item.count <= real + item.overcount, "key \(item.key)")
        }
    }

    /// Every key hashes alike, so all of them share one probe run.
    struct Colliding: SketchKey {
        let id: Int
        var sketchHash: UInt64 { 0x1234_5678_0000_0000 }
    }

    @Test func collidingKeysAreFoundAfterEvictions() {
        // Evictions delete from the middle of the run; every key left must still be found, or counts would split.
        var sketch = SpaceSaving<Colliding>(capacity: 4)
        for round in 0..<200 {
            for id in 0..<6 where id < 3 || id == 3 + round % 3 { sketch.add(Colliding(id: id)) }
        }
        let top = sketch.top(4)
        #expect(top.reduce(0) { $0 + $1.count } == 200 * 4)
        #expect(Set(top.prefix(3).map(\.key.id)) == [0, 1, 2])
        #expect(top.prefix(3).allSatisfy { $0.count == 200 && $0.overcount == 0 })
    }
}
