import Foundation
import DoctorCore

/// What the table-full flow measured: the counters as rates over the sample, the count against the limit, and what
/// fills the table (states, protocols, top talkers from one streamed dump).
public struct TableEvidence: Sendable, Codable, Equatable {
    /// Counters whose rise over the sample says the table refuses entries now.
    public static let counters = ["drop", "early_drop", "insert_failed", "clash_resolve", "chaintoolong"]

    /// The sample's span on the monotonic clock; nil when the counters could not be read twice.
    public var seconds: Double?
    /// Counter → rise over the sample.
    public var rises: [String: UInt64]
    public var countBefore: Int?
    public var countAfter: Int?
    /// nf_conntrack_max (0: no limit).
    public var max: Int?
    public var summary: TableSummary?
    /// Timeout sysctl (without `net.netfilter.`) → its value now, for the keys the advice may touch.
    public var timeouts: [String: Int]
    /// `ctdoctor top`'s text for the same dump.
    public var rendered: [String]

    public init(seconds: Double?, rises: [String: UInt64], countBefore: Int?, countAfter: Int?, max: Int?,
                summary: TableSummary?, timeouts: [String: Int], rendered: [String]) {
        self.seconds = seconds
        self.rises = rises
        self.countBefore = countBefore
        self.countAfter = countAfter
        self.max = max
        self.summary = summary
        self.timeouts = timeouts
        self.rendered = rendered
    }

    public func rate(_ counter: String) -> Double? {
        guard let seconds, let rise = rises[counter] else { return nil }
        return CounterDelta.rate(rise, seconds: seconds)
    }

    /// Fill of the table after the sample, 0…1; nil when the count or a limit is unknown.
    public var fill: Double? {
        guard let count = countAfter ?? countBefore, let max, max > 0 else { return nil }
        return Double(count) / Double(max)
    }

    public func lines() -> [String] {
        var out: [String] = []
        if let seconds {
            let rates = Self.counters.map { name in
                rises[name].map { "\(name) \(Self.format(CounterDelta.rate($0, seconds: seconds)))/s (+\($0))" } ?? "\(name) not read"
            }
            out.append("rates over \(Self.format(seconds)) s: " + rates.joined(separator: " · "))
        } else {
            out.append("rates: the counters could not be read twice (no ctnetlink and no /proc/net/stat/nf_conntrack)")
        }
        let count = [countBefore, countAfter].map { $0.map(String.init) ?? "?" }.joined(separator: " → ")
        let limit = max.map { $0 == 0 ? "no limit (nf_conntrack_max = 0)" : "nf_conntrack_max \($0)" } ?? "nf_conntrack_max not read"
        out.append("entries \(count) of \(limit)" + (fill.map { " (\(Int(($0 * 100).rounded()))% full)" } ?? ""))
        return out + causes().map { "⇒ \($0)" } + rendered
    }

    /// What the sample shows is wrong now; empty when the table is healthy (or nothing could be read).
    public func causes() -> [String] {
        var out: [String] = []
        if let fill, fill >= 0.95, let max {
            out.append("the table is full: \(countAfter ?? countBefore ?? 0) of \(max) entries")
        }
        for (name, what) in [("drop", "new flows are dropped now"), ("early_drop", "entries are evicted early to make room"),
                             ("insert_failed", "inserts fail now (clashes, or hash chains too long)")] {
            if let rate = rate(name), rate > 0 { out.append("\(what): \(name) \(Self.format(rate))/s") }
        }
        return out
    }

    /// Shorter timeouts for what fills the table, as runnable per-namespace steps (journaled, put back unless kept).
    public func timeoutSteps() -> [RemediationStep] {
        guard let s = summary, s.entries > 0 else { return [] }
        func share(_ n: Int?) -> Double { Double(n ?? 0) / Double(s.entries) }
        var out: [RemediationStep] = []
        func propose(_ key: String, _ value: Int, _ why: String) {
            guard let now = timeouts[key], now > value else { return }
            out.append(.sysctl("net.netfilter.\(key)", String(value), previous: String(now),
                               purpose: "\(why): \(key) \(now) → \(value) s, so such entries leave the table sooner"))
        }
        if share(s.protocols["udp"]) >= 0.5 {
            propose("nf_conntrack_udp_timeout_stream", 60, "UDP fills \(Self.percent(share(s.protocols["udp"]))) of the table")
            propose("nf_conntrack_udp_timeout", 15, "UDP fills \(Self.percent(share(s.protocols["udp"]))) of the table")
        }
        if share(s.tcpStates["TIME_WAIT"]) >= 0.3 {
            propose("nf_conntrack_tcp_timeout_time_wait", 30, "TIME_WAIT holds \(Self.percent(share(s.tcpStates["TIME_WAIT"]))) of the table")
        }
        if share(s.tcpStates["SYN_SENT"]) + share(s.tcpStates["SYN_RECV"]) >= 0.3 {
            propose("nf_conntrack_tcp_timeout_syn_sent", 30, "half-open TCP (a scan, or a backend that does not answer) holds \(Self.percent(share(s.tcpStates["SYN_SENT"]) + share(s.tcpStates["SYN_RECV"])))")
        }
        return out
    }

    /// The timeout keys the advice reads.
    public static let timeoutKeys = ["nf_conntrack_udp_timeout_stream", "nf_conntrack_udp_timeout",
                                     "nf_conntrack_tcp_timeout_time_wait", "nf_conntrack_tcp_timeout_syn_sent"]

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }
    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }
}
