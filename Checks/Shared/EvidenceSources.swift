import DoctorCore

/// The files and counters findings cite, as evidence entries.
enum Source {
    static let nfLogRegistry = SourcePath.nfLogRegistry
    static let uptime = SourcePath.uptime

    /// The sysctl as read, cited by where it was read (its /proc/sys file, or a sosreport's file and line).
    /// `scoped` adds whether the key is global or this namespace's, where a reader could mistake one for the other.
    static func sysctl(_ key: SysctlKey, _ snapshot: HostSnapshot, scoped: Bool = false) -> Evidence {
        let value = Wording.reading(snapshot.sysctlText(key))
        let source = snapshot.sysctls.entry(key.name)?.source ?? key.path
        return Evidence(source, scoped ? "\(value) (\(key.scopeText))" : value)
    }

    /// The registry row as the kernel prints it: "2 NONE (nf_log_ipv4,nfnetlink_log)".
    static func nfLog(pf: Int, _ snapshot: HostSnapshot) -> Evidence {
        guard case .value = snapshot.nfLog.families else {
            return Evidence(nfLogRegistry, Wording.reading(snapshot.nfLog.families))
        }
        guard let row = snapshot.nfLog.family(pf) else { return Evidence(nfLogRegistry, "no row for pf \(pf)") }
        return Evidence(nfLogRegistry, "\(pf) \(row.bound ?? "NONE") (\(row.registered.joined(separator: ",")))")
    }

    static func module(_ name: String, _ snapshot: HostSnapshot) -> Evidence {
        let status = snapshot.modules.status(name)
        return Evidence(status.evidence, "\(name): \(status.state.rawValue)")
    }

    static func counter(_ name: String, _ snapshot: HostSnapshot) -> Evidence {
        switch Counters.totals(snapshot) {
        case .value(let stats): Evidence(stats.source, "\(name) = \(stats.counters[name].map(String.init) ?? "(not reported)")")
        case let other: Evidence("conntrack statistics", Wording.reading(other))
        }
    }

    static func uptime(_ snapshot: HostSnapshot) -> Evidence {
        Evidence(snapshot.host.uptimeSource ?? uptime, Wording.reading(snapshot.host.uptimeSeconds.map { Wording.wholeSeconds($0) + " s" }))
    }

    static func netns(_ snapshot: HostSnapshot) -> Evidence {
        let netns = snapshot.host.netns
        let initial = netns.initial.map { $0 ? "initial" : "not initial" } ?? "unknown"
        return Evidence("/proc/self/ns/net", "\(initial) (\(netns.basis))")
    }
}
