import DoctorCore

/// Rules for hand-built snapshots. The default host (`SnapshotBuilder()`) is an nftables NAT gateway done right:
/// masquerade with fully-random, INVALID dropped in forward and input, DNS untracked both ways, FTP served with the
/// helper assigned on port 21, no trace rules, nothing in iptables.
extension SnapshotBuilder {
    static func nft(_ chain: String, hooks: [String], handle: Int, match: RuleMatch = RuleMatch(), _ text: String,
                    family: String = "inet", table: String = "filter") -> RuleRef {
        RuleRef(backend: .nftables, family: family, table: table, chain: chain, hooks: hooks, handle: handle, match: match,
                text: "\(text) # handle \(handle)")
    }

    static func ipt(_ command: String = "iptables-nft", table: String, _ chain: String, hooks: [String], position: Int,
                    _ spec: [String], match: RuleMatch = RuleMatch()) -> RuleRef {
        let backend: RulesetBackend = command.hasSuffix("-legacy") ? .iptablesLegacy : .iptablesNft
        return RuleRef(backend: backend, family: command.hasPrefix("ip6") ? "ip6" : "ip", table: table, chain: chain, hooks: hooks,
                       command: command, spec: spec, position: position, match: match, text: "-A \(chain) " + spec.joined(separator: " "))
    }

    static let gatewayRuleset = Ruleset(
        sources: [
            RulesetSource(backend: .iptablesLegacy, origin: "iptables-legacy-save", rules: .value(0)),
            RulesetSource(backend: .iptablesNft, origin: "iptables-nft-save", rules: .value(0)),
            RulesetSource(backend: .iptablesLegacy, origin: "ip6tables-legacy-save", rules: .value(0)),
            RulesetSource(backend: .iptablesNft, origin: "ip6tables-nft-save", rules: .value(0)),
            RulesetSource(backend: .nftables, origin: "nft -j list ruleset", rules: .value(7)),
        ],
        nat: [NatRule(kind: .masquerade, fullyRandom: true, rule: nft("postrouting", hooks: ["postrouting"], handle: 3,
            match: RuleMatch(outInterface: "eth0"), "oifname eth0 masquerade fully-random", family: "ip", table: "nat"))],
        invalidDrops: [
            nft("forward", hooks: ["forward"], handle: 4, match: RuleMatch(ctStates: ["invalid"]), "ct state invalid drop"),
            nft("input", hooks: ["input"], handle: 5, match: RuleMatch(ctStates: ["invalid"]), "ct state invalid drop"),
        ],
        notracks: [
            nft("raw-pre", hooks: ["prerouting"], handle: 6,
                match: RuleMatch(protocols: ["udp"], destinationPorts: [PortRange(53)]), "udp dport 53 notrack"),
            nft("raw-out", hooks: ["output"], handle: 7, match: RuleMatch(protocols: ["udp"], sourcePorts: [PortRange(53)]), "udp sport 53 notrack"),
        ],
        helperAssignments: [HelperRule(helper: "ftp", object: "ftp-std", rule: nft("helpers", hooks: ["prerouting"], handle: 8,
            match: RuleMatch(protocols: ["tcp"], destinationPorts: [PortRange(21)]), "tcp dport 21 ct helper set \"ftp-std\""))],
        helperObjects: [HelperObject(family: "inet", table: "filter", name: "ftp-std", type: "ftp", l4proto: "tcp", l3proto: "inet")],
        helperPortRules: [nft("input", hooks: ["input"], handle: 9,
            match: RuleMatch(protocols: ["tcp"], destinationPorts: [PortRange(21)]), "tcp dport 21 accept")])

    /// The rules of the default host, changed.
    mutating func rules(_ change: (inout Ruleset) -> Void) {
        change(&snapshot.ruleset)
    }

    mutating func expectations(_ count: Int) {
        snapshot.helpers.expectations = .value(ExpectationCount(count: count, source: "/proc/net/nf_conntrack_expect (one line per expectation)"))
    }
}
