import DoctorCore

public struct RulesNotrackCheck: Check {
    public let info = CheckInfo(
        id: "rules.notrack",
        title: "NOTRACK rules cover both directions and spare NATed traffic",
        weight: 6,
        rationale: """
            NOTRACK (`notrack`, `-j CT --notrack`) keeps high-rate services such as DNS, NTP or syslog out of the \
            conntrack table. Two mistakes are common. A rule for one direction only (queries in PREROUTING but no \
            rule for the replies in OUTPUT) still creates an entry per reply, so the table fills all the same and \
            stateful rules see the replies as new. And untracked packets cannot be NATed: a NOTRACK rule that \
            covers traffic a DNAT or masquerade rule expects to translate silently breaks it. The check pairs \
            each NOTRACK rule with its mirror (destination and source port swapped, prerouting ↔ output) and \
            compares NOTRACK rules with the NAT rules.
            """,
        references: [
            References.conntrackSysctls,
            "https://kb.isc.org/docs/aa-01183",
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let ruleset = snapshot.ruleset
        if let finding = Rules.unreadable(info, ruleset) { return finding }
        let notracks = ruleset.notracks
        guard !notracks.isEmpty else {
            if let finding = Rules.notAllCollected(info, ruleset, nothing: "no NOTRACK rule") { return finding }
            return info.notApplicable("no NOTRACK rules: every packet is tracked", evidence: Rules.sources(ruleset))
        }
        let oneWay = notracks.filter { !hasMirror($0, in: notracks) }
        let conflicts = ruleset.nat.filter { nat in notracks.contains { untracks($0, nat) } }
        let evidence = notracks.map(Rules.evidence) + conflicts.map { Rules.evidence($0.rule) }
        let listed = "\(notracks.count) NOTRACK rule\(notracks.count == 1 ? "" : "s")"

        guard !oneWay.isEmpty || !conflicts.isEmpty else {
            return info.pass(
                observed: "\(listed), each with its reply direction covered; none overlaps a NAT rule",
                expected: "NOTRACK rules in pairs (prerouting and output) that no NAT rule depends on",
                explanation: """
                    Both directions of the untracked traffic bypass conntrack and no NAT rule needs it. Untracked \
                    packets match no ESTABLISHED or RELATED rule: they need stateless accepts (or `ct state \
                    untracked accept`) in the filter rules.
                    """,
                evidence: evidence)
        }
        var problems: [String] = []
        if !oneWay.isEmpty {
            problems.append("\(oneWay.count) without a rule for the other direction (\(oneWay.map(\.place).joined(separator: "; ")))")
        }
        if !conflicts.isEmpty {
            problems.append("\(conflicts.count) NAT rule\(conflicts.count == 1 ? "" : "s") overlapping untracked traffic ("
                + conflicts.map(\.rule.place).joined(separator: "; ") + ")")
        }
        var explanation = ""
        if !oneWay.isEmpty {
            explanation += """
                NOTRACK covers only one direction of some flows: the other direction is still tracked, so every \
                reply creates a conntrack entry of its own (the table fills as if there were no NOTRACK) and \
                stateful rules see those replies as NEW. 
                """
        }
        if !conflicts.isEmpty {
            explanation += """
                Some NAT rules match traffic that is also NOTRACKed; NAT works through conntrack entries, so those \
                packets leave untranslated. Narrow the NOTRACK rules, or do not NAT that traffic.
                """
        }
        var seen = Set<[String]>()
        let mirrors = oneWay.flatMap(mirrorSteps).filter { $0.argv.map { seen.insert($0).inserted } ?? true }
        let steps = mirrors + (conflicts.isEmpty ? [] : [.advice(
            "Make the NOTRACK rules and the NAT rules disjoint (by port, address or interface): untracked packets are never NATed.")])
        return info.fail(
            .warning,
            observed: "\(listed): " + problems.joined(separator: "; "),
            expected: "NOTRACK rules in pairs (prerouting and output) that no NAT rule depends on",
            explanation: explanation.trimmingWhitespace(),
            evidence: evidence,
            remediation: Remediation(summary: "Untrack both directions, and keep NATed traffic tracked.", steps: steps))
    }

    /// Prerouting sees packets arriving, output packets the host sends: a reply to one is seen by the other.
    static func mirrorHook(_ hook: String) -> String? {
        switch hook {
        case "prerouting": "output"
        case "output": "prerouting"
        default: nil
        }
    }

    private func hasMirror(_ rule: RuleRef, in rules: [RuleRef]) -> Bool {
        let wanted = Set(rule.hooks.compactMap(Self.mirrorHook))
        return wanted.isEmpty || rules.contains { other in
            !Set(other.hooks).isDisjoint(with: wanted)
                && !Rules.ipFamilies(other.family).isDisjoint(with: Rules.ipFamilies(rule.family))
                && Rules.protocolsMeet(rule.match, other.match)
                && Rules.portsMeet(rule.match.destinationPorts, other.match.sourcePorts)
                && Rules.portsMeet(rule.match.sourcePorts, other.match.destinationPorts)
        }
    }

    /// A DNAT or redirect whose ports the NOTRACK rule can also match, or any NAT of a protocol the rule
    /// untracks wholesale.
    private func untracks(_ notrack: RuleRef, _ nat: NatRule) -> Bool {
        guard !Rules.ipFamilies(notrack.family).isDisjoint(with: Rules.ipFamilies(nat.rule.family)),
              Rules.protocolsMeet(notrack.match, nat.rule.match) else { return false }
        switch nat.kind {
        case .dnat, .redirect: return Rules.portsMeet(notrack.match.destinationPorts, nat.rule.match.destinationPorts)
        case .snat, .masquerade: return !notrack.match.isNarrowed
        }
    }

    /// The rule for the other direction, in the rule's own tool: ports swapped, prerouting ↔ output.
    private func mirrorSteps(_ rule: RuleRef) -> [RemediationStep] {
        guard let hook = rule.hooks.compactMap(Self.mirrorHook).first else { return [] }
        let m = rule.match
        let proto = m.protocols?.count == 1 ? m.protocols![0] : nil
        let purpose = "Untrack the other direction of the traffic \(rule.place) untracks."
        if let command = rule.command {
            guard rule.spec != nil else { return [] }
            var spec = proto.map { ["-p", $0] } ?? []
            if let proto, m.destinationPorts != nil || m.sourcePorts != nil { spec += ["-m", proto] }
            if let ports = m.destinationPorts { spec += ["--sport", Rules.iptablesPorts(ports)] }
            if let ports = m.sourcePorts { spec += ["--dport", Rules.iptablesPorts(ports)] }
            spec += ["-j", "CT", "--notrack"]
            let chain = hook.uppercased()
            return [RemediationStep(
                purpose: purpose, argv: [command, "-t", "raw", "-A", chain] + spec, scope: .runtime,
                undo: [command, "-t", "raw", "-D", chain] + spec)]
        }
        var words: [String] = []
        let l4 = proto ?? "th"
        if let ports = m.destinationPorts { words += [l4, "sport", Rules.nftPorts(ports)] }
        if let ports = m.sourcePorts { words += [l4, "dport", Rules.nftPorts(ports)] }
        if words.isEmpty, let proto { words += ["meta", "l4proto", proto] }
        let chain = "notrack-\(hook)"
        return [
            Nft.addTable(),
            Nft.addChain(chain, hook: hook, priority: -300, purpose: "A \(hook) chain at raw priority in ctdoctor's table."),
            Nft.addRule(chain, words + ["notrack"], purpose: purpose),
        ]
    }
}
