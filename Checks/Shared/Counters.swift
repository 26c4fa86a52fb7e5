import DoctorCore

/// One conntrack counter as a check sees it: the lifetime total and, after `--sample`, what it did in the window.
struct CounterReading: Codable, Sendable, Equatable {
    let name: String
    let total: UInt64
    /// Growth during the sample window; nil when the counters were read once.
    let delta: UInt64?
    let seconds: Double?
    /// Where the numbers came from.
    let source: String

    var isSampled: Bool { delta != nil }
    /// True/false after `--sample`; nil when only the lifetime total is known.
    var rising: Bool? { delta.map { $0 > 0 } }

    /// "12 in the last 10 s (1.2/s)" or "12 (lifetime total)".
    var text: String {
        guard let delta, let seconds else { return "\(total) (lifetime total)" }
        let rate = CounterDelta.rate(delta, seconds: seconds)
        return "+\(delta) in \(Wording.seconds(seconds)) (\(Wording.rate(rate))); \(total) since \(Counters.sinceWhat)"
    }
}

/// Conntrack counters for checks: ctnetlink's GET_STATS_CPU when it answered, else /proc/net/stat/nf_conntrack;
/// the other source, when it also answered, is kept as a cross-check in the evidence.
enum Counters {
    static let sinceWhat = "the namespace was created (since boot for the initial one)"

    /// Lifetime totals from the preferred source, or why there are none.
    static func totals(_ snapshot: HostSnapshot) -> Reading<ConntrackStats> {
        switch (snapshot.ctnetlink.statistics, snapshot.stats) {
        case (.value, _): return snapshot.ctnetlink.statistics
        case (_, .value): return snapshot.stats
        // Refused over netlink and no procfs file: "not permitted" is the useful reason, so the check skips.
        case (.denied(let netlink), .absent(let procfs)): return .denied("\(netlink); \(procfs)")
        default: return snapshot.stats
        }
    }

    /// The named counter's lifetime total, or why it cannot be had.
    static func total(_ name: String, _ snapshot: HostSnapshot) -> Reading<UInt64> {
        totals(snapshot).flatMap { total(name, in: $0) }
    }

    private static func total(_ name: String, in stats: ConntrackStats) -> Reading<UInt64> {
        guard let n = stats.counters[name] else { return .absent("\(stats.source) reports no \(name) counter") }
        return .value(n)
    }

    static func reading(_ name: String, _ snapshot: HostSnapshot) -> Reading<CounterReading> {
        totals(snapshot).flatMap { stats in
            total(name, in: stats).flatMap { total in
                if let (first, second, seconds) = sampled(snapshot), let a = first.counters[name], let b = second.counters[name] {
                    let delta = CounterDelta.delta(from: a, to: b)
                    return .value(CounterReading(name: name, total: b, delta: delta, seconds: seconds, source: second.source))
                }
                return .value(CounterReading(name: name, total: total, delta: nil, seconds: nil, source: stats.source))
            }
        }
    }

    /// The two readings of `--sample` from one source (ctnetlink first), or nil when there was no sample.
    static func sampled(_ snapshot: HostSnapshot) -> (ConntrackStats, ConntrackStats, Double)? {
        guard let sample = snapshot.sample else { return nil }
        for (first, second) in [(sample.first.netlink, sample.second.netlink), (sample.first.procfs, sample.second.procfs)] {
            if let a = first.value, let b = second.value { return (a, b, sample.seconds) }
        }
        return nil
    }

    /// Evidence for these counters: the preferred source, the other one as a cross-check, and the sample.
    static func evidence(_ names: [String], _ snapshot: HostSnapshot) -> [Evidence] {
        func line(_ stats: ConntrackStats) -> String {
            names.map { "\($0) = \(stats.counters[$0].map(String.init) ?? "(not reported)")" }.joined(separator: ", ")
        }
        var evidence: [Evidence] = []
        for reading in [snapshot.ctnetlink.statistics, snapshot.stats] {
            if let stats = reading.value { evidence.append(Evidence(stats.source, line(stats))) }
        }
        if evidence.isEmpty { evidence.append(Evidence("conntrack statistics", Wording.reading(totals(snapshot)))) }
        if let (first, second, seconds) = sampled(snapshot) {
            evidence.append(Evidence("\(second.source), read twice \(Wording.seconds(seconds)) apart",
                                     "before: \(line(first)); after: \(line(second))"))
        }
        return evidence
    }

    /// The CPUs that took most of these counters: of their rise during `--sample`, else of the lifetime totals;
    /// empty when the source gave no per-CPU counters or nothing is concentrated.
    static func skews(_ names: [String], _ snapshot: HostSnapshot) -> (skews: [CounterSkew], source: String) {
        let rows: [CPUCounterRow]?
        let source: String
        if let (first, second, seconds) = sampled(snapshot) {
            rows = first.perCPU.flatMap { before in second.perCPU.map { CounterSkew.deltas(from: before, to: $0) } }
            source = "\(second.source), per CPU, rise in \(Wording.seconds(seconds))"
        } else {
            let stats = totals(snapshot).value
            rows = stats?.perCPU
            source = "\(stats?.source ?? "conntrack statistics"), per CPU"
        }
        return (names.compactMap { name in rows.flatMap { CounterSkew.find(name, in: $0) } }, source)
    }

    static func skewEvidence(_ found: (skews: [CounterSkew], source: String)) -> [Evidence] {
        found.skews.map { Evidence(found.source, $0.text) }
    }

    /// Why one CPU taking most of the drops or failed inserts matters; empty without such a CPU.
    static func skewSentence(_ skews: [CounterSkew]) -> String {
        guard !skews.isEmpty else { return "" }
        return " One CPU took most of them: \(skews.map(\.text).joined(separator: "; ")). Each CPU tracks the "
            + "packets its receive queue and interrupts bring (RSS, IRQ affinity): when one takes most of the drops "
            + "or clashes, the NIC hashes most flows to one queue or one CPU takes every queue's interrupts, and that "
            + "CPU's conntrack work piles up while the others idle."
    }

    /// The step that goes with `skewSentence`.
    static func skewStep(_ skews: [CounterSkew]) -> [RemediationStep] {
        guard let first = skews.first else { return [] }
        return [.advice("""
            Spread the receive load away from cpu \(first.cpu): see how the NIC hashes flows to queues (`ethtool -l DEV`, \
            `ethtool -x DEV`), which CPU takes each queue's interrupts (`/proc/interrupts`, \
            `/proc/irq/N/smp_affinity_list`), and whether irqbalance or RPS (`/sys/class/net/DEV/queues/rx-N/rps_cpus`) spreads them.
            """)]
    }

    /// The first step of a remediation built on lifetime totals: see whether it is happening now.
    static func confirmStep(_ id: String, while symptom: String = "") -> RemediationStep {
        .advice("Confirm that it is happening now: `ctdoctor check --sample 10 --only \(id)`\(symptom).")
    }

    /// The shorter sentence of the logging and TCP checks, which read one counter as context.
    static func contextNote(_ name: String, _ snapshot: HostSnapshot) -> String {
        let span = snapshot.host.uptimeSeconds.value.map { " (the host has been up \(Wording.span($0)))" } ?? ""
        return "The \(name) counter is a lifetime total since boot or since this network namespace was created\(span), "
            + "not a rate: the packets may all be old. `ctdoctor check --sample SECONDS` reads it twice and "
            + "tells whether it is rising now."
    }

    /// The sentence a finding built on lifetime totals carries: since when, and how to see the rate.
    static func lifetimeNote(_ names: String, check id: String, _ snapshot: HostSnapshot) -> String {
        let since: String
        switch snapshot.host.netns.initial {
        case true?: since = "since boot"
        case false?: since = "since this network namespace was created"
        case nil: since = "since boot, or since this network namespace was created"
        }
        let uptime = snapshot.host.uptimeSeconds.value.map { " (the host has been up \(Wording.span($0)))" } ?? ""
        return "\(names) \(names.contains(" and ") ? "are lifetime totals" : "is a lifetime total") \(since)\(uptime), "
            + "not rates: they may all be old. `ctdoctor check --sample 10 --only \(id)` reads them twice, ten "
            + "seconds apart, and tells whether they are rising now."
    }
}
