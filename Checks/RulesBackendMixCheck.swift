import DoctorCore

public struct RulesBackendMixCheck: Check {
    public let info = CheckInfo(
        id: "rules.backend-mix",
        title: "Rules live in one backend",
        weight: 6,
        rationale: """
            iptables has two backends: iptables-legacy writes the old x_tables, iptables-nft (the default \
            `iptables` on current distributions) writes nf_tables, where nft's own tables live too. Both sets of \
            hooks run, each at its priority, and a packet must pass both; but each tool shows only its own half, \
            so a DROP or a NAT rule in one is invisible to whoever reads the other. This happens when one program \
            (an old Docker, kube-proxy, a CNI plugin, a firewall script) picks the other backend than the rest of \
            the host. The check counts the rules each backend holds.
            """,
        references: [
            References.netfilterSysctls,
            "https://wiki.nftables.org/wiki-nftables/index.php/Legacy_xtables_tools",
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let ruleset = snapshot.ruleset
        if let finding = Rules.unreadable(info, ruleset) { return finding }
        let legacy = ruleset.ruleCount(.iptablesLegacy)
        let nft = ruleset.ruleCount(.nftables), iptNft = ruleset.ruleCount(.iptablesNft)
        let counts = Rules.counts(ruleset)
        let evidence = Rules.sources(ruleset)
        guard legacy > 0 && nft.saturatingAdd(iptNft) > 0 else {
            // Rules whose backend is not recorded (a sosreport's listings), or a backend not collected, leave it open.
            let unknown = ruleset.ruleCount(.iptables)
            if unknown > 0 || ruleset.incomplete != nil {
                return info.skipped(
                    "\(counts): which backend holds the rules cannot be told",
                    explanation: """
                        \(unknown > 0 ? "\(unknown) rules come from `iptables -nvL` listings, which do not say whether they are in x_tables (iptables-legacy) or nf_tables (iptables-nft). " : "")\
                        \(ruleset.incomplete.map { "Not every backend was collected: \($0). " } ?? "")\
                        On the host, `iptables-legacy-save`, `iptables-nft-save` and `nft list ruleset` tell.
                        """,
                    evidence: evidence)
            }
            return info.pass(
                observed: counts,
                expected: "rules in x_tables (iptables-legacy) or in nf_tables (nft, iptables-nft), not both",
                explanation: "Every rule is in one backend, so the tool that shows them shows all of them.",
                evidence: evidence)
        }
        return info.fail(
            .warning,
            observed: counts,
            expected: "rules in x_tables (iptables-legacy) or in nf_tables (nft, iptables-nft), not both",
            explanation: """
                Both backends hold rules. Packets pass through both, but `iptables` (iptables-nft) and `nft` show \
                nothing of the \(legacy) legacy rules, and `iptables-legacy` shows nothing of the \(nft.saturatingAdd(iptNft)) \
                nf_tables ones, so a drop, a NAT or a NOTRACK rule can act unseen. Find the program that writes \
                the legacy rules (an old container runtime, kube-proxy or CNI image, a firewall script calling \
                iptables-legacy) and move it, and its rules, to the nf_tables backend.
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: "Move the legacy rules to nf_tables.",
                steps: [
                    .advice("""
                        See which program writes them: `iptables-legacy-save` and `ip6tables-legacy-save` show the \
                        rules, their chain names usually tell the owner (DOCKER, KUBE-, cali-, f2b-…).
                        """),
                    .advice("""
                        Reconfigure that program to use iptables-nft (for example its image's `iptables` \
                        alternative), or translate the rules: `iptables-legacy-save | iptables-nft-restore`, then \
                        flush the legacy tables once the program no longer writes them. Both steps change live \
                        filtering: do them in a maintenance window.
                        """, risk: .disruptive),
                ]))
    }
}
