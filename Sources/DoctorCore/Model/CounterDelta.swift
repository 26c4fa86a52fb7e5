/// How much conntrack's counters rose between two readings, and how fast: the one computation behind
/// `check --sample` and `watch`.
public enum CounterDelta {
    /// `second − first` for a counter that may have wrapped once in between: the kernel's per-CPU counters are
    /// u32, so a reading that went down wrapped at 2^32.
    public static func delta(from first: UInt64, to second: UInt64) -> UInt64 {
        second >= first ? second - first : second &+ (1 << 32) &- first
    }

    /// The rise of every counter named in both readings.
    public static func deltas(from first: [String: UInt64], to second: [String: UInt64]) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for (name, value) in second {
            if let before = first[name] { out[name] = delta(from: before, to: value) }
        }
        return out
    }

    /// Per second; 0 for an empty or negative span (the rise is then reported as a count only).
    public static func rate(_ delta: UInt64, seconds: Double) -> Double {
        seconds > 0 && seconds.isFinite ? Double(delta) / seconds : 0
    }
}
