import DoctorCore

/// Gathers one interval of `watch`: events by kind and by flow, kernel log lines, overruns; `close` turns it and
/// the readings at both ends into a `WatchRecord` and starts the next interval. Pure, and bounded whatever the
/// event rate: counters, and exact counts for the first `maxFlowsPerInterval` distinct flows of an interval.
public struct WatchAggregator {
    public static let maxLogLinesPerInterval = 50
    public static let maxFlowsPerInterval = 4096
    /// A CPU taking this share of a counter's rise is called out, if the rise is at least `skewMinimum` (the checks'
    /// evidence uses the same, `CounterSkew`).
    public static let skewShare = CounterSkew.share
    public static let skewMinimum = CounterSkew.minimum

    private let topFlowCount: Int
    private var events = WatchEvents()
    private var flows: [WatchFlowKey: Int] = [:]
    private var flowsNotRanked = 0
    private var lines: [WatchLogLine] = []
    private var linesLeftOut = 0
    private var overruns = 0
    private var lost: Int? = 0

    private let protocolName: @Sendable (UInt8) -> String

    /// `protocolName` names an IPPROTO_* number in the top flows ("udp").
    public init(topFlows: Int = 5, protocolName: @escaping @Sendable (UInt8) -> String) {
        topFlowCount = topFlows
        self.protocolName = protocolName
    }

    public mutating func add(_ event: WatchEvent) {
        switch event.kind {
        case .new: events.new += 1
        case .update: events.update += 1
        case .destroy: events.destroy += 1
        }
        if flows[event.flow] != nil || flows.count < Self.maxFlowsPerInterval {
            flows[event.flow, default: 0] += 1
        } else {
            flowsNotRanked += 1
        }
    }

    /// A poll's worth of events, with its overruns and losses (nil: some, number unknown, as soon as one poll says so).
    public mutating func add(_ batch: [WatchEvent], overruns: Int, lost: Int?) {
        for event in batch { add(event) }
        self.overruns += overruns
        self.lost = self.lost.flatMap { sum in lost.map { sum + $0 } }
    }

    /// A conntrack line of the kernel log (the host classifies them; the harmless vmalloc fallback is not one).
    public mutating func addLog(_ line: WatchLogLine) {
        guard lines.count < Self.maxLogLinesPerInterval else {
            linesLeftOut += 1
            return
        }
        lines.append(line)
    }

    /// The record of the interval from `first` to `second`; `subscribed` says whether events were listened to.
    public mutating func close(
        from first: WatchReading, to second: WatchReading, subscribed: Bool, judge: WatchJudge?, notes: [String]
    ) -> WatchRecord {
        let seconds = second.monotonicSeconds - first.monotonicSeconds
        var record = WatchRecord(time: second.time, interval: (seconds * 1000).rounded() / 1000)
        record.count = second.count.value?.entries
        record.max = second.count.value?.max
        record.expectations = second.expectations.value
        if let before = first.cpus.value, let after = second.cpus.value {
            record.stats = Self.stats(from: before, to: after, seconds: seconds)
        }
        if subscribed {
            record.events = events
            record.lost = lost
            record.overruns = overruns
            record.topFlows = flows.map { (text: $0.key.text(protocolName: protocolName), events: $0.value) }
                .sorted { $0.events != $1.events ? $0.events > $1.events : $0.text < $1.text }
                .prefix(topFlowCount).map { WatchFlow(flow: $0.text, events: $0.events) }
        }
        record.kernelLog = lines
        record.crossed = judge?.crossed(from: first, to: second) ?? []
        record.notes = notes
        if linesLeftOut > 0 { record.notes.append("\(linesLeftOut) more conntrack kernel log lines in this interval were left out") }
        if flowsNotRanked > 0 {
            record.notes.append("more than \(Self.maxFlowsPerInterval) flows in this interval: \(flowsNotRanked) events of later flows are counted but not ranked")
        }
        self = WatchAggregator(topFlows: topFlowCount, protocolName: protocolName)
        return record
    }

    /// Deltas per CPU and summed, their rates, and the counters one CPU took most of.
    static func stats(from first: CPUStatistics, to second: CPUStatistics, seconds: Double) -> WatchStats {
        var summed: [String: UInt64] = [:]
        var perCPU: [WatchCPUDelta] = []
        for cpu in 0..<min(first.cpus.count, second.cpus.count) {
            var deltas = CounterDelta.deltas(from: first.cpus[cpu], to: second.cpus[cpu])
            deltas["entries"] = nil
            for (name, value) in deltas { summed[name, default: 0] &+= value }
            let rose = deltas.filter { $0.value > 0 }
            if !rose.isEmpty { perCPU.append(WatchCPUDelta(cpu: cpu, deltas: rose)) }
        }
        var skewed: [WatchSkew] = []
        for (name, total) in summed.sorted(by: { $0.key < $1.key }) where total >= skewMinimum && second.cpus.count > 1 {
            guard let top = perCPU.max(by: { ($0.deltas[name] ?? 0) < ($1.deltas[name] ?? 0) }) else { continue }
            let share = Double(top.deltas[name] ?? 0) / Double(total)
            if share >= skewShare { skewed.append(WatchSkew(counter: name, cpu: top.cpu, share: (share * 100).rounded() / 100)) }
        }
        let rates = summed.mapValues { (CounterDelta.rate($0, seconds: seconds) * 100).rounded() / 100 }
        return WatchStats(source: second.source, deltas: summed, rates: rates, perCPU: perCPU, skewed: skewed)
    }
}
