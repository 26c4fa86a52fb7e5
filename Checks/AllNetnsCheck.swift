import DoctorCore

public struct AllNetnsCheck: Check {
    public let info = CheckInfo(
        id: "logging.all-netns",
        title: "Log lines from this network namespace reach the kernel log",
        weight: 6,
        rationale: """
            The syslog loggers (nf_log_syslog) drop every line that comes from a network namespace other than \
            the initial one unless the host sets net.netfilter.nf_log_all_netns = 1 (Linux 4.11 and later). \
            So LOG rules, legacy TRACE and nf_conntrack_log_invalid in a container print nothing by default, \
            while the same setup on the host works. The key exists only in the initial namespace, so from inside \
            a container ctdoctor cannot read it and says what to check on the host. nfnetlink_log is not \
            subject to this suppression.
            """,
        references: [
            References.netfilterSysctls,
            References.conntrackSysctls,
        ])

    public init() {}

    static let key = SysctlKey.logAllNetns

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.sysctl(Self.key)
        let keyPresent = snapshot.sysctls.entry(Self.key.name) != nil
        let evidence = [Source.sysctl(Self.key, snapshot), Source.netns(snapshot), Source.sysctl(.logInvalid, snapshot)]

        if snapshot.host.netns.initial == true || keyPresent {
            return initial(reading, keyPresent: keyPresent, evidence: evidence)
        }

        let wants = snapshot.logInvalid
        guard let log = wants.value else { return info.unreadable(wants) }
        let observed = Wording.logInvalid(wants)
        if !log.logsAnything {
            return info.pass(
                observed: "\(observed) in this (non-initial) network namespace: it asks for no conntrack log lines, so the host's nf_log_all_netns does not matter here",
                expected: "nf_log_all_netns = 1 on the host only if this namespace's log lines are wanted",
                explanation: """
                    Syslog loggers drop lines from non-initial namespaces unless the host sets \
                    nf_log_all_netns = 1, but nothing here asks conntrack to log, so there is nothing to lose.
                    """,
                evidence: evidence)
        }
        let families = snapshot.loggedFamilies(log)
        let bindings = families.map { snapshot.sysctlText(.nfLogBinding($0)).value }
        if !bindings.isEmpty, bindings.allSatisfy({ $0 == SyslogLogger.netlinkLogger }) {
            return info.pass(
                observed: "every family logged here is bound to nfnetlink_log, which the host's nf_log_all_netns does not restrict",
                expected: "nf_log_all_netns = 1 on the host only if syslog loggers are used here",
                explanation: """
                    \(observed), and every family it logs is bound to nfnetlink_log. Only the syslog \
                    loggers drop lines from non-initial namespaces; nfnetlink_log delivers them to netlink \
                    group 0 in this namespace whatever the host sets.
                    """,
                evidence: evidence + families.map { Source.sysctl(.nfLogBinding($0), snapshot) })
        }

        if let host = snapshot.initialNamespaceSysctl(Self.key) {
            return judgedOnTheHost(host.value, source: host.source, observed: observed, evidence: evidence)
        }
        let unsure = snapshot.host.netns.initial == nil
            ? " (the key is missing here and whether this is the initial namespace is unknown: \(snapshot.host.netns.basis))"
            : ""
        return info.skipped(
            "nf_log_all_netns cannot be read from a non-initial network namespace\(unsure)",
            explanation: """
                \(observed) asks for INVALID packet lines in this namespace, but syslog loggers drop lines \
                from non-initial namespaces unless the host sets nf_log_all_netns = 1 (kernel 4.11 and later). \
                The lines this namespace asks for therefore reach the kernel log only if the host set it, and the \
                key can only be read there: check it on the host (`sysctl net.netfilter.nf_log_all_netns`), or \
                bind nfnetlink_log here, which is not suppressed.
                """,
            evidence: evidence,
            remediation: Self.hostRemediation)
    }

    /// Under `--all-netns` the initial namespace's value was read: the verdict for this namespace follows from it.
    private func judgedOnTheHost(_ value: SysctlReading<Int>, source: String, observed wanted: String, evidence: [Evidence]) -> Finding {
        guard let value = value.value else { return info.unreadable(value) }
        let hostEvidence = evidence + [Evidence(source, String(value))]
        guard value == 0 else {
            return info.pass(
                observed: "nf_log_all_netns = \(value) on the host (\(source)): this namespace's log lines reach the kernel log",
                expected: "nf_log_all_netns = 1 on the host while this namespace asks for log lines",
                explanation: "\(wanted) asks for INVALID packet lines, and the host lets syslog loggers print lines from every namespace.",
                evidence: hostEvidence)
        }
        return info.fail(
            .warning,
            observed: "nf_log_all_netns = 0 on the host (\(source)), while \(wanted) asks for log lines here",
            expected: "nf_log_all_netns = 1 on the host while this namespace asks for log lines",
            explanation: """
                \(wanted) selects INVALID packets for logging in this namespace, but the host's nf_log_all_netns is 0, \
                so the syslog logger drops every line this namespace sends: the packets are counted and their reason \
                is lost. nf_log_all_netns is global and can be set only in the initial namespace; nfnetlink_log, \
                bound here instead, is not suppressed.
                """,
            evidence: hostEvidence,
            remediation: Self.hostRemediation)
    }

    /// Setting it on the host, the one fix; printed commented out outside the initial namespace.
    static let hostRemediation = Remediation(
        summary: "On the host, let syslog loggers print lines from network namespaces.",
        steps: [
            .sysctl(
                key, "1", previous: "0",
                purpose: """
                    Run this on the host (initial network namespace): syslog loggers then print lines \
                    from every namespace. It is global, so every container's LOG and INVALID lines reach \
                    the host's kernel log.
                    """,
                scope: .initialNamespaceOnly),
        ])

    private func initial(_ reading: SysctlReading<Int>, keyPresent: Bool, evidence: [Evidence]) -> Finding {
        let shown = keyPresent ? "nf_log_all_netns = \(Wording.reading(reading))" : "nf_log_all_netns is not present (kernel before 4.11?)"
        var observed = "\(shown) (initial namespace: its own log lines are never suppressed)"
        if let value = reading.value, value != 0 {
            observed += "; child namespaces' LOG and INVALID lines also reach this host's kernel log"
        }
        return info.pass(
            observed: observed,
            expected: "nothing to change here; nf_log_all_netns = 1 only if containers' log lines are wanted on this host",
            explanation: """
                Syslog loggers never suppress lines from the initial network namespace, so this namespace's \
                INVALID lines reach the kernel log whatever the setting. nf_log_all_netns only decides whether \
                lines from child namespaces (containers) do: with 0 they are dropped, with 1 every container can \
                write to this host's kernel log.
                """,
            evidence: evidence)
    }
}
