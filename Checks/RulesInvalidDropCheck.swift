import DoctorCore

public struct RulesInvalidDropCheck: Check {
    public let info = CheckInfo(
        id: "rules.invalid-drop",
        title: "INVALID packets cannot leak past NAT",
        weight: 10,
        rationale: """
            Conntrack marks a packet INVALID when it cannot place it, typically an out-of-window TCP segment (a \
            retransmission, a WAN optimiser, a long transfer under load). NAT is applied through the conntrack \
            entry, so an INVALID packet is not translated: it reaches the pod or host with the wrong address, \
            which answers with a RST that kills the real connection ("connection reset by peer" on Docker \
            bridges and Kubernetes ClusterIPs). The defence is a rule dropping ct state INVALID in forward (and \
            input, for NodePorts and local DNAT), as kube-proxy installs, or net.netfilter.nf_conntrack_tcp_be_liberal \
            = 1 so out-of-window segments are not INVALID to begin with. The check looks for NAT rules in every \
            backend and, for each IP family NATed, an INVALID drop reached from forward or input.
            """,
        references: [
            References.conntrackSysctls,
            References.kubeProxyConnectionReset,
            "https://github.com/kubernetes/kubernetes/pull/74840",
        ])

    public init() {}

    static let liberalKey = SysctlKey.tcpBeLiberal
    /// Hooks where dropping INVALID keeps untranslated packets from the stack and from forwarding.
    static let guardingHooks: Set<String> = ["prerouting", "forward", "input"]

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let ruleset = snapshot.ruleset
        if let finding = Rules.unreadable(info, ruleset) { return finding }
        guard !ruleset.nat.isEmpty else {
            if let finding = Rules.notAllCollected(info, ruleset, nothing: "no NAT rule") { return finding }
            return info.notApplicable("no NAT rules: nothing is translated, so nothing can leak untranslated",
                                      evidence: Rules.sources(ruleset))
        }
        let natFamilies = ruleset.nat.reduce(into: Set<String>()) { $0.formUnion(Rules.ipFamilies($1.rule.family)) }
        let drops = ruleset.invalidDrops.filter { !Set($0.hooks).isDisjoint(with: Self.guardingHooks) }
        let guarded = drops.reduce(into: Set<String>()) { $0.formUnion(Rules.ipFamilies($1.family)) }
        let unguarded = natFamilies.subtracting(guarded).sorted()
        let natSummary = "\(ruleset.nat.count) NAT rule\(ruleset.nat.count == 1 ? "" : "s") ("
            + Set(ruleset.nat.map(\.kind.rawValue)).sorted().joined(separator: ", ") + ") for " + natFamilies.sorted().joined(separator: " and ")
        let evidence = ruleset.nat.prefix(5).map { Rules.evidence($0.rule) } + drops.map(Rules.evidence)
            + [Source.sysctl(Self.liberalKey, snapshot)]

        guard !unguarded.isEmpty else {
            let hooks = Set(drops.flatMap(\.hooks)).intersection(Self.guardingHooks).sorted()
            return info.pass(
                observed: "\(natSummary); INVALID packets dropped in \(hooks.joined(separator: " and "))",
                expected: "INVALID packets dropped in forward (and input) for every NATed family",
                explanation: """
                    Packets conntrack marks INVALID are dropped before they can reach a host or pod untranslated. \
                    Keep in mind that such a rule also drops legitimate traffic of asymmetric routes (replies that \
                    come back another way look INVALID here).
                    """,
                evidence: evidence)
        }
        if (snapshot.sysctl(.tcpBeLiberal).value ?? 0) != 0 {
            return info.pass(
                observed: "\(natSummary); no INVALID drop for \(unguarded.joined(separator: ", ")), but \(Self.liberalKey) = 1",
                expected: "INVALID packets dropped for every NATed family, or liberal TCP window tracking",
                explanation: """
                    With liberal window tracking, out-of-window TCP segments are not INVALID and so are translated \
                    like the rest of their connection; that is the alternative to an INVALID drop that kube-proxy \
                    (since Kubernetes 1.29) chooses when it is set.
                    """,
                evidence: evidence)
        }
        if let finding = Rules.notAllCollected(info, ruleset, nothing: "\(natSummary) and no INVALID drop for \(unguarded.joined(separator: " and "))") {
            return finding
        }
        return info.fail(
            .warning,
            observed: "\(natSummary); no rule drops ct state INVALID in forward or input for \(unguarded.joined(separator: " and ")); "
                + "\(Self.liberalKey) = \(Wording.reading(snapshot.sysctl(.tcpBeLiberal)))",
            expected: "a rule dropping ct state INVALID in forward and input for every NATed family, or \(Self.liberalKey) = 1",
            explanation: """
                This host translates addresses, but packets that conntrack marks INVALID (out-of-window TCP \
                segments, typically retransmissions on long or lossy transfers) pass untranslated: the receiver \
                does not know their tuple and answers with a RST that resets the real connection. Dropping \
                INVALID in forward and input stops that. Caveat: on asymmetric routes (a reply leaving or arriving \
                by another router, DSR load balancers, anycast) legitimate packets look INVALID too, and the drop \
                would cut them: fix the routing first, or choose \(Self.liberalKey) = 1 instead, as kube-proxy can.
                """,
            evidence: evidence,
            remediation: remediation(snapshot))
    }

    private func remediation(_ snapshot: HostSnapshot) -> Remediation {
        let alternative = RemediationStep.advice("""
            Alternative to the drop: `sysctl -w \(Self.liberalKey)=1` stops out-of-window TCP segments from being \
            INVALID at all (kube-proxy installs its INVALID drop only while this is 0). It is per network namespace \
            and weakens TCP window checking; do one or the other, not both.
            """)
        if !Rules.nftInstalled(snapshot.ruleset), let command = snapshot.ruleset.nat.compactMap(\.rule.command).first {
            let spec = ["-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP"]
            let steps = ["FORWARD", "INPUT"].map { chain in
                RemediationStep(
                    purpose: "Drop INVALID packets in \(chain) before they reach a host or pod untranslated (\(command)).",
                    argv: [command, "-I", chain] + spec, scope: .runtime, risk: .disruptive,
                    undo: [command, "-D", chain] + spec)
            }
            return Remediation(summary: "Drop INVALID packets in FORWARD and INPUT.", steps: steps + [alternative])
        }
        var steps = [Nft.addTable()]
        for hook in ["forward", "input"] {
            let chain = "invalid-\(hook)"
            steps.append(Nft.addChain(chain, hook: hook, priority: 0, purpose: "A \(hook) chain in ctdoctor's table."))
            steps.append(Nft.addRule(
                chain, ["ct", "state", "invalid", "drop"],
                purpose: "Drop \(hook == "forward" ? "forwarded" : "incoming") packets in ct state INVALID (IPv4 and IPv6). "
                    + "Disruptive on asymmetric routes: their legitimate replies look INVALID too.",
                risk: .disruptive))
        }
        return Remediation(summary: "Drop INVALID packets in forward and input, in ctdoctor's own nft table.", steps: steps + [alternative])
    }
}
