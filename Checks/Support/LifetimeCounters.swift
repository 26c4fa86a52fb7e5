import DoctorKit

/// Conntrack statistics are totals since boot (or since the namespace was created), not rates.
/// A finding built on them alone is never worse than a warning and says so.
enum LifetimeCounter {
    /// The named counter, or why it cannot be had.
    static func value(_ name: String, _ snapshot: HostSnapshot) -> Reading<UInt64> {
        Counters.totals(snapshot).flatMap { stats in
            guard let n = stats.counters[name] else { return .absent("\(stats.source) reports no \(name) counter") }
            return .value(n)
        }
    }

    /// The sentence every counter-based finding carries.
    static func note(_ name: String, _ snapshot: HostSnapshot) -> String {
        let span = snapshot.host.uptimeSeconds.value.map { " (the host has been up \(Wording.span($0)))" } ?? ""
        return "The \(name) counter is a lifetime total since boot or since this network namespace was created\(span), "
            + "not a rate: the packets may all be old. `ctdoctor check --sample SECONDS` reads it twice and "
            + "tells whether it is rising now."
    }
}
