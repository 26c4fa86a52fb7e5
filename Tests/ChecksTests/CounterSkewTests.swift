import DoctorCore
import Testing
@testable import Checks

/// issue 13: drops and failed inserts piled on one CPU (a sosreport's `conntrack -S`, /proc rows, ctnetlink per CPU)
/// are named in the evidence with the CPU and its share, pointing at RSS / IRQ affinity; spread ones are not.
@Suite struct CounterSkewTests {
    static func rows(_ perCPU: [[String: UInt64]]) -> [CPUCounterRow] {
        perCPU.enumerated().map { CPUCounterRow(cpu: $0.offset, counters: $0.element) }
    }

    /// The snapshot's statistics as `conntrack -S` gave them: per CPU, and summed.
    static func snapshot(_ perCPU: [[String: UInt64]]) -> HostSnapshot {
        var b = SnapshotBuilder()
        for name in Set(perCPU.flatMap(\.keys)) { b.counter(name, perCPU.reduce(0) { $0 + ($1[name] ?? 0) }) }
        var snap = b.snapshot
        func perCPUAdded(_ reading: Reading<ConntrackStats>) -> Reading<ConntrackStats> {
            reading.map { stats in
                var stats = stats
                stats.perCPU = rows(perCPU)
                stats.cpus = perCPU.count
                return stats
            }
        }
        snap.stats = perCPUAdded(snap.stats)
        snap.ctnetlink.statistics = perCPUAdded(snap.ctnetlink.statistics)
        return snap
    }

    @Test func findsTheCPUThatTookMost() {
        let skew = CounterSkew.find("insert_failed", in: Self.rows([["insert_failed": 4], ["insert_failed": 196], ["insert_failed": 0]]))
        #expect(skew == CounterSkew(counter: "insert_failed", cpu: 1, count: 196, total: 200, cpus: 3))
        #expect(skew?.text == "cpu 1 counted 196 of 200 insert_failed (98%, 3 CPUs)")
    }

    @Test func spreadTooSmallOrOneCPUIsNotSkew() {
        #expect(CounterSkew.find("drop", in: Self.rows([["drop": 60], ["drop": 40]])) == nil)
        #expect(CounterSkew.find("drop", in: Self.rows([["drop": 19], ["drop": 0]])) == nil)
        #expect(CounterSkew.find("drop", in: Self.rows([["drop": 500]])) == nil)
        // A crafted file summing past 2^64 stops at the largest value instead of trapping.
        #expect(CounterSkew.find("drop", in: Self.rows([["drop": .max], ["drop": .max]])) != nil)
    }

    @Test func insertFailedOnOneCPUNamesItAndRSS() {
        let f = TableInsertFailedCheck().evaluate(Self.snapshot([["insert_failed": 4], ["insert_failed": 196]]))
        #expect(f.status == .fail)
        #expect(f.evidence.contains { $0.value == "cpu 1 counted 196 of 200 insert_failed (98%, 2 CPUs)" && $0.source.hasSuffix(", per CPU") })
        #expect(f.explanation.contains("One CPU took most of them: cpu 1 counted 196 of 200 insert_failed"))
        #expect(f.explanation.contains("RSS, IRQ affinity"))
        #expect(f.remediation?.steps.contains { $0.purpose.contains("away from cpu 1") } == true)
    }

    @Test func insertFailedSpreadSaysNothingOfCPUs() {
        let f = TableInsertFailedCheck().evaluate(Self.snapshot([["insert_failed": 100], ["insert_failed": 100]]))
        #expect(f.status == .fail)
        #expect(!f.explanation.contains("One CPU"))
        #expect(!f.evidence.contains { $0.source.hasSuffix("per CPU") })
    }

    @Test func dropsOnOneCPUNameIt() {
        let f = TableDropsCheck().evaluate(Self.snapshot([["drop": 0, "early_drop": 1], ["drop": 0, "early_drop": 0], ["drop": 900, "early_drop": 30]]))
        #expect(f.status == .fail)
        #expect(f.evidence.contains { $0.value == "cpu 2 counted 900 of 900 drop (100%, 3 CPUs)" })
        #expect(f.evidence.contains { $0.value == "cpu 2 counted 30 of 31 early_drop (96%, 3 CPUs)" })
        #expect(f.explanation.contains("One CPU took most of them"))
    }

    @Test func noDropsPassWithoutSkewEvidence() {
        let f = TableDropsCheck().evaluate(Self.snapshot([["drop": 0], ["drop": 0]]))
        #expect(f.status == .pass)
        #expect(!f.evidence.contains { $0.source.hasSuffix("per CPU") })
    }

    /// With `--sample`, the CPU that took the rise is named, not the one that took the old total.
    @Test func sampledSkewIsOfTheRise() {
        var snap = Self.snapshot([["insert_failed": 1000], ["insert_failed": 0]])
        let stats = snap.stats.value!
        var after = stats
        after.counters["insert_failed"] = 1050
        after.perCPU = Self.rows([["insert_failed": 1000], ["insert_failed": 50]])
        snap.sample = CounterSample(
            seconds: 10,
            first: CounterReadings(netlink: .absent("-"), procfs: .value(stats), table: .absent("-"), sysctlCount: .absent("-")),
            second: CounterReadings(netlink: .absent("-"), procfs: .value(after), table: .absent("-"), sysctlCount: .absent("-")))
        let f = TableInsertFailedCheck().evaluate(snap)
        #expect(f.severity == .error)
        #expect(f.evidence.contains { $0.value == "cpu 1 counted 50 of 50 insert_failed (100%, 2 CPUs)" && $0.source.contains("rise in 10 s") })
    }
}
