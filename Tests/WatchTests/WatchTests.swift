import Foundation
import Testing
@testable import DoctorCore
@testable import Watch

/// The pure parts of `ctdoctor watch`: rates, aggregation, rendering.
@Suite struct WatchTests {
    static func reading(at seconds: Double, _ cpus: [[String: UInt64]], count: Int? = 10) -> WatchReading {
        WatchReading(
            monotonicSeconds: seconds, time: "2026-01-10T12:00:0\(Int(seconds))Z",
            count: count.map { .value(EntryCount(entries: $0, max: 100)) } ?? .denied("EPERM"),
            expectations: .value(0), cpus: .value(CPUStatistics(source: "test", viaCtnetlink: true, cpus: cpus)))
    }

    static func event(_ kind: WatchEvent.Kind, port: UInt16, from source: UInt64 = 0x7F00_0001) -> WatchEvent {
        WatchEvent(kind: kind, flow: WatchFlowKey(
            l4proto: 17, source: WatchAddress(high: 0, low: source, isIPv6: false),
            destination: WatchAddress(high: 0, low: 0x7F01_0000, isIPv6: false), port: port))
    }

    static let name: @Sendable (UInt8) -> String = { $0 == 17 ? "udp" : $0 == 6 ? "tcp" : "proto\($0)" }

    @Test func deltasAndRatesAreTheSampleCode() {
        #expect(CounterDelta.delta(from: 5, to: 12) == 7)
        #expect(CounterDelta.delta(from: UInt64(UInt32.max) - 1, to: 3) == 5)   // a u32 counter wrapped
        #expect(CounterDelta.deltas(from: ["a": 1, "b": 2], to: ["a": 4, "c": 9]) == ["a": 3])
        #expect(CounterDelta.rate(30, seconds: 10) == 3)
        #expect(CounterDelta.rate(30, seconds: 0) == 0)
        #expect(CounterDelta.rate(30, seconds: .nan) == 0)
    }

    @Test func statsArePerCPUSummedAndSkewIsCalledOut() {
        let stats = WatchAggregator.stats(
            from: CPUStatistics(source: "s", viaCtnetlink: true, cpus: [["invalid": 10, "drop": 0, "entries": 5], ["invalid": 0, "drop": 1, "entries": 5]]),
            to: CPUStatistics(source: "s", viaCtnetlink: true, cpus: [["invalid": 110, "drop": 0, "entries": 9], ["invalid": 4, "drop": 3, "entries": 9]]),
            seconds: 2)
        #expect(stats.deltas == ["invalid": 104, "drop": 2])
        #expect(stats.rates == ["invalid": 52, "drop": 1])
        #expect(stats.perCPU == [WatchCPUDelta(cpu: 0, deltas: ["invalid": 100]), WatchCPUDelta(cpu: 1, deltas: ["invalid": 4, "drop": 2])])
        #expect(stats.skewed == [WatchSkew(counter: "invalid", cpu: 0, share: 0.96)])
    }

    @Test func anIntervalCountsEventsFlowsLinesAndLoss() {
        var aggregator = WatchAggregator(topFlows: 2, protocolName: Self.name)
        for _ in 0..<3 { aggregator.add(Self.event(.new, port: 53)) }
        aggregator.add(Self.event(.update, port: 53))
        aggregator.add(Self.event(.destroy, port: 80))
        aggregator.add([Self.event(.new, port: 80)], overruns: 1, lost: nil)
        aggregator.addLog(WatchLogLine(kind: "table-full", seconds: 12.5, text: "nf_conntrack: table full in netns 4026532177, dropping packet", netns: 4026532177))
        let record = aggregator.close(
            from: Self.reading(at: 1, [["drop": 0]]), to: Self.reading(at: 3, [["drop": 4]]), subscribed: true, judge: nil, notes: ["n"])
        #expect(record.events == WatchEvents(new: 4, update: 1, destroy: 1))
        #expect(record.lost == nil && record.overruns == 1)
        #expect(record.topFlows.first == WatchFlow(flow: "udp 127.0.0.1 → 127.1.0.0:53", events: 4))
        #expect(record.topFlows.count == 2)
        #expect(record.kernelLog == [WatchLogLine(kind: "table-full", seconds: 12.5, text: "nf_conntrack: table full in netns 4026532177, dropping packet", netns: 4026532177)])
        #expect(record.interval == 2 && record.count == 10 && record.max == 100)
        #expect(record.stats?.deltas == ["drop": 4])
        #expect(record.notes == ["n"])
        // The next interval starts empty.
        let next = aggregator.close(from: Self.reading(at: 3, [["drop": 4]]), to: Self.reading(at: 4, [["drop": 4]]), subscribed: true, judge: nil, notes: [])
        #expect(next.events == WatchEvents() && next.lost == 0 && next.kernelLog.isEmpty && next.topFlows.isEmpty)
    }

    @Test func withoutASubscriptionEventsAreNullNotZero() throws {
        var aggregator = WatchAggregator(protocolName: Self.name)
        let record = aggregator.close(from: Self.reading(at: 1, [[:]]), to: Self.reading(at: 2, [[:]], count: nil), subscribed: false, judge: nil, notes: [])
        #expect(record.events == nil && record.lost == nil && record.count == nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(WatchPresenter.json(record).utf8)) as? [String: Any])
        for key in ["schema", "time", "interval", "count", "max", "expectations", "stats", "events", "lost", "overruns", "topFlows", "kernelLog", "crossed", "notes"] {
            #expect(object.keys.contains(key), "\(key)")
        }
        #expect(object["events"] is NSNull && object["count"] is NSNull)
        #expect(object["schema"] as? String == "ctdoctor.watch/1")
    }

    @Test func kernelLinesAreCappedPerInterval() {
        var aggregator = WatchAggregator(protocolName: Self.name)
        for i in 0..<(WatchAggregator.maxLogLinesPerInterval + 7) {
            aggregator.addLog(WatchLogLine(kind: "invalid", seconds: Double(i), text: "nf_ct_proto_6: invalid tcp flag combination"))
        }
        let record = aggregator.close(from: Self.reading(at: 1, [[:]]), to: Self.reading(at: 2, [[:]]), subscribed: false, judge: nil, notes: [])
        #expect(record.kernelLog.count == WatchAggregator.maxLogLinesPerInterval)
        #expect(record.notes == ["7 more conntrack kernel log lines in this interval were left out"])
    }

    static let hostile = "nf_ct_ftp: dropping packet \u{1B}[2J\u{1B}]0;owned\u{07} \u{202E}txt.exe \u{9B}31m"

    static func busyRecord() -> WatchRecord {
        var record = WatchRecord(time: "2026-01-10T12:00:05Z", interval: 1, count: 250_000, max: 262_144, expectations: 3)
        record.stats = WatchStats(
            source: "s", deltas: ["invalid": 12, "drop": 3], rates: ["invalid": 12, "drop": 3],
            perCPU: [], skewed: [WatchSkew(counter: "invalid", cpu: 1, share: 1)])
        record.events = WatchEvents(new: 1200, update: 40, destroy: 1100)
        record.lost = nil
        record.overruns = 2
        record.topFlows = [WatchFlow(flow: "udp 10.0.0.1 → [2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:53 " + String(repeating: "x", count: 60), events: 40)]
        record.kernelLog = [WatchLogLine(kind: "helper-drop", seconds: 99.5, text: hostile)]
        record.crossed = [WatchCrossing(check: "table.drops", severity: .critical, observed: "drop +3 in 1 s (3.0/s); " + String(repeating: "y", count: 90))]
        record.notes = ["kernel log \u{1B}[31mnot\u{1B}[0m watched"]
        return record
    }

    @Test func theScreenFitsEightyColumnsAndNeutralizesHostText() {
        let text = WatchText(palette: .plain, header: "netns 4026532177 (/run/netns/\u{1B}[1mx)")
        let lines = text.screen(Self.busyRecord(), recentLog: Self.busyRecord().kernelLog, notes: Self.busyRecord().notes, interval: 1)
        #expect(lines.allSatisfy { $0.count <= WatchText.width }, "\(lines.filter { $0.count > 80 })")
        #expect(lines.allSatisfy { !$0.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B || $0.value == 0x202E || $0.value == 7 } })
        #expect(lines.contains { $0.contains("\\u{1B}[2J") })
        #expect(lines.contains { $0.hasPrefix("checks    table.drops [critical]: drop +3 in 1 s") })
        #expect(lines.contains { $0.contains("lost some (2 overruns)") })
        #expect(lines.contains { $0.contains("cpu 1 took 100% of invalid") })
        let frame = text.frame(Self.busyRecord(), recentLog: [], notes: [], interval: 1)
        #expect(frame.hasPrefix("\u{1B}[H") && frame.hasSuffix("\u{1B}[J") && !frame.contains("\u{1B}[2J"))
    }

    @Test func theScreenKeepsShowingANoteAfterTheRecordThatBroughtIt() {
        var presenter = WatchPresenter(mode: .screen, text: WatchText(palette: .plain, header: "netns 1"), interval: 1)
        var first = WatchRecord(time: "2026-01-10T12:00:01Z", interval: 1)
        first.notes = ["events not watched: EPERM", "3 more conntrack kernel log lines in this interval were left out"]
        let second = WatchRecord(time: "2026-01-10T12:00:02Z", interval: 1)
        _ = presenter.render(first)
        let frame = presenter.render(second)
        #expect(frame.contains("note: events not watched: EPERM"))
        #expect(!frame.contains("left out"))
    }

    @Test func plainLinesCarryNoEscapeSequences() {
        let text = WatchText(palette: .plain, header: "netns 1")
        let line = text.line(Self.busyRecord())
        #expect(!line.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B })
        #expect(line.hasPrefix("12:00:05 | entries 250000 / 262144 (95.4%)   expectations 3 | events/s new 1200  update 40  destroy 1100"))
        #expect(line.contains("stats/s invalid 12 drop 3"))
        #expect(line.contains("crossed table.drops (critical)"))
        #expect(line.contains("\n  kernel log: [99.500] nf_ct_ftp: dropping packet \\u{1B}[2J"))
    }

    @Test func theSummaryHasTotalsPeaksAndTheChecks() {
        var summary = WatchSummary()
        var quiet = WatchRecord(time: "2026-01-10T12:00:04Z", interval: 1, count: 10, max: 262_144)
        quiet.events = WatchEvents(new: 1)
        quiet.lost = 0
        quiet.stats = WatchStats(source: "s", deltas: ["invalid": 0, "drop": 0], rates: ["invalid": 0, "drop": 0], perCPU: [], skewed: [])
        summary.add(quiet)
        summary.add(Self.busyRecord())
        summary.add(Self.busyRecord())
        #expect(summary.intervals == 3 && summary.totals["invalid"] == 24 && summary.peakRates["drop"] == 3)
        #expect(summary.events == WatchEvents(new: 2401, update: 80, destroy: 2200))
        #expect(summary.lost == nil && summary.overruns == 4)
        #expect(summary.peakCount == 250_000 && summary.lastCount == 250_000)
        #expect(summary.crossed == [WatchSummary.Crossing(check: "table.drops", worst: .critical, intervals: 2, firstTime: "2026-01-10T12:00:05Z")])
        let text = WatchText(palette: .plain, header: "netns 1").summary(summary)
        #expect(text.contains("table.drops [critical]: 2 intervals, first at 12:00:05"))
        #expect(text.contains("some lost (4 overruns, number unknown)"))
        #expect(text.contains("invalid +24 (peak 12/s); drop +6 (peak 3/s)"))
        #expect(text.contains("kernel log helper-drop 2"))
    }

    @Test func theTerminalEscapeNeutralizesControlsAndBidi() {
        #expect(Neutralise.line("a\u{1B}[31mb") == "a\\u{1B}[31mb")
        #expect(Neutralise.line("\u{202E}abc\u{2066}") == "\\u{202E}abc\\u{2066}")
        #expect(Neutralise.line("tab\there\r\n") == "tab\\u{9}here\\u{D}\\u{A}")
        #expect(Neutralise.line("\u{9B}2J\u{7F}") == "\\u{9B}2J\\u{7F}")
        #expect(Neutralise.line("plain é ✓ →") == "plain é ✓ →")
    }

    @Test func flowsBeyondTheCapAreCountedButNotRanked() {
        var aggregator = WatchAggregator(protocolName: Self.name)
        for port in 0..<(WatchAggregator.maxFlowsPerInterval + 3) { aggregator.add(Self.event(.new, port: UInt16(port))) }
        let record = aggregator.close(from: Self.reading(at: 1, [[:]]), to: Self.reading(at: 2, [[:]]), subscribed: true, judge: nil, notes: [])
        #expect(record.events?.new == WatchAggregator.maxFlowsPerInterval + 3)
        #expect(record.topFlows.count == 5)
        #expect(record.notes == ["more than 4096 flows in this interval: 3 events of later flows are counted but not ranked"])
    }

    @Test(arguments: [
        (WatchAddress(high: 0, low: 1, isIPv6: true), "::1"),
        (WatchAddress(high: 0x2001_0db8_0000_0000, low: 2, isIPv6: true), "2001:db8::2"),
        (WatchAddress(high: 0x2001_0db8_0000_0001, low: 0x0000_0000_0001_0000, isIPv6: true), "2001:db8:0:1::1:0"),
        (WatchAddress(high: 0xfe80_0000_0000_0000, low: 0x0211_22ff_fe33_4455, isIPv6: true), "fe80::211:22ff:fe33:4455"),
        (WatchAddress(high: 0x2001_0db8_0001_0001, low: 0x0001_0001_0001_0001, isIPv6: true), "2001:db8:1:1:1:1:1:1"),
        (WatchAddress(high: 0, low: 0, isIPv6: true), "::"),
        (WatchAddress(high: 0, low: 0x7F00_0001, isIPv6: false), "127.0.0.1"),
    ])
    func addressesPrintAsRFC5952Says(address: WatchAddress, text: String) {
        #expect(address.description == text)
    }

    @Test func anIPv6FlowBracketsItsAddressBeforeThePort() {
        let flow = WatchFlowKey(
            l4proto: 6, source: WatchAddress(high: 0, low: 1, isIPv6: true),
            destination: WatchAddress(high: 0x2001_0db8_0000_0000, low: 2, isIPv6: true), port: 443)
        #expect(flow.text(protocolName: Self.name) == "tcp ::1 → [2001:db8::2]:443")
    }
}
