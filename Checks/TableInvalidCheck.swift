import DoctorCore

public struct TableInvalidCheck: Check {
    public let info = CheckInfo(
        id: "table.invalid",
        title: "INVALID packets are explained",
        weight: 6,
        rationale: """
            `invalid` counts packets conntrack could not place: out-of-window TCP, bad checksums, impossible flag \
            combinations, ICMP errors about unknown flows. They are dropped by `ct state invalid drop` rules or \
            pass un-NATed and provoke resets ("connection reset by peer"). The counter says how many, never why: \
            only nf_conntrack_log_invalid with a bound logger writes the reason ("nf_ct_proto_6: SEQ is over upper \
            bound"). The check fails when INVALID packets are counted (rising during `--sample`, or a lifetime \
            total, then at most a warning) and nothing would log why; logging.log-invalid and logging.backend judge \
            the settings themselves.
            """,
        references: [
            References.conntrackSysctls,
            References.kubeProxyConnectionReset,
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = Counters.reading("invalid", snapshot)
        guard let invalid = reading.value else { return info.unreadable(reading, what: "the invalid counter") }
        let logging = Explanation(snapshot)
        let klog = KernelLogEvidence(snapshot)
        let reasons = klog?.invalidSentence().map { " " + $0 } ?? ""
        let evidence = Counters.evidence(["invalid"], snapshot) + logging.evidence + (klog?.invalidEvidence() ?? [])
        let observed = "invalid \(invalid.text); \(logging.summary)"
        let expected = "INVALID packets logged with their reason (nf_conntrack_log_invalid and a bound logger) while they are counted"
        let counted = invalid.delta ?? invalid.total

        guard counted > 0 else {
            return info.pass(
                observed: observed, expected: expected,
                explanation: invalid.isSampled
                    ? "No packet was counted INVALID during the sample; the lifetime total is history."
                    : "No packet has been counted INVALID in this namespace.",
                evidence: evidence)
        }
        if logging.explained {
            return info.pass(
                observed: observed, expected: expected,
                explanation: """
                    INVALID packets are counted, and the kernel logs each with its reason: look for \
                    "nf_ct_proto_<protocol>:" lines in the kernel log (`dmesg | grep nf_ct_proto_`).\(logging.caveat)\(reasons)
                    """,
                evidence: evidence)
        }
        let why = "Nothing records why now: \(logging.summary). Out-of-window TCP (asymmetric routing, a middlebox, a lost SYN-ACK), bad checksums and odd flags all end up in the same counter.\(reasons.isEmpty ? "" : reasons + " Those lines were logged earlier, while logging was on.")"
        if let delta = invalid.delta, let seconds = invalid.seconds {
            return info.fail(
                .error, observed: observed, expected: expected,
                explanation: "\(delta) packets were counted INVALID in the last \(Wording.seconds(seconds)). \(why)",
                evidence: evidence, remediation: remediation(sampled: true, snapshot))
        }
        return info.fail(
            .warning, observed: observed, expected: expected,
            explanation: "\(invalid.total) packets were counted INVALID. \(why) \(Counters.lifetimeNote("invalid", check: info.id, snapshot))",
            evidence: evidence, remediation: remediation(sampled: false, snapshot))
    }

    private func remediation(sampled: Bool, _ snapshot: HostSnapshot) -> Remediation {
        let log = snapshot.logInvalid.value
        var steps: [RemediationStep] = []
        if !sampled {
            steps.append(Counters.confirmStep(info.id))
        }
        // Only a readable setting that does not explain TCP, UDP and SCTP is changed; an unreadable one is advice.
        if let log, !log.explainsTransport {
            steps.append(.sysctl(
                .logInvalid, String(LogInvalid.allProtocols), previous: String(log.protocolNumber),
                purpose: "Log INVALID packets of every protocol with the tracker's reason; noisy, so undo it once the cause is found."))
        }
        steps.append(.advice("A logger must be bound for the packet's family (see logging.backend), and in a container the host must allow it (logging.all-netns). Then read the reasons: `dmesg | grep nf_ct_proto_`."))
        return Remediation(summary: "Make the kernel say why packets are INVALID.", steps: steps)
    }

    /// Whether an INVALID packet would be logged with its reason, and the settings that say so.
    struct Explanation {
        let explained: Bool
        let summary: String
        let caveat: String
        let evidence: [Evidence]

        init(_ snapshot: HostSnapshot) {
            let reading = snapshot.logInvalid
            let observed = Wording.logInvalid(reading)
            var evidence = [Source.sysctl(.logInvalid, snapshot)]
            guard let log = reading.value else {
                explained = false
                caveat = ""
                summary = "\(observed), so whether a reason is logged is unknown"
                self.evidence = evidence
                return
            }
            let families = snapshot.loggedFamilies(log)
            evidence += families.map { Source.sysctl(.nfLogBinding($0), snapshot) }
            let unbound = families.filter { snapshot.sysctlText(.nfLogBinding($0)).value == "NONE" }
            switch log.selection {
            case .off, .untracked:
                explained = false
                summary = "\(observed), so no reason is logged"
                caveat = ""
            case .icmpOnly:
                explained = false
                summary = "\(observed) logs \(log.protocolName) only, not TCP or UDP"
                caveat = ""
            case .all, .transport:
                if let pf = unbound.first {
                    explained = false
                    caveat = ""
                    summary = "\(observed), but \(SysctlKey.nfLogBinding(pf).name) = NONE, so nothing is printed"
                } else {
                    explained = true
                    summary = "\(observed) with a logger bound"
                    caveat = snapshot.host.netns.initial == false
                        ? " From a container the lines reach the host's kernel log only with nf_log_all_netns = 1 on the host (logging.all-netns)."
                        : ""
                }
            }
            self.evidence = evidence
        }
    }
}
