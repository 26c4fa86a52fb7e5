import DoctorCore

public struct LoggingBackendCheck: Check {
    public let info = CheckInfo(
        id: "logging.backend",
        title: "A logger is bound for the families conntrack logs",
        weight: 10,
        rationale: """
            nf_conntrack_log_invalid only selects INVALID packets for logging; the lines are written by whatever \
            logger is bound to the packet's protocol family in net.netfilter.nf_log.<pf> (2 IPv4, 10 IPv6). \
            With the binding at NONE, nf_log_packet has nowhere to send them and nothing is printed, which makes \
            "I turned on log_invalid and see nothing" a common dead end. Bindings are per network namespace. \
            The check applies only when logging is wanted (not-applicable with nf_conntrack_log_invalid = 0), and proposes loading the logger's module first when it \
            is modular and not loaded.
            """,
        references: [
            References.conntrackSysctls,
            References.netfilterSysctls,
            References.ulogd,
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.logInvalid
        let wantedEvidence = Source.sysctl(.logInvalid, snapshot)
        guard let log = reading.value else { return info.unreadable(reading) }
        guard log.logsAnything else { return nothingAsked(log, reading, wantedEvidence, snapshot) }

        var bindings: [(pf: Int, value: String)] = []
        let families = snapshot.loggedFamilies(log)
        for pf in families {
            let binding = snapshot.sysctlText(.nfLogBinding(pf))
            guard let value = binding.value else { return info.unreadable(binding) }
            bindings.append((pf, value))
        }
        let evidence = [wantedEvidence]
            + bindings.map { Source.sysctl(.nfLogBinding($0.pf), snapshot) }
            + bindings.map { Source.nfLog(pf: $0.pf, snapshot) }
        let unbound = bindings.filter { $0.value == "NONE" }.map(\.pf)
        let expected = families
            .map { "an \(NFProtoFamily.name($0)) logger bound (\(SyslogLogger(pf: $0).name))" }
            .joined(separator: " and ")

        guard !unbound.isEmpty else {
            let viaNetlink = bindings.contains { $0.value == SyslogLogger.netlinkLogger }
            return info.pass(
                observed: bindings.map { "\(SysctlKey.nfLogBinding($0.pf).name) = \($0.value)" }.joined(separator: ", "),
                expected: expected,
                explanation: """
                    \(Wording.logInvalid(reading)) selects INVALID packets for logging, and every family it logs has \
                    a bound logger, so nf_log_packet can write the lines.\(viaNetlink ? " Families bound to nfnetlink_log send them to netlink group 0 (read with ulogd2), not to the kernel log." : "")
                    """,
                evidence: evidence)
        }
        return fail(unbound, observed: Wording.logInvalid(reading), expected: expected, evidence: evidence, snapshot)
    }

    /// Nothing selects INVALID packets for logging: no binding is needed, and the finding says which ones exist
    /// rather than claiming a logger is bound.
    private func nothingAsked(_ log: LogInvalid, _ reading: SysctlReading<LogInvalid>, _ wanted: Evidence, _ snapshot: HostSnapshot) -> Finding {
        let families = [NFProtoFamily.ipv4, NFProtoFamily.ipv6]
        let bindings = families.map { "\(SysctlKey.nfLogBinding($0).name) = \(Wording.reading(snapshot.sysctlText(.nfLogBinding($0))))" }
        let why = log.selection == .off ? "conntrack logs nothing" : "protocol \(log.protocolNumber) never has a packet marked INVALID"
        return info.notApplicable(
            "\(Wording.logInvalid(reading)): \(why), so no logger needs to be bound (\(bindings.joined(separator: ", "))); logging.log-invalid judges the setting",
            evidence: [wanted] + families.map { Source.sysctl(.nfLogBinding($0), snapshot) })
    }

    private func fail(
        _ unbound: [Int], observed wanted: String, expected: String, evidence: [Evidence], _ snapshot: HostSnapshot
    ) -> Finding {
        var loadable: [SyslogLogger] = []
        var binds: [RemediationStep] = []
        var notes: [String] = []
        var modules: [String] = []

        for pf in unbound {
            let logger = SyslogLogger(pf: pf)
            let key = SysctlKey.nfLogBinding(pf)
            let bindSyslog = RemediationStep.sysctl(
                key, logger.name, previous: "NONE",
                purpose: "Bind \(logger.name) for \(logger.family) so conntrack's INVALID lines reach the kernel log; the binding is per network namespace.")
            switch logger.availability(snapshot) {
            case .registered:
                binds.append(bindSyslog)
            case .loadable(let module):
                modules.append(module)
                loadable.append(logger)
                binds.append(bindSyslog)
            case .registryUnreadable(let why):
                notes.append("""
                    The nf_log registry (\(Source.nfLogRegistry)) could not be read (\(why)), so ctdoctor did not \
                    decide whether \(logger.name) must be loaded first; if the binding fails with "No such file or \
                    directory", run `modprobe \(logger.module(snapshot))` and try again.
                    """)
                binds.append(bindSyslog)
            case .unavailable(let module):
                modules.append(module)
                if logger.netlinkLoggerRegistered(snapshot) {
                    notes.append("""
                        No \(logger.family) syslog logger is registered and \(Wording.module(module, snapshot.modules.status(module))), \
                        so the fix binds nfnetlink_log instead: the lines then go to nfnetlink_log group 0, not to \
                        the kernel log; read them with ulogd2 or another NFLOG group 0 listener.
                        """)
                    binds.append(.sysctl(
                        key, SyslogLogger.netlinkLogger, previous: "NONE",
                        purpose: "Bind nfnetlink_log for \(logger.family); INVALID lines then go to netlink group 0 (read with ulogd2)."))
                } else {
                    notes.append("No \(logger.family) logger is registered and none can be loaded (\(Wording.module(module, snapshot.modules.status(module)))); see logging.module.")
                    binds.append(.advice("""
                        Make a \(logger.family) logger available (\(module), or nfnetlink_log with ulogd2), then bind \
                        it with `sysctl -w \(key)=<logger>`.
                        """))
                }
            }
        }

        let loads = SyslogLogger.byModule(loadable, snapshot).map { module, loggers in
            RemediationStep.modprobe(module, purpose: "Load \(module), which provides \(SyslogLogger.names(loggers)); it is modular and not loaded.")
        }
        let unboundText = unbound.map { "\(SysctlKey.nfLogBinding($0).name) = NONE" }.joined(separator: ", ")
        let families = unbound.map(NFProtoFamily.name).joined(separator: " and ")
        return info.fail(
            .warning,
            observed: unboundText,
            expected: expected,
            explanation: ([
                """
                \(wanted) selects INVALID packets for logging, but nf_log_packet has no logger bound for \
                \(families) (\(unboundText)), so nothing is printed: the packets are still counted as INVALID and \
                their reason is lost. Bindings are per network namespace and are lost at reboot.
                """,
            ] + notes).joined(separator: " "),
            evidence: evidence + Self.unique(modules).map { Source.module($0, snapshot) },
            remediation: Remediation(summary: "Bind a logger for \(families).", steps: loads + binds))
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
