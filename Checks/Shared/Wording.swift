import DoctorCore

/// Plain wording for numbers, spans and module states, so every check says them the same way.
enum Wording {
    /// "432000 s (5 days)", "90000 s (1 day 1 hour)", "30 s".
    static func seconds(_ n: Int) -> String {
        n < 60 ? "\(n) s" : "\(n) s (\(span(Double(n))))"
    }

    /// The same for a measured span, rounded; any Double (NaN, inf, 1e308) is worded, never converted blindly.
    static func seconds(_ x: Double) -> String {
        guard let n = whole(x.rounded()) else { return "\(wholeSeconds(x)) s" }
        return seconds(n)
    }

    /// The Double as a whole number when one fits in an Int, else nil (NaN, ±inf, beyond ±2^63).
    static func whole(_ x: Double) -> Int? {
        guard x.isFinite, x > -9.2e18, x < 9.2e18 else { return nil }
        return Int(x)
    }

    /// "1234", or the number as written when it is not a whole number an Int holds ("nan", "1e+308").
    static func wholeSeconds(_ x: Double) -> String {
        whole(x).map(String.init) ?? "\(x)"
    }

    /// "5 days", "1 day 1 hour", "2 hours", "10 minutes": the two largest units.
    static func span(_ seconds: Double) -> String {
        guard let total = whole(seconds) else { return "\(seconds) seconds" }
        let units: [(Int, String)] = [(86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
        var rest = total.magnitude
        var parts: [String] = []
        for (size, name) in units where parts.count < 2 {
            let count = rest / UInt(size)
            rest -= count * UInt(size)
            if count > 0 { parts.append("\(count) \(name)\(count == 1 ? "" : "s")") }
            else if !parts.isEmpty { break }
        }
        return parts.isEmpty ? "0 seconds" : (total < 0 ? "minus " : "") + parts.joined(separator: " ")
    }

    /// "1.2/s", "120/s", "0.05/s".
    static func rate(_ perSecond: Double) -> String {
        let digits = perSecond >= 100 ? 0 : perSecond >= 1 ? 1 : 2
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (perSecond * scale).rounded() / scale
        let text = digits == 0 ? (whole(rounded).map(String.init) ?? "\(rounded)") : String(rounded)
        return text + "/s"
    }

    /// "512 MiB", "4.0 MiB", "900 KiB".
    static func bytes(_ n: Int) -> String {
        let mib = Double(n) / 1_048_576
        if mib >= 100 { return "\(Int(mib.rounded())) MiB" }
        if mib >= 1 { return "\((mib * 10).rounded() / 10) MiB" }
        return "\(Int((Double(n) / 1024).rounded())) KiB"
    }

    /// Whole percent, rounded down so a value just under a threshold never reads as the threshold.
    static func percent(_ ratio: Double) -> String {
        "\(whole((ratio * 100).rounded(.down)).map(String.init) ?? "\(ratio * 100)")%"
    }

    /// "net.netfilter.nf_conntrack_log_invalid = 6 (TCP)", or why it has no value.
    static func logInvalid(_ reading: SysctlReading<LogInvalid>) -> String {
        switch reading {
        case .value(let log): "\(SysctlKey.logInvalid.name) = \(log.description)"
        case let other: "\(SysctlKey.logInvalid.name) \(Wording.reading(other))"
        }
    }

    /// "nf_log_syslog built into the kernel (modules.builtin)".
    static func module(_ name: String, _ status: ModuleStatus) -> String {
        let state = switch status.state {
        case .loaded: "loaded"
        case .builtIn: "built into the kernel"
        case .available: "not loaded, loadable"
        case .missing: "not on this kernel"
        case .unknown: "in an unknown state"
        }
        return "\(name) \(state) (\(status.evidence))"
    }

    /// "value", or "(not visible: why)" when the sysctl has none.
    static func reading<V>(_ reading: SysctlReading<V>) -> String {
        switch reading {
        case .value(let v): "\(v)"
        case .absent(let why): "(absent: \(why))"
        case .hidden(let why): "(not visible: \(why))"
        case .error(let why): "(error: \(why))"
        }
    }

    /// "value", or "(absent: why)" when the reading has none.
    static func reading<V>(_ reading: Reading<V>) -> String {
        switch reading {
        case .value(let v): "\(v)"
        case .absent(let why): "(absent: \(why))"
        case .denied(let why): why.hasPrefix(Reading<V>.notCollectedPrefix) ? "(\(why))" : "(denied: \(why))"
        case .failed(let why): "(failed: \(why))"
        }
    }
}
