import DoctorCore

/// The whole of a `watch`, folded from its records: totals, peaks, and the checks that would have failed.
public struct WatchSummary: Sendable, Equatable {
    public struct Crossing: Sendable, Equatable {
        public var check: String
        public var worst: Severity
        public var intervals: Int
        public var firstTime: String
    }

    public private(set) var intervals = 0
    public private(set) var seconds = 0.0
    /// Counter rises over the whole watch, and each counter's highest per-second rate in one interval.
    public private(set) var totals: [String: UInt64] = [:]
    public private(set) var peakRates: [String: Double] = [:]
    public private(set) var events: WatchEvents?
    public private(set) var peakEventsPerSecond = 0.0
    /// nil once a loss of unknown size happened.
    public private(set) var lost: Int? = 0
    public private(set) var overruns = 0
    public private(set) var lastCount: Int?
    public private(set) var peakCount: Int?
    public private(set) var max: Int?
    public private(set) var kernelLog: [String: Int] = [:]
    /// In the order first crossed.
    public private(set) var crossed: [Crossing] = []

    public init() {}

    public mutating func add(_ record: WatchRecord) {
        intervals += 1
        seconds += record.interval
        if let stats = record.stats {
            for (name, delta) in stats.deltas { totals[name, default: 0] &+= delta }
            for (name, rate) in stats.rates { peakRates[name] = Swift.max(peakRates[name] ?? 0, rate) }
        }
        if let e = record.events {
            var sum = events ?? WatchEvents()
            sum.new += e.new
            sum.update += e.update
            sum.destroy += e.destroy
            events = sum
            if record.interval > 0 { peakEventsPerSecond = Swift.max(peakEventsPerSecond, Double(e.total) / record.interval) }
            lost = lost.flatMap { sum in record.lost.map { sum + $0 } }
        }
        overruns += record.overruns
        if let count = record.count {
            lastCount = count
            peakCount = Swift.max(peakCount ?? count, count)
        }
        max = record.max ?? max
        for line in record.kernelLog { kernelLog[line.kind, default: 0] += 1 }
        for crossing in record.crossed {
            if let i = crossed.firstIndex(where: { $0.check == crossing.check }) {
                crossed[i].intervals += 1
                crossed[i].worst = Swift.max(crossed[i].worst, crossing.severity)
            } else {
                crossed.append(Crossing(check: crossing.check, worst: crossing.severity, intervals: 1, firstTime: record.time))
            }
        }
    }
}
