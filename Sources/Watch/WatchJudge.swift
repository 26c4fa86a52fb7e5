import DoctorCore

/// Applies the checks' own thresholds to one interval of `watch`: the interval becomes a `--sample` of the base
/// snapshot (taken once at the start), the rate checks run on it, and a check counts as crossed when this
/// interval's rises make it fail, or fail worse, than the same snapshot with nothing rising would. So `watch` names
/// `table.drops` exactly when `check --sample` over that interval would have failed it for the drops, and never
/// for a standing condition (a hash table sized too small, lifetime totals). `table.usage` and
/// `helpers.expectations` judge levels, not rises: they count as crossed whenever they fail.
public struct WatchJudge: Sendable {
    /// The checks that judge rises of the counters.
    public static let rateCheckIDs: Set<String> = ["table.drops", "table.insert-failed", "table.invalid", "table.buckets"]
    /// The checks that judge levels `watch` reads every interval.
    public static let levelCheckIDs: Set<String> = ["table.usage", "helpers.expectations"]

    private let base: HostSnapshot
    private let checks: [any Check]

    /// `catalog` is the built-in check catalog; only the checks named above are run.
    public init(base: HostSnapshot, catalog: [any Check]) {
        self.base = base
        self.checks = catalog.filter { Self.rateCheckIDs.contains($0.info.id) || Self.levelCheckIDs.contains($0.info.id) }
    }

    public var checkIDs: [String] { checks.map(\.info.id) }

    /// The checks the interval from `first` to `second` crosses, in catalog order.
    public func crossed(from first: WatchReading, to second: WatchReading) -> [WatchCrossing] {
        let seconds = second.monotonicSeconds - first.monotonicSeconds
        let now = snapshot(first: second, second: second, seconds: seconds)
        let rising = snapshot(first: first, second: second, seconds: seconds)
        var out: [WatchCrossing] = []
        for check in checks {
            let finding = check.evaluate(rising)
            guard finding.status == .fail, let severity = finding.severity else { continue }
            if Self.rateCheckIDs.contains(check.info.id) {
                let quiet = check.evaluate(now)
                if quiet.status == .fail, let standing = quiet.severity, standing >= severity { continue }
            }
            out.append(WatchCrossing(check: check.info.id, severity: severity, observed: finding.observed))
        }
        return out
    }

    private func snapshot(first: WatchReading, second: WatchReading, seconds: Double) -> HostSnapshot {
        var snapshot = base
        snapshot.sample = CounterSample(seconds: seconds, first: Self.readings(first), second: Self.readings(second))
        snapshot.ctnetlink.table = second.count
        if let expectations = second.expectations.value, var facts = snapshot.ctnetlink.expectations.value {
            facts.count = expectations
            snapshot.ctnetlink.expectations = .value(facts)
        }
        return snapshot
    }

    /// A watch reading in the shape `--sample` records, the counters under the source they came from.
    static func readings(_ reading: WatchReading) -> CounterReadings {
        let summed = reading.cpus.map(\.summed)
        let fromNetlink = reading.cpus.value?.viaCtnetlink ?? false
        let notRead: Reading<ConntrackStats> = .absent("not read by watch")
        return CounterReadings(
            netlink: fromNetlink ? summed : notRead, procfs: fromNetlink ? notRead : summed, table: reading.count,
            sysctlCount: reading.count.map(\.entries))
    }
}
