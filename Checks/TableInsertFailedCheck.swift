import DoctorCore

public struct TableInsertFailedCheck: Check {
    public let info = CheckInfo(
        id: "table.insert-failed",
        title: "New entries are confirmed without clashes",
        weight: 8,
        rationale: """
            `insert_failed` counts packets whose new entry could not be confirmed: another CPU inserted the same \
            tuple first and the clash could not be resolved (parallel UDP from one socket: glibc's A and AAAA DNS \
            queries, the source of "DNS takes 5 s" in Kubernetes), a hash chain too long (`chaintoolong`, 5.15+), \
            or an entry already dying. `clash_resolve` (5.10+) counts clashes the kernel resolved, which are \
            harmless. The check judges insert_failed's rise during `--sample SECONDS`; lifetime totals alone \
            warn at most.
            """,
        references: [
            References.conntrackSysctls,
            "https://github.com/kubernetes/kubernetes/issues/56903",
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let failedReading = Counters.reading("insert_failed", snapshot)
        guard let failed = failedReading.value else { return info.unreadable(failedReading, what: "the insert_failed counter") }
        let resolved = Counters.reading("clash_resolve", snapshot).value
        let chain = Counters.reading("chaintoolong", snapshot).value
        let skew = Counters.skews(["insert_failed"], snapshot)
        let evidence = Counters.evidence(["insert_failed", "clash_resolve", "chaintoolong"], snapshot) + Counters.skewEvidence(skew)
        let observed = "insert_failed \(failed.text); clash_resolve \(resolved?.text ?? "(not on this kernel: 5.10+)")"
            + (chain.map { "; chaintoolong \($0.text)" } ?? "")
        let expected = "insert_failed not rising (resolved clashes are harmless)"
        let resolvedNote = resolved.map { r in
            r.total > 0 ? " \(r.total) clashes were resolved (clash_resolve): those packets went through." : ""
        } ?? " This kernel has no clash_resolve counter (5.10+), so resolved and unresolved clashes cannot be told apart."

        let rising = failed.delta ?? failed.total
        guard rising > 0 else {
            return info.pass(
                observed: observed, expected: expected,
                explanation: (failed.isSampled
                    ? "No new entry failed to be confirmed during the sample."
                    : "No new entry has ever failed to be confirmed in this namespace.") + resolvedNote,
                evidence: evidence)
        }
        let chainShare = (chain?.delta ?? chain?.total).map { $0 > 0 ? " \($0) of them were refused for a hash chain too long: see table.buckets." : "" } ?? ""
        let what = """
            Packets were dropped because their new entry clashed with one another CPU had just inserted (typically \
            parallel UDP from one socket, such as glibc's A and AAAA DNS queries), or the hash chain was too long.\
            \(chainShare)\(resolvedNote)\(Counters.skewSentence(skew.skews))
            """
        if let delta = failed.delta, let seconds = failed.seconds {
            return info.fail(
                .error, observed: observed, expected: expected,
                explanation: "\(delta) new entries failed to be confirmed in the last \(Wording.seconds(seconds)). \(what)",
                evidence: evidence, remediation: remediation(sampled: true, skews: skew.skews))
        }
        return info.fail(
            .warning, observed: observed, expected: expected,
            explanation: "\(failed.total) new entries failed to be confirmed. \(what) \(Counters.lifetimeNote("insert_failed", check: info.id, snapshot))",
            evidence: evidence, remediation: remediation(sampled: false, skews: skew.skews))
    }

    private func remediation(sampled: Bool, skews: [CounterSkew]) -> Remediation {
        var steps: [RemediationStep] = []
        if !sampled {
            steps.append(Counters.confirmStep(info.id, while: ", ideally while the symptom (slow DNS) shows"))
        }
        steps += [
            .advice("For DNS from glibc clients: `options single-request-reopen` in resolv.conf, a node-local DNS cache (NOTRACK for its address), or DNS over TCP."),
            .advice("Kernels before 5.6 drop the loser of a UDP clash between different DNAT targets; upgrading resolves most such clashes (they then count in clash_resolve)."),
        ] + Counters.skewStep(skews)
        return Remediation(summary: "Stop clashing inserts from dropping packets.", steps: steps)
    }
}
