import DoctorCore

public struct LogInvalidCheck: Check {
    public let info = CheckInfo(
        id: "logging.log-invalid",
        title: "INVALID packets are logged with their reason",
        weight: 6,
        rationale: """
            Conntrack marks packets it cannot place (out-of-window TCP, bad checksums, odd flag combinations) as \
            INVALID; they are counted, and often dropped or leaked un-NATed, which is a classic cause of \
            "connection reset by peer". Only net.netfilter.nf_conntrack_log_invalid makes the kernel say why, \
            with lines such as "nf_ct_proto_6: SEQ is over upper bound". Its value is an L4 protocol number \
            (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, 255 every protocol), not an on/off switch: 1 logs ICMP only and 58 \
            ICMPv6 only, and both fail, since the TCP, UDP and SCTP packets behind resets stay unexplained. The \
            check compares the setting with the invalid counter, a lifetime total.
            """,
        references: [
            References.conntrackSysctls,
            References.kubeProxyConnectionReset,
            "https://fedoramagazine.org/network-address-translation-part-4-conntrack-troubleshooting/",
        ])

    public init() {}

    static let key = SysctlKey.logInvalid

    /// The verdict for each meaning of the setting (README "nf_conntrack_log_invalid"): off is judged against the
    /// invalid counter; every protocol or one transport protocol passes; ICMP or ICMPv6 alone, and a protocol
    /// conntrack has no tracker for, fail (info, warning once INVALID packets are counted) because the TCP, UDP
    /// and SCTP packets behind resets are never explained.
    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.logInvalid
        guard let log = reading.value else { return info.unreadable(reading) }
        let invalid = Counters.total("invalid", snapshot)
        let evidence = [Source.sysctl(Self.key, snapshot), Source.counter("invalid", snapshot), Source.uptime(snapshot)]
        switch log.selection {
        case .off: return off(invalid, evidence, snapshot)
        case .icmpOnly, .untracked: return narrow(log, invalid, evidence, snapshot)
        case .all, .transport:
            let others = log.selection == .all ? "" : " INVALID packets of other protocols are not logged; 255 logs all of them."
            return info.pass(
                observed: Wording.logInvalid(reading),
                expected: "a protocol number (255 for all protocols) whenever INVALID packets need explaining",
                explanation: """
                    INVALID packets of \(log.protocolName) are logged with the tracker's reason ("nf_ct_proto_<n>: \
                    …").\(others) The lines appear only if a logger is bound for the packet's family (see \
                    logging.backend) and, inside a container, only if the host allows it (logging.all-netns).
                    """,
                evidence: evidence)
        }
    }

    private func off(_ invalid: Reading<UInt64>, _ evidence: [Evidence], _ snapshot: HostSnapshot) -> Finding {
        guard let count = invalid.value else {
            return info.skipped(
                "cannot tell whether INVALID packets occur: \(invalid.problem ?? "no invalid counter")",
                explanation: """
                    \(Self.key) = 0, so INVALID packets are never explained in the kernel log; whether that \
                    matters depends on the invalid counter, which could not be read.
                    """,
                evidence: evidence)
        }
        let observed = "\(Self.key) = 0; invalid = \(count) (lifetime total)"
        guard count > 0 else {
            return info.pass(
                observed: observed,
                expected: "logging turned on (255) once INVALID packets are counted",
                explanation: "No packet has been counted INVALID, so there is nothing to explain and no reason to log.",
                evidence: evidence)
        }
        return info.fail(
            .warning, observed: observed,
            expected: "a protocol number such as 255 (all protocols) while INVALID packets are counted",
            explanation: """
                \(count) packets were counted INVALID (lifetime total) and nothing records why: with \
                \(Self.key) = 0 the tracker's reason (out of window, bad checksum, invalid flags…) is thrown \
                away, so resets and drops caused by INVALID packets cannot be told apart. \
                \(Counters.contextNote("invalid", snapshot))
                """,
            evidence: evidence,
            remediation: remediation(previous: 0))
    }

    /// ICMP or ICMPv6 only, or a protocol without a tracker: the packets that matter are never logged.
    private func narrow(_ log: LogInvalid, _ invalid: Reading<UInt64>, _ evidence: [Evidence], _ snapshot: HostSnapshot) -> Finding {
        var explanation = log.selection == .icmpOnly
            ? """
                \(Self.key) = \(log.protocolNumber) selects \(log.protocolName) only; the setting is a protocol number, \
                not on/off, so INVALID TCP, UDP and SCTP packets, the usual cause of resets, are never logged \
                (\(log.protocolName) is INVALID only for errors about unknown flows). 255 logs every protocol, 6 TCP only.
                """
            : """
                \(Self.key) = \(log.protocolNumber) selects protocol \(log.protocolNumber), which conntrack tracks only \
                with its generic tracker: that tracker never marks a packet INVALID, so nothing is ever logged. 255 \
                logs every protocol, 6 TCP only.
                """
        let severity: Severity
        if let count = invalid.value, count > 0 {
            severity = .warning
            explanation += " \(count) packets were counted INVALID (lifetime total). \(Counters.contextNote("invalid", snapshot))"
        } else {
            severity = .info
        }
        return info.fail(
            severity, observed: "\(Self.key) = \(log.description); invalid = \(Wording.reading(invalid))",
            expected: "255 (all protocols), or the number of the transport protocol to explain (6 for TCP)",
            explanation: explanation,
            evidence: evidence,
            remediation: remediation(previous: log.protocolNumber))
    }

    private func remediation(previous: Int) -> Remediation {
        Remediation(
            summary: "Log INVALID packets of every protocol, with the tracker's reason.",
            steps: [
                .sysctl(
                    Self.key, String(LogInvalid.allProtocols), previous: String(previous),
                    purpose: """
                        Log INVALID packets of every protocol (255; 6 would log TCP only). The lines can be \
                        noisy: undo this once the cause is found.
                        """),
                .advice("""
                    A logger must be bound for the packet's family or nothing is printed: see logging.backend \
                    (net.netfilter.nf_log.2 and nf_log.10) and, in a container, logging.all-netns.
                    """),
            ])
    }
}
