import DoctorCore

public struct TableDropsCheck: Check {
    public let info = CheckInfo(
        id: "table.drops",
        title: "Conntrack is not dropping packets",
        weight: 12,
        rationale: """
            `drop` counts packets conntrack threw away: a new flow while the table is full and nothing can be \
            evicted ("table full, dropping packet"; a local sender gets EPERM), an entry that could not be \
            allocated, a tracker verdict or an unresolvable clash. `early_drop` counts unassured entries evicted \
            to make room: pressure, but coping. Both are per namespace and count since it was created, so the check \
            judges their rise during `--sample SECONDS`; on lifetime totals alone it warns at most and says how to \
            confirm. `insert` (ctnetlink inserts only) and `found` (NAT clash checks) are not traffic and are not \
            used.
            """,
        references: [
            References.conntrackSysctls,
            "https://github.com/kubernetes/kubernetes/issues/71261",
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let dropReading = Counters.reading("drop", snapshot)
        guard let drop = dropReading.value else {
            return fromKernelLog(snapshot, counter: dropReading) ?? info.unreadable(dropReading, what: "the drop counter")
        }
        let early = Counters.reading("early_drop", snapshot).value
        let fill = TableFill.read(snapshot).value
        let klog = KernelLogEvidence(snapshot)
        let tableFull = klog?.tableFull(snapshot)
        let logSentence = tableFull.flatMap { klog?.tableFullSentence($0) }.map { " " + $0 } ?? ""
        let skew = Counters.skews(["drop", "early_drop"], snapshot)
        let skewNote = Counters.skewSentence(skew.skews)
        let evidence = Counters.evidence(["drop", "early_drop"], snapshot) + Counters.skewEvidence(skew) + (fill?.evidence(snapshot) ?? [])
            + (tableFull.flatMap { counts in klog?.tableFullEvidence(counts) } ?? [])
        let observed = "drop \(drop.text); early_drop \(early?.text ?? "(not reported)")"
            + (fill.map { "; table \($0.text)" } ?? "")
        let expected = "drop and early_drop not rising"
        let full = (fill?.ratio ?? 0) >= 0.95

        if let dropped = drop.delta, let seconds = drop.seconds {
            // A "table full" line about this namespace during the sample means it was full then, whatever it is now.
            let fullDuringSample = klog.map { $0.isWithin(seconds + 1, tableFull?.lastThisNamespace) } ?? false
            let full = full || fullDuringSample
            if dropped > 0 {
                let cause = full
                    ? "The table is full, so these are new flows refused for want of room: new connections fail now."
                    : "The table is not full, so the drops are tracker verdicts, failed allocations or unresolvable clashes (see table.insert-failed), not a full table."
                return info.fail(
                    full ? .critical : .error, observed: observed, expected: expected,
                    explanation: "Conntrack dropped \(dropped) packets in the last \(Wording.seconds(seconds)). \(cause)\(skewNote)\(logSentence)",
                    evidence: evidence, remediation: remediation(sampled: true, logRead: klog != nil, skews: skew.skews))
            }
            if let evicted = early?.delta, evicted > 0 {
                return info.fail(
                    .warning, observed: observed, expected: expected,
                    explanation: """
                        No packet was dropped during the sample, but \(evicted) unassured entries were evicted to \
                        make room: the table is at its limit and coping by throwing away half-open flows. Assured \
                        (established) entries are never evicted, so a table full of them drops new flows next.\(skewNote)
                        """,
                    evidence: evidence, remediation: remediation(sampled: true, logRead: klog != nil, skews: skew.skews))
            }
            return info.pass(
                observed: observed, expected: expected,
                explanation: "Nothing was dropped or evicted during the sample; the lifetime totals are history.\(logSentence)",
                evidence: evidence)
        }

        let note = Counters.lifetimeNote("drop and early_drop", check: info.id, snapshot)
        if drop.total > 0 {
            return info.fail(
                .warning, observed: observed, expected: expected,
                explanation: """
                    Conntrack has dropped \(drop.total) packets: new flows refused while the table was full, or \
                    tracker verdicts and unresolvable clashes.\(skewNote) \(note)\(logSentence)
                    """,
                evidence: evidence, remediation: remediation(sampled: false, logRead: klog != nil, skews: skew.skews))
        }
        if let early, early.total > 0 {
            return info.fail(
                .info, observed: observed, expected: expected,
                explanation: """
                    \(early.total) unassured entries were evicted to make room at some point: the table reached its \
                    limit, but nothing was dropped.\(skewNote) \(note)\(logSentence)
                    """,
                evidence: evidence, remediation: remediation(sampled: false, logRead: klog != nil, skews: skew.skews))
        }
        return info.pass(
            observed: observed, expected: expected,
            explanation: "Conntrack has never dropped a packet or evicted an entry in this namespace.\(logSentence)",
            evidence: evidence)
    }

    /// Without the counters (a sosreport that kept none), "table full, dropping packet" lines still prove drops:
    /// lines about this namespace, and on kernels before 6.17 the lines that name no namespace, seen from the host
    /// (they may be any namespace's; the host's kernel log is where they were found).
    private func fromKernelLog(_ snapshot: HostSnapshot, counter: Reading<CounterReading>) -> Finding? {
        guard let klog = KernelLogEvidence(snapshot) else { return nil }
        let counts = klog.tableFull(snapshot)
        let unattributed = snapshot.host.netns.initial == false ? 0 : counts.unattributed
        let lines = counts.thisNamespace.saturatingAdd(unattributed)
        guard lines > 0 else { return nil }
        let last = klog.log.summary(.tableFull)?.lastSeconds.map { ", the last \(klog.ago($0))" } ?? ""
        let whose = counts.thisNamespace > 0 ? "about this namespace" : "that name no namespace (kernels before 6.17 print none), read as the host's"
        return info.fail(
            .warning,
            observed: "the drop counter \(Wording.reading(counter)); the kernel log has \(lines) \"table full, dropping packet\" line\(lines == 1 ? "" : "s") \(whose)\(last)",
            expected: "no \"table full\" line, drop and early_drop not rising",
            explanation: """
                The counters could not be read, but the kernel log (\(klog.log.source)) shows the table was full \
                and new flows were dropped: \(lines) line\(lines == 1 ? "" : "s") \(whose)\(last). Each stands for \
                packets dropped (the kernel rate-limits the message). \(klog.tableFullSentence(counts) ?? "")
                """,
            evidence: klog.tableFullEvidence(counts) + Counters.evidence(["drop"], snapshot),
            remediation: remediation(sampled: false, logRead: true))
    }

    private func remediation(sampled: Bool, logRead: Bool, skews: [CounterSkew] = []) -> Remediation {
        var steps: [RemediationStep] = []
        if !sampled {
            steps.append(Counters.confirmStep(info.id))
        }
        steps.append(.advice("If the table is full, grow it (see table.usage) after finding what fills it: `ctdoctor top`."))
        if !logRead {
            steps.append(.advice("Look for \"nf_conntrack: table full\" in the kernel log (`dmesg | grep 'table full'`, as root); without it the drops come from tracker verdicts or clashes (see table.insert-failed)."))
        }
        return Remediation(summary: "Find out why conntrack drops packets.", steps: steps + Counters.skewStep(skews))
    }
}
