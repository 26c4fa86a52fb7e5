import DoctorCore

public struct RulesTraceLeftoverCheck: Check {
    public let info = CheckInfo(
        id: "rules.trace-leftover",
        title: "No packet-trace rules are left in the ruleset",
        weight: 4,
        rationale: """
            Tracing is how netfilter answers "where did my packet go": `meta nftrace set 1` in nftables, `-j TRACE` \
            in the raw table with iptables (iptables-nft turns it into `meta nftrace set 1`; iptables-legacy logs \
            every rule a traced packet passes through the bound nf_log backend). Such rules are easy to forget \
            because they sit in the raw table or a chain of their own. Left behind, every matching packet is \
            marked and, whenever a listener or a logger is there, produces trace events or kernel log lines; \
            each nftrace rule also keeps the kernel's trace hook enabled. The check lists them with the exact \
            command that deletes each one.
            """,
        references: [
            References.netfilterSysctls,
            "https://wiki.nftables.org/wiki-nftables/index.php/Ruleset_debug/tracing",
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let ruleset = snapshot.ruleset
        if let finding = Rules.unreadable(info, ruleset) { return finding }
        let traces = ruleset.traces
        guard !traces.isEmpty else {
            if let finding = Rules.notAllCollected(info, ruleset, nothing: "no TRACE or meta nftrace rule") { return finding }
            return info.pass(
                observed: "no TRACE or meta nftrace rules",
                expected: "no trace rules outside a live investigation",
                explanation: "No rule marks packets for tracing.",
                evidence: Rules.sources(ruleset))
        }
        let places = traces.map(\.place)
        return info.fail(
            .warning,
            observed: "\(traces.count) trace rule\(traces.count == 1 ? "" : "s"): " + places.joined(separator: "; "),
            expected: "no trace rules outside a live investigation",
            explanation: """
                Rules that mark packets for tracing are still in the ruleset. Every packet they match is traced: \
                with `nft monitor trace` or `xtables-monitor --trace` running, or with iptables-legacy TRACE and \
                a bound logger, each one costs CPU and fills the monitor or the kernel log, and an nftrace rule \
                keeps the trace hook enabled for the whole kernel. If an investigation is still under way, keep \
                them until it ends; otherwise delete them with the commands below.
                """,
            evidence: traces.map(Rules.evidence),
            remediation: Remediation(summary: "Delete the leftover trace rules.", steps: traces.map(step)))
    }

    private func step(_ rule: RuleRef) -> RemediationStep {
        let purpose = "Delete the trace rule in \(rule.place): \(rule.text)"
        if let argv = Nft.deleteRule(rule) ?? Iptables.delete(rule) {
            return RemediationStep(purpose: purpose, argv: argv, scope: .runtime, undo: Iptables.reinsert(rule) ?? Nft.readdRule(rule))
        }
        let table = ShellQuote.quote(rule.table), chain = ShellQuote.quote(rule.chain)
        return .advice("""
            \(purpose). It was read from a listing that cannot be fed back to iptables: on the host, find its number \
            with `iptables -t \(table) -L \(chain) --line-numbers` and delete it with `iptables -t \(table) -D \(chain) NUMBER`.
            """)
    }
}
