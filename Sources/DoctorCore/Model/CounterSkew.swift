/// One CPU that took most of a counter: with receive-side scaling, each CPU handles the flows hashed to its receive
/// queue, so drops or failed inserts piled on one CPU point at RSS or IRQ affinity sending most flows to one queue.
public struct CounterSkew: Codable, Sendable, Equatable {
    /// A CPU taking at least this share of a counter is called out, when the counter is at least `minimum` and more
    /// than one CPU reported. `watch` uses the same on each interval's rise.
    public static let share = 0.75
    public static let minimum: UInt64 = 20

    public var counter: String
    public var cpu: Int
    /// The CPU's part and the sum over every CPU.
    public var count: UInt64
    public var total: UInt64
    /// CPUs that reported.
    public var cpus: Int

    public init(counter: String, cpu: Int, count: UInt64, total: UInt64, cpus: Int) {
        self.counter = counter
        self.cpu = cpu
        self.count = count
        self.total = total
        self.cpus = cpus
    }

    /// count ÷ total, 0 when the total is 0.
    public var fraction: Double { total == 0 ? 0 : Double(count) / Double(total) }

    /// "cpu 3 counted 912 of 1000 insert_failed (91%, 8 CPUs)".
    public var text: String {
        "cpu \(cpu) counted \(count) of \(total) \(counter) (\(Int((fraction * 100).rounded(.down)))%, \(cpus) CPUs)"
    }

    /// The CPU that holds at least `share` of `counter` among `rows`, or nil (too few, spread out, one CPU only).
    public static func find(_ counter: String, in rows: [CPUCounterRow]) -> CounterSkew? {
        guard rows.count > 1 else { return nil }
        // A crafted file's sum stops at the largest value instead of trapping.
        let total = rows.reduce(UInt64(0)) { sum, row in
            let (next, overflow) = sum.addingReportingOverflow(row.counters[counter] ?? 0)
            return overflow ? .max : next
        }
        guard total >= minimum, let top = rows.max(by: { ($0.counters[counter] ?? 0) < ($1.counters[counter] ?? 0) }) else { return nil }
        let skew = CounterSkew(counter: counter, cpu: top.cpu, count: top.counters[counter] ?? 0, total: total, cpus: rows.count)
        return skew.fraction >= share ? skew : nil
    }

    /// Each CPU's rise between two readings of the same source, matched by CPU number (a CPU missing from either
    /// reading is left out).
    public static func deltas(from first: [CPUCounterRow], to second: [CPUCounterRow]) -> [CPUCounterRow] {
        let before = Dictionary(first.map { ($0.cpu, $0.counters) }, uniquingKeysWith: { a, _ in a })
        return second.compactMap { row in
            before[row.cpu].map { CPUCounterRow(cpu: row.cpu, counters: CounterDelta.deltas(from: $0, to: row.counters)) }
        }
    }
}
