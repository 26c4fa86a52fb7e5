import DoctorCore
import Foundation

/// The text views of `watch`: a screen redrawn in place on a terminal, one plain line per interval otherwise, and
/// the summary at the end. Host text (kernel log lines, notes) goes through `Escape.terminal`; colour only through
/// the palette, which the caller turns on for a terminal only.
public struct WatchText: Sendable {
    /// The counters shown, in this order (the kernel's names).
    public static let counters = [
        "found", "invalid", "insert_failed", "drop", "early_drop", "error", "clash_resolve", "chaintoolong",
        "search_restart",
    ]
    public static let width = 80
    /// Kernel log lines kept on the screen.
    public static let screenLogLines = 6

    public var palette: Palette
    /// "netns 4026532177 (/run/netns/x)".
    public var header: String

    public init(palette: Palette, header: String) {
        self.palette = palette
        self.header = Neutralise.line(header)
    }

    /// "netns 4026532177 (/run/netns/blue)", "netns 4026531840 (initial)".
    public static func header(_ netns: NetnsIdentity) -> String {
        var text = "netns " + (netns.inode.value.map(String.init) ?? "?")
        if let found = netns.found ?? netns.name.map({ "/run/netns/\($0)" }) {
            text += " (\(found))"
        } else if netns.initial == true {
            text += " (initial)"
        }
        return text
    }

    // MARK: terminal screen

    /// Cursor home, each line cleared to its end, the rest of the screen cleared: no blank frame, so no flicker.
    public func frame(_ record: WatchRecord, recentLog: [WatchLogLine], notes: [String], interval: Double) -> String {
        var out = "\u{1B}[H"
        for line in screen(record, recentLog: recentLog, notes: notes, interval: interval) { out += line + "\u{1B}[K\n" }
        return out + "\u{1B}[J"
    }

    /// The lines of one screen, each at most `width` columns before colour. `notes` are every note so far: a
    /// record carries a note once, the screen keeps showing it.
    public func screen(_ record: WatchRecord, recentLog: [WatchLogLine], notes: [String], interval: Double) -> [String] {
        var lines = [fit("\(Self.clock(record.time)) · every \(Self.number(interval)) s · \(header)")]
        lines.append(fit("entries   \(entriesText(record))"))
        lines.append(fit("events/s  \(eventsText(record))"))
        if let stats = record.stats {
            let rates = Self.counters.map { "\($0) \(Self.number(stats.rates[$0] ?? 0))" }
            lines += wrap(rates, first: "stats/s   ", rest: "          ")
            for skew in stats.skewed.prefix(2) {
                lines.append(fit("          cpu \(skew.cpu) took \(Int((skew.share * 100).rounded()))% of \(skew.counter)"))
            }
        } else {
            lines.append("stats/s   (not readable)")
        }
        if !record.topFlows.isEmpty {
            for (i, flow) in record.topFlows.enumerated() {
                lines.append(fit("\(i == 0 ? "top flows " : "          ")\(Self.count(flow))  \(Neutralise.line(flow.flow))"))
            }
        }
        if record.crossed.isEmpty {
            lines.append("checks    " + palette.green("no threshold crossed"))
        } else {
            for (i, crossing) in record.crossed.enumerated() {
                lines.append((i == 0 ? "checks    " : "          ") + crossingText(crossing, room: Self.width - 10))
            }
        }
        lines.append("kernel log" + (recentLog.isEmpty ? "  (no conntrack lines yet)" : ""))
        for line in recentLog.suffix(Self.screenLogLines) { lines.append(fit("  " + logText(line))) }
        for note in notes { lines.append(palette.dim(fit("note: " + Neutralise.line(note)))) }
        lines.append(palette.dim("Ctrl-C stops and prints a summary"))
        return lines
    }

    // MARK: plain lines

    /// One interval on one line (and one more line per kernel log line), no escape sequences.
    public func line(_ record: WatchRecord) -> String {
        var parts = [Self.clock(record.time), "entries " + entriesText(record), "events/s " + eventsText(record)]
        if let stats = record.stats {
            let rising = Self.counters.filter { (stats.deltas[$0] ?? 0) > 0 }
            parts.append("stats/s " + (rising.isEmpty ? "all 0" : rising.map { "\($0) \(Self.number(stats.rates[$0] ?? 0))" }.joined(separator: " ")))
        } else {
            parts.append("stats/s (not readable)")
        }
        if !record.crossed.isEmpty {
            parts.append("crossed " + record.crossed.map { "\($0.check) (\($0.severity.rawValue))" }.joined(separator: ", "))
        }
        var out = parts.joined(separator: " | ")
        if !record.topFlows.isEmpty {
            out += "\n  top flows: " + record.topFlows.prefix(3).map { "\(Neutralise.line($0.flow)) (\(Self.count($0).trimmingWhitespace()))" }
                .joined(separator: ", ")
        }
        for line in record.kernelLog { out += "\n  kernel log: " + logText(line) }
        for note in record.notes { out += "\n  note: " + Neutralise.line(note) }
        return out
    }

    // MARK: summary

    public func summary(_ s: WatchSummary) -> String {
        var lines = ["ctdoctor watch summary · \(header) · \(s.intervals) intervals, \(Self.number(s.seconds)) s"]
        if let count = s.lastCount {
            lines.append("entries    last \(count), peak \(s.peakCount ?? count)" + (s.max.map { " of nf_conntrack_max \($0)" } ?? ""))
        }
        if let e = s.events {
            let lost = s.lost.map { "\($0) lost" } ?? "some lost (\(s.overruns) overruns, number unknown)"
            lines.append("events     new \(e.new), update \(e.update), destroy \(e.destroy); peak \(Self.number(s.peakEventsPerSecond))/s; \(lost)")
        } else {
            lines.append("events     not watched")
        }
        if s.totals.isEmpty {
            lines.append("counters   not readable")
        } else {
            let rose = Self.counters.filter { (s.totals[$0] ?? 0) > 0 }
            let rows = rose.map { "\($0) +\(s.totals[$0] ?? 0) (peak \(Self.number(s.peakRates[$0] ?? 0))/s)" }
            let rest = Self.counters.filter { s.totals[$0] != nil && !rose.contains($0) }
            if !rows.isEmpty { lines += wrap(rows, first: "counters   ", rest: "           ", separator: "; ") }
            if !rest.isEmpty {
                lines += wrap(rest, first: rows.isEmpty ? "counters   no rise: " : "           no rise: ", rest: "           ", separator: ", ")
            }
        }
        if !s.kernelLog.isEmpty {
            lines.append("kernel log " + s.kernelLog.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if s.crossed.isEmpty {
            lines.append("checks     " + palette.green("no check would have failed"))
        } else {
            lines.append("checks that would have failed (`ctdoctor explain ID` says why):")
            for c in s.crossed {
                let times = c.intervals == 1 ? "1 interval" : "\(c.intervals) intervals"
                lines.append("  " + paint(c.worst, "\(c.check) [\(c.worst.rawValue)]") + ": \(times), first at \(Self.clock(c.firstTime))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: pieces

    func entriesText(_ r: WatchRecord) -> String {
        guard let count = r.count else { return "(not readable)" }
        var text = "\(count)"
        if let max = r.max, max > 0 {
            text += " / \(max) (\(Self.number(Double(count) / Double(max) * 100))%)"
        }
        if let e = r.expectations { text += "   expectations \(e)" }
        return text
    }

    func eventsText(_ r: WatchRecord) -> String {
        guard let e = r.events else { return "(not watched)" }
        let per = { (n: Int) in Self.number(r.interval > 0 ? Double(n) / r.interval : 0) }
        let lost: String
        switch (r.lost, r.overruns) {
        case (0?, _): lost = "lost 0"
        case (let n?, _): lost = palette.red("lost \(n)")
        case (nil, let overruns): lost = palette.red("lost some (\(overruns) overruns)")
        }
        return "new \(per(e.new))  update \(per(e.update))  destroy \(per(e.destroy))   \(lost)"
    }

    func crossingText(_ c: WatchCrossing, room: Int) -> String {
        let head = "\(c.check) [\(c.severity.rawValue)]"
        let tail = Self.truncate(Neutralise.line(c.observed), to: room - head.count - 2)
        return paint(c.severity, head) + ": " + tail
    }

    func logText(_ line: WatchLogLine) -> String {
        let stamp = line.seconds.map { "[\(String(format: "%.3f", $0))] " } ?? ""
        let netns = line.netns.map { " (netns \($0))" } ?? ""
        return "\(stamp)\(Neutralise.line(line.text))\(netns)"
    }

    private func paint(_ severity: Severity, _ text: String) -> String {
        severity >= .error ? palette.red(text) : palette.yellow(text)
    }

    private func fit(_ text: String) -> String { Self.truncate(text, to: Self.width) }

    /// Items joined on lines no wider than `width`.
    private func wrap(_ items: [String], first: String, rest: String, separator: String = "  ") -> [String] {
        var lines: [String] = []
        var current = first
        var empty = true
        for item in items {
            if !empty && current.count + separator.count + item.count > Self.width {
                lines.append(current + separator.trimmingWhitespace())
                current = rest
                empty = true
            }
            current += (empty ? "" : separator) + item
            empty = false
        }
        lines.append(current)
        return lines
    }

    static func truncate(_ text: String, to width: Int) -> String {
        text.count <= width ? text : String(text.prefix(Swift.max(width - 1, 0))) + "…"
    }

    /// "0", "3", "2.5", "1234".
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "?" }
        if value == value.rounded() || abs(value) >= 100 { return String(Int(value.rounded())) }
        return String(format: "%.1f", value)
    }

    static func count(_ flow: WatchFlow) -> String {
        let text = "\(flow.events)"
        return String(repeating: " ", count: Swift.max(0, 7 - text.count)) + text
    }

    /// The time of day of an ISO 8601 stamp, "12:00:05".
    static func clock(_ iso: String) -> String {
        guard let t = iso.firstIndex(of: "T") else { return iso }
        return String(iso[iso.index(after: t)...].prefix(8))
    }
}
