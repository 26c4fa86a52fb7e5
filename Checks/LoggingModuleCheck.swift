import DoctorCore

public struct LoggingModuleCheck: Check {
    public let info = CheckInfo(
        id: "logging.module",
        title: "A syslog logger exists for the families conntrack logs",
        weight: 10,
        rationale: """
            A family can only be bound to a logger that is registered in /proc/net/netfilter/nf_log. The syslog \
            loggers (nf_log_ipv4, nf_log_ipv6, nf_log_bridge) come from the module nf_log_syslog since Linux \
            5.13 and from separate modules (nf_log_ipv4, nf_log_ipv6 with nf_log_common) before. Setting \
            nf_conntrack_log_invalid does not load them (6.17 and later load nf_log_syslog only when no logger \
            at all is registered). The check looks at the families logging is wanted for and says whether the \
            logger is there, loadable, or missing from this kernel; with nf_conntrack_log_invalid = 0 it does not apply.
            """,
        references: [
            References.conntrackSysctls,
            References.netfilterSysctls,
            References.ulogd,
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        guard case .value = snapshot.nfLog.families else {
            return info.unreadable(snapshot.nfLog.families, what: Source.nfLogRegistry)
        }
        let wants = snapshot.logInvalid
        guard let log = wants.value else { return info.unreadable(wants) }
        let families = snapshot.loggedFamilies(log)
        guard !families.isEmpty else {
            return info.notApplicable(
                "\(Wording.logInvalid(wants)): conntrack asks for no log lines, so no syslog logger is needed; logging.log-invalid judges the setting",
                evidence: [Source.sysctl(.logInvalid, snapshot), Source.nfLog(pf: NFProtoFamily.ipv4, snapshot)])
        }
        let loggers = families.map { SyslogLogger(pf: $0) }
        let modules = Set(loggers.flatMap { [SyslogLogger.mergedModule, $0.name] }).sorted()
        let evidence = [Source.sysctl(.logInvalid, snapshot)]
            + loggers.map { Source.nfLog(pf: $0.pf, snapshot) }
            + modules.map { Source.module($0, snapshot) }
        let expected = loggers.map { "a syslog logger registered for \($0.family) (\($0.name))" }.joined(separator: " and ")
        let context = "\(Wording.logInvalid(wants)) asks for INVALID packet logging"

        var registered: [String] = []
        var loadable: [SyslogLogger] = []
        var unavailable: [SyslogLogger] = []
        for logger in loggers {
            switch logger.availability(snapshot) {
            case .registered:
                registered.append("\(logger.name) registered for \(logger.family), provided by \(logger.providedBy(snapshot))")
            case .loadable: loadable.append(logger)
            case .unavailable: unavailable.append(logger)
            case .registryUnreadable:
                return info.unreadable(snapshot.nfLog.families, what: Source.nfLogRegistry)
            }
        }
        let loadGroups = SyslogLogger.byModule(loadable, snapshot)
        let loads = loadGroups.map { module, loggers in
            RemediationStep.modprobe(
                module,
                purpose: "Load \(module), which registers \(SyslogLogger.names(loggers)) (and binds them wherever their family is still unbound).")
        }
        let observed = registered
            + loadGroups.map { module, loggers in
                "\(SyslogLogger.names(loggers)) \(loggers.count == 1 ? "is" : "are") not registered; "
                    + Wording.module(module, snapshot.modules.status(module))
            }
            + SyslogLogger.byModule(unavailable, snapshot).map { module, loggers in
                "\(SyslogLogger.names(loggers)) \(loggers.count == 1 ? "is" : "are") not registered and \(Wording.module(module, snapshot.modules.status(module)))"
            }

        if loadable.isEmpty && unavailable.isEmpty {
            return info.pass(
                observed: observed.joined(separator: "; "),
                expected: expected,
                explanation: "\(context); the syslog logger it needs is registered, so binding it (logging.backend) will work.",
                evidence: evidence)
        }

        let steps = loads + unavailable.map { advice(for: $0, snapshot) }
        return info.fail(
            unavailable.isEmpty ? .warning : .error,
            observed: observed.joined(separator: "; "),
            expected: expected,
            explanation: unavailable.isEmpty
                ? """
                    \(context), but no syslog logger is registered for \(loadable.map(\.family).joined(separator: " and ")), so \
                    no binding can point at one and nothing is printed. The module is on disk but not loaded: \
                    since 5.13 nf_log_syslog provides nf_log_ipv4 and nf_log_ipv6 (before, separate modules did), \
                    and setting nf_conntrack_log_invalid does not load it (6.17 and later do so only when no \
                    logger at all is registered).
                    """
                : """
                    \(context), but there is no syslog logger on this kernel for \
                    \(unavailable.map(\.family).joined(separator: " and ")): neither registered nor loadable as a \
                    module, so INVALID lines can never reach the kernel log. nfnetlink_log can take its place: \
                    bound to the family it sends the lines to netlink group 0, where ulogd2 can read them.
                    """,
            evidence: evidence,
            remediation: Remediation(
                summary: unavailable.isEmpty ? "Load the syslog logger module." : "Log through nfnetlink_log, or use a kernel with nf_log_syslog.",
                steps: steps))
    }

    private func advice(for logger: SyslogLogger, _ snapshot: HostSnapshot) -> RemediationStep {
        let netlink = snapshot.modules.status(SyslogLogger.netlinkLogger)
        guard logger.netlinkLoggerRegistered(snapshot) || netlink.isPresent || netlink.state == .available else {
            return .advice("""
                No \(logger.family) logger exists on this kernel: use a kernel built with CONFIG_NF_LOG_SYSLOG \
                (or CONFIG_NETFILTER_NETLINK_LOG for nfnetlink_log).
                """)
        }
        let load = netlink.state == .available && !logger.netlinkLoggerRegistered(snapshot) ? "load it (`modprobe nfnetlink_log`), " : ""
        return .advice("""
            Use nfnetlink_log for \(logger.family) instead: \(load)bind it with \
            `sysctl -w \(SysctlKey.nfLogBinding(logger.pf))=nfnetlink_log` and read netlink group 0 with ulogd2.
            """)
    }
}
