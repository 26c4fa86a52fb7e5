/// What the firewall rules say, as far as conntrack cares: NAT, INVALID drops, trace, notrack and helper rules.
/// Read from `nft -j list ruleset` and `iptables-save` (both backends, both families) by `RulesetProbe`.
public struct Ruleset: Codable, Sendable, Equatable {
    /// Every tool asked (or file read), in order, with how many rules it returned or why it could not.
    public var sources: [RulesetSource]
    /// masquerade / snat / dnat / redirect rules.
    public var nat: [NatRule]
    /// Rules that drop or reject packets in ct state INVALID.
    public var invalidDrops: [RuleRef]
    /// `-j TRACE` and `meta nftrace set 1`.
    public var traces: [RuleRef]
    /// `notrack`, `-j CT --notrack`, `-j NOTRACK`.
    public var notracks: [RuleRef]
    /// Rules that assign a helper: `-j CT --helper NAME`, `ct helper set "OBJECT"`.
    public var helperAssignments: [HelperRule]
    /// Rules that match on a helper: `-m helper --helper NAME`, `ct helper "NAME"`.
    public var helperMatches: [HelperRule]
    /// nft `ct helper` objects.
    public var helperObjects: [HelperObject]
    /// Rules that accept or forward a destination port a kernel helper watches by default (21, 5060, …), named as a
    /// port of its own rather than inside a range.
    public var helperPortRules: [RuleRef]
    /// What a collection (a sosreport) did not keep, one line each ("nftables: no nft ruleset in this sosreport"):
    /// the rules read are then not all the rules, and "no such rule" cannot be concluded. nil on a live host.
    public var uncollected: [String]?

    public init(
        sources: [RulesetSource] = [], nat: [NatRule] = [], invalidDrops: [RuleRef] = [], traces: [RuleRef] = [],
        notracks: [RuleRef] = [], helperAssignments: [HelperRule] = [], helperMatches: [HelperRule] = [],
        helperObjects: [HelperObject] = [], helperPortRules: [RuleRef] = []
    ) {
        self.sources = sources
        self.nat = nat
        self.invalidDrops = invalidDrops
        self.traces = traces
        self.notracks = notracks
        self.helperAssignments = helperAssignments
        self.helperMatches = helperMatches
        self.helperObjects = helperObjects
        self.helperPortRules = helperPortRules
    }

    /// Why the facts are incomplete: the first source that was not permitted, else the first that failed;
    /// nil when every tool answered or is not installed. No source at all reads as "not probed".
    public var problem: Reading<Int>? {
        if sources.isEmpty { return .failed("the ruleset was not probed") }
        let readings = sources.map(\.rules)
        if let denied = readings.first(where: { if case .denied = $0 { true } else { false } }) { return denied }
        return readings.first { if case .failed = $0 { true } else { false } }
    }

    /// Why "no such rule" cannot be concluded from the rules read: what the collection lacks; nil when complete.
    public var incomplete: String? {
        guard let uncollected, !uncollected.isEmpty else { return nil }
        return uncollected.joined(separator: "; ")
    }

    /// True when no tool could be asked at all (none installed, or a copied root without recorded rules).
    public var nothingRead: Bool { !sources.isEmpty && sources.allSatisfy { $0.rules.value == nil } }

    /// Rules held per backend, summed over the sources that answered.
    public func ruleCount(_ backend: RulesetBackend) -> Int {
        sources.filter { $0.backend == backend }.compactMap(\.rules.value).reduce(0) { $0.saturatingAdd($1) }
    }
}

/// Who holds a rule.
public enum RulesetBackend: String, Codable, Sendable, CaseIterable {
    /// nftables tables written with `nft` (or another nftables client), not by iptables-nft.
    case nftables
    /// iptables / ip6tables rules kept in nf_tables (`iptables-nft`).
    case iptablesNft = "iptables-nft"
    /// iptables / ip6tables rules in the old x_tables (`iptables-legacy`).
    case iptablesLegacy = "iptables-legacy"
    /// iptables rules whose backend the record does not say (a sosreport's `iptables -nvL` listing).
    case iptables
}

public struct RulesetSource: Codable, Sendable, Equatable {
    public var backend: RulesetBackend
    /// The command line run, or the file read.
    public var origin: String
    /// Number of rules it returned; `absent` when the tool is not installed, `denied` when not permitted.
    public var rules: Reading<Int>

    public init(backend: RulesetBackend, origin: String, rules: Reading<Int>) {
        self.backend = backend
        self.origin = origin
        self.rules = rules
    }
}

/// Where a rule lives and what it matches, enough to show it and to delete it.
public struct RuleRef: Codable, Sendable, Equatable {
    public var backend: RulesetBackend
    /// nft family (ip, ip6, inet, arp, bridge, netdev); "ip" for iptables, "ip6" for ip6tables.
    public var family: String
    public var table: String
    public var chain: String
    /// Hooks the chain is reached from (prerouting, input, forward, output, postrouting): its own hook for a base
    /// chain, the hooks of the chains that jump to it otherwise; empty for a chain nothing reaches.
    public var hooks: [String]
    /// nft rule handle.
    public var handle: Int?
    /// iptables: the command that manages the rule (`iptables-legacy`, `ip6tables-nft`, `iptables`).
    public var command: String?
    /// iptables: the words after `-A CHAIN`, unquoted; `-D CHAIN` with them deletes exactly this rule.
    public var spec: [String]?
    /// iptables: 1-based position in its chain.
    public var position: Int?
    public var match: RuleMatch
    /// The rule in its tool's words, for evidence.
    public var text: String
    /// nft: the rule's `expr` array as nft JSON and its comment, enough to add the same rule again.
    public var nftExpr: String?
    public var nftComment: String?

    public init(
        backend: RulesetBackend, family: String, table: String, chain: String, hooks: [String] = [],
        handle: Int? = nil, command: String? = nil, spec: [String]? = nil, position: Int? = nil,
        match: RuleMatch = RuleMatch(), text: String, nftExpr: String? = nil, nftComment: String? = nil
    ) {
        self.nftExpr = nftExpr
        self.nftComment = nftComment
        self.backend = backend
        self.family = family
        self.table = table
        self.chain = chain
        self.hooks = hooks
        self.handle = handle
        self.command = command
        self.spec = spec
        self.position = position
        self.match = match
        self.text = text
    }

    /// "inet filter forward" / "ip raw PREROUTING (iptables-legacy)".
    public var place: String {
        let base = "\(family) \(table) \(chain)"
        return backend == .nftables ? base : base + " (\(backend.rawValue))"
    }
}

/// The conditions of a rule that narrow what it applies to. nil means "any".
public struct RuleMatch: Codable, Sendable, Equatable {
    /// Layer 4 protocols, e.g. ["tcp"].
    public var protocols: [String]?
    public var destinationPorts: [PortRange]?
    public var sourcePorts: [PortRange]?
    public var inInterface: String?
    public var outInterface: String?
    /// Address conditions in the tool's words, e.g. "ip saddr 10.0.0.0/8", "! -d 224.0.0.0/4".
    public var addresses: [String]
    /// Conntrack states matched, lower case ("invalid", "new", …).
    public var ctStates: [String]?

    public init(
        protocols: [String]? = nil, destinationPorts: [PortRange]? = nil, sourcePorts: [PortRange]? = nil,
        inInterface: String? = nil, outInterface: String? = nil, addresses: [String] = [], ctStates: [String]? = nil
    ) {
        self.protocols = protocols
        self.destinationPorts = destinationPorts
        self.sourcePorts = sourcePorts
        self.inInterface = inInterface
        self.outInterface = outInterface
        self.addresses = addresses
        self.ctStates = ctStates
    }

    /// Whether the rule names this destination port of this protocol as a port of its own, not inside a range.
    public func namesDestinationPort(_ port: Int, l4proto: String) -> Bool {
        (protocols?.contains(l4proto) ?? true) && (destinationPorts?.contains(PortRange(port)) ?? false)
    }

    /// Whether the rule is limited to some ports, interfaces or addresses rather than all traffic of a protocol.
    public var isNarrowed: Bool {
        destinationPorts != nil || sourcePorts != nil || inInterface != nil || outInterface != nil || !addresses.isEmpty
    }
}

public struct PortRange: Codable, Sendable, Equatable, CustomStringConvertible {
    public var lower: Int
    public var upper: Int

    public init(_ lower: Int, _ upper: Int? = nil) {
        self.lower = lower
        self.upper = upper ?? lower
    }

    public func contains(_ port: Int) -> Bool { (lower...upper).contains(port) }
    public func overlaps(_ other: PortRange) -> Bool { lower <= other.upper && other.lower <= upper }

    public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }
}

public struct NatRule: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case masquerade, snat, dnat, redirect
    }

    public var kind: Kind
    /// `fully-random` (nft) / `--random-fully` (iptables): source ports picked at random, avoiding the SNAT race.
    public var fullyRandom: Bool
    public var rule: RuleRef

    public init(kind: Kind, fullyRandom: Bool, rule: RuleRef) {
        self.kind = kind
        self.fullyRandom = fullyRandom
        self.rule = rule
    }
}

public struct HelperRule: Codable, Sendable, Equatable {
    /// The kernel helper's name (`ftp`, `sip`, `Q.931`); for nft, the type of the `ct helper` object assigned,
    /// or the object's name when no object of that name was listed.
    public var helper: String
    /// nft: the `ct helper` object the rule assigns.
    public var object: String?
    public var rule: RuleRef

    public init(helper: String, object: String? = nil, rule: RuleRef) {
        self.helper = helper
        self.object = object
        self.rule = rule
    }
}

/// `ct helper NAME { type "ftp" protocol tcp; l3proto inet; }`.
public struct HelperObject: Codable, Sendable, Equatable {
    public var family: String
    public var table: String
    public var name: String
    public var type: String
    /// The object's `protocol` (tcp, udp).
    public var l4proto: String?
    public var l3proto: String?

    public init(family: String, table: String, name: String, type: String, l4proto: String? = nil, l3proto: String? = nil) {
        self.family = family
        self.table = table
        self.name = name
        self.type = type
        self.l4proto = l4proto
        self.l3proto = l3proto
    }
}
