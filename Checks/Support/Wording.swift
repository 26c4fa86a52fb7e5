import DoctorCore

/// Plain wording for numbers, spans and module states, so every check says them the same way.
enum Wording {
    /// "432000 s (5 days)", "90000 s (1 day 1 hour)", "30 s".
    static func seconds(_ n: Int) -> String {
        n < 60 ? "\(n) s" : "\(n) s (\(span(Double(n))))"
    }

    /// "5 days", "1 day 1 hour", "2 hours", "10 minutes": the two largest units.
    static func span(_ seconds: Double) -> String {
        let units: [(Int, String)] = [(86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")]
        var rest = Int(seconds)
        var parts: [String] = []
        for (size, name) in units where parts.count < 2 {
            let count = rest / size
            rest -= count * size
            if count > 0 { parts.append("\(count) \(name)\(count == 1 ? "" : "s")") }
            else if !parts.isEmpty { break }
        }
        return parts.isEmpty ? "0 seconds" : parts.joined(separator: " ")
    }

    /// "1.2/s", "120/s", "0.05/s".
    static func rate(_ perSecond: Double) -> String {
        let digits = perSecond >= 100 ? 0 : perSecond >= 1 ? 1 : 2
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (perSecond * scale).rounded() / scale
        let text = digits == 0 ? String(Int(rounded)) : String(rounded)
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
        "\(Int((ratio * 100).rounded(.down)))%"
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

    /// "value", or "(absent: why)" when the reading has none.
    static func reading<V>(_ reading: Reading<V>) -> String {
        switch reading {
        case .value(let v): "\(v)"
        case .absent(let why): "(absent: \(why))"
        case .denied(let why): "(denied: \(why))"
        case .failed(let why): "(failed: \(why))"
        }
    }
}
