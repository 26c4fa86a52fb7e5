/// One netfilter sysctl as the checks see it: parsed once, with bounds, at the snapshot boundary.
///
/// The cases keep apart what a health check must never confuse: a key this kernel does not have (not-applicable),
/// a key the kernel has but that cannot be seen from here (a container hiding it, a sosreport that did not collect
/// it, a file not permitted: skipped, never 0 and never a pass), and a value no kernel can hold (error).
public enum SysctlReading<Value: Sendable & Equatable>: Sendable, Equatable {
    case value(Value)
    /// Not present on this kernel; the text says why it is not (removed, not loaded, …).
    case absent(String)
    /// Present on the kernel but not visible here; the text says why and what would make it visible.
    case hidden(String)
    /// Read, but unusable: a read error, or a value out of the range the kernel holds; the text says which.
    case error(String)

    public var value: Value? {
        if case .value(let v) = self { return v }
        return nil
    }

    /// Why there is no value, or nil when there is one.
    public var problem: String? {
        switch self {
        case .value: nil
        case .absent(let why), .hidden(let why), .error(let why): why
        }
    }

    public func map<T>(_ transform: (Value) -> T) -> SysctlReading<T> {
        flatMap { .value(transform($0)) }
    }

    public func flatMap<T>(_ transform: (Value) -> SysctlReading<T>) -> SysctlReading<T> {
        switch self {
        case .value(let v): transform(v)
        case .absent(let why): .absent(why)
        case .hidden(let why): .hidden(why)
        case .error(let why): .error(why)
        }
    }
}

extension SysctlReading where Value: Codable {
    /// As a plain `Reading`, for model fields that hold one: hidden becomes denied, error becomes failed.
    public var reading: Reading<Value> {
        switch self {
        case .value(let v): .value(v)
        case .absent(let why): .absent(why)
        case .hidden(let why): .denied(why)
        case .error(let why): .failed(why)
        }
    }
}

extension SysctlKey {
    /// The value of `text` if it is a whole number the kernel can hold for this key; otherwise an error saying why.
    /// Never traps: 2^63, -2^63-1, NaN, inf and 1e308 are all just errors.
    public func parse(_ text: String) -> SysctlReading<Int> {
        let trimmed = text.trimmingWhitespace()
        let digits = trimmed.hasPrefix("-") || trimmed.hasPrefix("+") ? trimmed.dropFirst() : Substring(trimmed)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return .error("\(name) = \"\(trimmed)\" is not a whole number")
        }
        guard let n = Int(trimmed), range.contains(n) else {
            return .error("\(name) = \(trimmed) is outside the values the kernel holds for it (\(range.lowerBound)…\(range.upperBound))")
        }
        return .value(n)
    }
}

extension HostSnapshot {
    /// The text of `key` as the kernel printed it (trimmed), or why there is none.
    public func sysctlText(_ key: SysctlKey) -> SysctlReading<String> {
        switch sysctls.entries {
        case .value(let table):
            guard let entry = table[key.name] else { return missing(key, table: table) }
            switch entry.value {
            case .value(let text): return .value(text)
            case .absent(let why): return .absent(why)
            case .denied(let why): return .hidden("\(key.name) could not be read: \(why)")
            case .failed(let why): return .error("\(key.name) could not be read: \(why)")
            }
        case .absent(let why):
            if let uncollected = sysctls.uncollected { return .hidden("\(key.name) is not in this collection: \(uncollected)") }
            return missing(key, table: [:], listing: why)
        case .denied(let why): return .hidden("\(key.name) is not visible: \(why)")
        case .failed(let why): return .error("\(key.name) could not be listed: \(why)")
        }
    }

    /// The whole-number value of `key`, within the range the kernel holds, or why there is none.
    public func sysctl(_ key: SysctlKey) -> SysctlReading<Int> {
        sysctlText(key).flatMap(key.parse)
    }

    /// A key missing from a listing that exists: not on this kernel, or on it but not shown here.
    private func missing(_ key: SysctlKey, table: [String: SysctlEntry], listing problem: String? = nil) -> SysctlReading<String> {
        let notHere = problem.map { " (\($0))" } ?? ""
        if key.scope == .initialNamespaceOnly, host.netns.initial != true {
            let which = host.netns.initial == false
                ? "this is not the initial network namespace"
                : "whether this is the initial network namespace is unknown (\(host.netns.basis))"
            return .hidden("\(key.name) exists only in the initial network namespace, and \(which): read it on the host")
        }
        if let removed = key.removedIn, let version = host.kernelVersion, version >= removed {
            return .absent("\(key.name) does not exist on this kernel (removed in Linux \(removed.major).\(removed.minor))")
        }
        if key.owner == .conntrack, !conntrackSysctlsVisible(table), let active = conntrackSeen {
            return .hidden("""
                \(key.name) is not visible here although nf_conntrack is active (\(active)): an unprivileged \
                container on Linux 5.0–5.6 hides nf_conntrack's sysctls, and a collection may leave them out; read \
                it on the host
                """.trimmingWhitespace())
        }
        return .absent("\(key.name) is not present on this kernel\(notHere)")
    }

    /// nf_conntrack registers nf_conntrack_count and nf_conntrack_max with every other key of its own, so either
    /// one tells that its keys are shown (nf_conntrack_frag6_* belong to IPv6 defragmentation and tell nothing).
    private func conntrackSysctlsVisible(_ table: [String: SysctlEntry]) -> Bool {
        table[SysctlKey.conntrackCount.name] != nil || table[SysctlKey.conntrackMax.name] != nil
    }

    /// What shows that connection tracking is active when its sysctls do not: the module, or a datapath's own
    /// conntrack statistics; nil when nothing does.
    public var conntrackSeen: String? {
        let status = modules.status("nf_conntrack")
        if status.isPresent { return "nf_conntrack \(status.state == .loaded ? "loaded" : "built in"), per \(status.evidence)" }
        if let ovs = datapathConntrack?.value, ovs.total > 0 {
            return "Open vSwitch's datapath tracks \(ovs.total) connections, per \(ovs.source)"
        }
        return nil
    }
}

extension HostSnapshot {
    /// Snapshots of several namespaces (`--all-netns`): the initial namespace's readings of the keys only it shows
    /// are handed to the others, so their checks can judge what the host decides for them.
    public static func sharingInitialNamespaceKeys(_ snapshots: [HostSnapshot]) -> [HostSnapshot] {
        guard let initial = snapshots.first(where: { $0.host.netns.initial == true }) else { return snapshots }
        var shared: [String: SysctlEntry] = [:]
        for key in SysctlKey.named where key.scope == .initialNamespaceOnly {
            guard var entry = initial.sysctls.entry(key.name) else { continue }
            entry.source = "\(entry.source ?? key.path) in the initial namespace (\(initial.host.netns.found ?? "read by --all-netns"))"
            shared[key.name] = entry
        }
        guard !shared.isEmpty else { return snapshots }
        return snapshots.map { snapshot in
            guard snapshot.host.netns.initial != true else { return snapshot }
            var copy = snapshot
            copy.initialNamespaceSysctls = shared
            return copy
        }
    }

    /// A key only the initial namespace shows, as `--all-netns` read it there; nil without such a reading.
    public func initialNamespaceSysctl(_ key: SysctlKey) -> (value: SysctlReading<Int>, source: String)? {
        guard let entry = initialNamespaceSysctls?[key.name] else { return nil }
        let value: SysctlReading<Int> = entry.value.value.map(key.parse) ?? .error("\(key.name) could not be read in the initial namespace: \(entry.value.problem ?? "")")
        return (value, entry.source ?? key.path)
    }
}
