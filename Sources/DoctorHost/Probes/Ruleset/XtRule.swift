import DoctorCore
/// One iptables rule as read from `iptables-save` (or a sosreport's `iptables -nvL` listing), reduced to what the
/// ruleset facts need.
struct XtRule: Equatable {
    var chain: String
    /// 1-based place in the chain.
    var position: Int
    /// The words after `-A CHAIN`; nil for a listing, which cannot be fed back to iptables.
    var spec: [String]?
    var text: String
    var match = RuleMatch()
    /// `-j TARGET` or `-g CHAIN`.
    var target: String?
    /// `-m helper --helper NAME`.
    var helperMatch: String?
    /// `-j CT --helper NAME`.
    var ctHelper: String?
    /// `-j CT --notrack` or `-j NOTRACK`.
    var notrack = false
    var randomFully = false
}

/// One table of an iptables-save output or of a listing.
struct XtTable: Equatable {
    var name: String
    var chains: [String]
    var rules: [XtRule]
}

/// Turns iptables rules into ruleset facts.
enum XtFacts {
    static let builtinHooks = [
        "PREROUTING": "prerouting", "INPUT": "input", "FORWARD": "forward", "OUTPUT": "output", "POSTROUTING": "postrouting",
    ]
    static let natTargets: [String: NatRule.Kind] = ["MASQUERADE": .masquerade, "SNAT": .snat, "DNAT": .dnat, "REDIRECT": .redirect]
    /// Targets that let a service's traffic in or forward it: a sign the service is in use.
    static let serviceTargets: Set<String> = ["ACCEPT", "DNAT", "REDIRECT"]

    /// Adds the facts of `tables` to `ruleset`; returns the number of rules.
    static func collect(
        _ tables: [XtTable], backend: RulesetBackend, family: String, command: String?, into ruleset: inout Ruleset
    ) -> Int {
        var count = 0
        for table in tables {
            let base = builtinHooks.filter { table.chains.contains($0.key) }
            let chains = Set(table.chains)
            let jumps = table.rules.compactMap { rule in rule.target.flatMap { chains.contains($0) ? (rule.chain, $0) : nil } }
            let hooks = ChainReach.hooks(base: base, jumps: jumps)
            for rule in table.rules {
                count += 1
                let ref = RuleRef(
                    backend: backend, family: family, table: table.name, chain: rule.chain, hooks: hooks[rule.chain] ?? [],
                    command: command, spec: rule.spec, position: rule.position, match: rule.match, text: rule.text)
                add(rule, ref, to: &ruleset)
            }
        }
        return count
    }

    static func add(_ rule: XtRule, _ ref: RuleRef, to ruleset: inout Ruleset) {
        let target = rule.target ?? ""
        if let kind = natTargets[target] {
            ruleset.nat.append(NatRule(kind: kind, fullyRandom: rule.randomFully, rule: ref))
        }
        if ["DROP", "REJECT"].contains(target), rule.match.ctStates?.contains("invalid") == true {
            ruleset.invalidDrops.append(ref)
        }
        if target == "TRACE" { ruleset.traces.append(ref) }
        if rule.notrack { ruleset.notracks.append(ref) }
        if let helper = rule.ctHelper { ruleset.helperAssignments.append(HelperRule(helper: helper, rule: ref)) }
        if let helper = rule.helperMatch { ruleset.helperMatches.append(HelperRule(helper: helper, rule: ref)) }
        if serviceTargets.contains(target), servesHelperPort(rule.match) { ruleset.helperPortRules.append(ref) }
    }

    /// Whether the match names a destination port that a kernel helper watches by default.
    static func servesHelperPort(_ match: RuleMatch) -> Bool {
        ConntrackHelperModule.defaultPorts.contains { match.namesDestinationPort($0.port, l4proto: $0.l4proto) }
    }

    /// "21", "1024:65535", "21,2121", "1000:" (iptables port lists and ranges).
    static func ports(_ text: String) -> [PortRange]? {
        var ranges: [PortRange] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch bounds.count {
            case 1:
                guard let p = Int(bounds[0]) else { return nil }
                ranges.append(PortRange(p))
            case 2:
                guard let lower = bounds[0].isEmpty ? 0 : Int(bounds[0]), let upper = bounds[1].isEmpty ? 65535 : Int(bounds[1])
                else { return nil }
                ranges.append(PortRange(lower, upper))
            default: return nil
            }
        }
        return ranges.isEmpty ? nil : ranges
    }
}
