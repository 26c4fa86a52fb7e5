import Netfilter

/// Gathers one interval of `watch`: events by kind and by flow, kernel log lines, overruns; `close` turns it and
/// the readings at both ends into a `WatchRecord` and starts the next interval. Pure, and fixed in size whatever
/// the event rate: counters and a 64-slot sketch of flows.
public struct WatchAggregator {
    public static let maxLogLinesPerInterval = 50
    /// A CPU taking this share of a counter's rise is called out, if the rise is at least `skewMinimum`.
    public static let skewShare = 0.75
    public static let skewMinimum: UInt64 = 20

    private let topFlowCount: Int
    private var events = WatchEvents()
    private var flows: SpaceSaving<FlowKey>
    private var lines: [WatchLogLine] = []
    private var linesLeftOut = 0
    private var overruns = 0
    private var lost: Int? = 0

    public init(topFlows: Int = 5) {
        topFlowCount = topFlows
        flows = SpaceSaving(capacity: 64)
    }

    public mutating func add(_ event: ConntrackEvent) {
        switch event.kind {
        case .new: events.new += 1
        case .update: events.update += 1
        case .destroy: events.destroy += 1
        }
        flows.add(FlowKey(event.entry))
    }

    /// A poll's worth of events, with its overruns: the loss is unknown as soon as one batch says so.
    public mutating func add(_ batch: ListenerBatch<ConntrackEvent>) {
        for event in batch.messages { add(event) }
        overruns += batch.overruns
        lost = lost.flatMap { sum in batch.lost.map { sum + $0 } }
    }

    /// A kernel log record; kept when it is a conntrack line that matters (not the harmless vmalloc fallback).
    public mutating func addLog(seconds: Double?, message: String) {
        guard let (kind, line) = KernelLogCollector.classify(message, seconds: seconds), kind != .vmallocFallback else { return }
        guard lines.count < Self.maxLogLinesPerInterval else {
            linesLeftOut += 1
            return
        }
        lines.append(WatchLogLine(kind: kind.rawValue, seconds: line.seconds, text: line.text, netns: line.netns))
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
            record.topFlows = flows.top(topFlowCount).map { WatchFlow(flow: $0.key.description, events: $0.count, overcount: $0.overcount) }
        }
        record.kernelLog = lines
        record.crossed = judge?.crossed(from: first, to: second) ?? []
        record.notes = notes
        if linesLeftOut > 0 { record.notes.append("\(linesLeftOut) more conntrack kernel log lines in this interval were left out") }
        self = WatchAggregator(topFlows: topFlowCount)
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

/// A flow as `watch` groups events: protocol, source address, destination address and port.
struct FlowKey: SketchKey, CustomStringConvertible {
    var l4proto: UInt8
    var source: IPAddress
    var destination: IPAddress
    var port: UInt16?

    init(_ entry: ConntrackEntry) {
        l4proto = entry.l4proto
        source = entry.source
        destination = entry.destination
        port = entry.destinationPort
    }

    var sketchHash: UInt64 {
        (source.sketchHash &* 31) ^ destination.sketchHash ^ (UInt64(l4proto) << 17 | UInt64(port ?? 0)) &* 0x9E37_79B9_7F4A_7C15
    }

    var description: String {
        let target = destination.isIPv6 ? "[\(destination)]" : destination.description
        return "\(ConntrackEntry.protocolName(l4proto)) \(source) → \(target)\(port.map { ":\($0)" } ?? "")"
    }
}
