import DoctorCore
import Foundation

/// What `watch` writes for each interval and at the end, in one of its three forms. Pure: records in, text out.
public struct WatchPresenter {
    public enum Mode: Sendable, Equatable {
        /// A terminal: one screen redrawn in place, the summary after it.
        case screen
        /// Not a terminal: one plain line per interval, the summary at the end.
        case lines
        /// `--format json`: one `ctdoctor.watch/1` object per line; no summary.
        case json
    }

    public let mode: Mode
    private let text: WatchText
    private let interval: Double
    private var recentLog: [WatchLogLine] = []
    private var notes: [String] = []
    private var drawn = false

    public init(mode: Mode, text: WatchText, interval: Double) {
        self.mode = mode
        self.text = text
        self.interval = interval
    }

    /// What to write before the first interval: the terminal cleared, or the notes of the start.
    public func start(notes: [String]) -> String {
        switch mode {
        case .screen: "\u{1B}[2J\u{1B}[H" + text.palette.dim("ctdoctor watch · \(text.header) · first interval in \(WatchText.number(interval)) s") + "\n"
        case .lines: "ctdoctor watch · \(text.header) · every \(WatchText.number(interval)) s\n"
        case .json: ""
        }
    }

    public mutating func render(_ record: WatchRecord) -> String {
        switch mode {
        case .screen:
            recentLog = Array((recentLog + record.kernelLog).suffix(WatchText.screenLogLines))
            // Per-interval notes (lines left out, flows not ranked) come and go; the others stay.
            notes = notes.filter { !Self.perInterval($0) } + record.notes.filter { !notes.contains($0) }
            drawn = true
            return text.frame(record, recentLog: recentLog, notes: notes, interval: interval)
        case .lines:
            return text.line(record) + "\n"
        case .json:
            return Self.json(record) + "\n"
        }
    }

    public func finish(_ summary: WatchSummary) -> String {
        switch mode {
        case .screen: (drawn ? "\n" : "") + text.summary(summary)
        case .lines: text.summary(summary)
        case .json: ""
        }
    }

    static func perInterval(_ note: String) -> Bool {
        note.contains("in this interval")
    }

    /// One line of JSON, keys sorted.
    public static func json(_ record: WatchRecord) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(record)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
