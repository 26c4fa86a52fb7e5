import DoctorCore

/// The syslog logger of one protocol family (`nf_log_ipv4` for IPv4) and the module that provides it.
///
/// Since 5.13 every syslog logger lives in the module `nf_log_syslog`, which keeps the old names as
/// logger names and module aliases; before 5.13 each had its own module (nf_log_ipv4, … plus nf_log_common).
struct SyslogLogger {
    static let mergedModule = "nf_log_syslog"
    static let mergedSince = KernelVersion(5, 13)
    static let netlinkLogger = "nfnetlink_log"

    let pf: Int

    /// The logger name, which was also the module name before 5.13.
    var name: String {
        switch pf {
        case NFProtoFamily.ipv4: "nf_log_ipv4"
        case NFProtoFamily.ipv6: "nf_log_ipv6"
        case NFProtoFamily.bridge: "nf_log_bridge"
        case NFProtoFamily.arp: "nf_log_arp"
        case NFProtoFamily.netdev: "nf_log_netdev"
        default: "nf_log_pf\(pf)"
        }
    }

    var family: String { NFProtoFamily.name(pf) }

    /// Whether the nf_log registry lists this logger for its family; nil when the registry is unreadable.
    func isRegistered(_ snapshot: HostSnapshot) -> Bool? {
        guard case .value = snapshot.nfLog.families else { return nil }
        return snapshot.nfLog.family(pf)?.registered.contains(name) ?? false
    }

    /// Whether nfnetlink_log is registered for this family (it needs no binding to exist).
    func netlinkLoggerRegistered(_ snapshot: HostSnapshot) -> Bool {
        snapshot.nfLog.family(pf)?.registered.contains(Self.netlinkLogger) ?? false
    }

    /// The module to load for this logger: whichever is on disk, else the one this kernel version uses.
    func module(_ snapshot: HostSnapshot) -> String {
        if snapshot.modules.status(Self.mergedModule).state == .available { return Self.mergedModule }
        if snapshot.modules.status(name).state == .available { return name }
        if let version = snapshot.host.kernelVersion, version >= Self.mergedSince { return Self.mergedModule }
        return name
    }

    /// The module that provides the logger now (loaded or built in), if one can be named.
    func provider(_ snapshot: HostSnapshot) -> String? {
        [Self.mergedModule, name].first { snapshot.modules.status($0).isPresent }
    }

    enum Availability: Equatable {
        case registered
        /// Not registered; the module is modular and not loaded, so `modprobe` brings it.
        case loadable(module: String)
        /// Not registered and no module to load (missing, unknown, or present without this family).
        case unavailable(module: String)
        /// The registry could not be read; the text says why.
        case registryUnreadable(String)
    }

    func availability(_ snapshot: HostSnapshot) -> Availability {
        guard let registered = isRegistered(snapshot) else {
            return .registryUnreadable(snapshot.nfLog.families.problem ?? "unreadable")
        }
        if registered { return .registered }
        let module = module(snapshot)
        return snapshot.modules.status(module).state == .available ? .loadable(module: module) : .unavailable(module: module)
    }

    /// "nf_log_syslog built into the kernel (modules.builtin)": how the logger is provided now.
    func providedBy(_ snapshot: HostSnapshot) -> String {
        if let provider = provider(snapshot) { return Wording.module(provider, snapshot.modules.status(provider)) }
        let module = module(snapshot)
        return "a module ctdoctor could not identify (\(Wording.module(module, snapshot.modules.status(module))))"
    }

    /// Loggers grouped by the module that would provide them, in the order first seen: one modprobe each.
    static func byModule(_ loggers: [SyslogLogger], _ snapshot: HostSnapshot) -> [(module: String, loggers: [SyslogLogger])] {
        var groups: [(module: String, loggers: [SyslogLogger])] = []
        for logger in loggers {
            let module = logger.module(snapshot)
            if let i = groups.firstIndex(where: { $0.module == module }) { groups[i].loggers.append(logger) }
            else { groups.append((module, [logger])) }
        }
        return groups
    }

    /// "nf_log_ipv4 (IPv4) and nf_log_ipv6 (IPv6)".
    static func names(_ loggers: [SyslogLogger]) -> String {
        loggers.map { "\($0.name) (\($0.family))" }.joined(separator: " and ")
    }
}
