import DoctorCore

/// `nft -j list ruleset`: `{"nftables": [{"metainfo": …}, {"table": …}, {"chain": …}, {"rule": …}, {"ct helper": …}, …]}`.
/// Tables, chains, rules and ct helper objects are read; every other item (sets, maps, counters, flowtables) passes.
/// Items are parsed one at a time and handed to an `NftCollector`, the same one the netlink reader feeds.
enum NftRuleset {
    struct Chain {
        var family: String
        var table: String
        var name: String
        var hook: String?
    }

    struct Rule {
        var family: String
        var table: String
        var chain: String
        var handle: Int?
        var comment: String?
        var expr: [JSONValue]
    }

    struct Helper {
        var family: String
        var table: String
        var name: String
        var type: String
        var `protocol`: String?
        var l3proto: String?
    }

    /// Why a listing is not the JSON expected.
    struct Unexpected: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads the listing into `collector`, skipping the tables in `skipping` ("family table", e.g. "ip filter").
    static func read(_ bytes: UnsafeRawBufferPointer, into collector: inout NftCollector) throws(Unexpected) {
        var problem: Unexpected?
        do {
            try JSONValue.eachElement(of: "nftables", in: bytes) { item in
                guard problem == nil else { return }
                do throws(Unexpected) { try add(item, into: &collector) } catch { problem = error }
            }
        } catch {
            throw Unexpected(description: "\(error)")
        }
        if let problem { throw problem }
    }

    private static func add(_ item: JSONValue, into collector: inout NftCollector) throws(Unexpected) {
        if let rule = item["rule"] {
            collector.add(Rule(
                family: try string(rule, "family", in: "rule"), table: try string(rule, "table", in: "rule"),
                chain: try string(rule, "chain", in: "rule"), handle: rule["handle"]?.int, comment: rule["comment"]?.string,
                expr: try array(rule, "expr", in: "rule")))
        } else if let chain = item["chain"] {
            collector.add(Chain(
                family: try string(chain, "family", in: "chain"), table: try string(chain, "table", in: "chain"),
                name: try string(chain, "name", in: "chain"), hook: chain["hook"]?.string))
        } else if let table = item["table"] {
            _ = try string(table, "family", in: "table")
            _ = try string(table, "name", in: "table")
        } else if let helper = item["ct helper"] {
            collector.add(Helper(
                family: try string(helper, "family", in: "ct helper"), table: try string(helper, "table", in: "ct helper"),
                name: try string(helper, "name", in: "ct helper"), type: try string(helper, "type", in: "ct helper"),
                protocol: helper["protocol"]?.string, l3proto: helper["l3proto"]?.string))
        }
    }

    private static func string(_ object: JSONValue, _ key: String, in what: String) throws(Unexpected) -> String {
        guard let value = object[key] else { throw Unexpected(description: "missing \"\(key)\" in a \(what)") }
        guard let s = value.string else { throw Unexpected(description: "\"\(key)\" of a \(what) is not a string") }
        return s
    }

    private static func array(_ object: JSONValue, _ key: String, in what: String) throws(Unexpected) -> [JSONValue] {
        guard let value = object[key] else { throw Unexpected(description: "missing \"\(key)\" in a \(what)") }
        guard let a = value.array else { throw Unexpected(description: "\"\(key)\" of a \(what) is not an array") }
        return a
    }
}

/// Builds ruleset facts from nft's tables one object at a time, from a JSON listing or from netlink: base chains
/// and jumps for every rule (for `ChainReach`), and only the rules a check can cite, so memory follows the rules
/// that matter rather than the size of the ruleset.
struct NftCollector {
    let skipping: Set<String>
    private var base: [String: [String: String]] = [:]
    private var jumps: [String: [(from: String, to: String)]] = [:]
    /// A rule a check can cite: its reference (hooks filled in at the end) and what it does.
    private struct Kept {
        var ref: RuleRef
        var nat: (kind: NatRule.Kind, fullyRandom: Bool)?
        var dropsInvalid: Bool
        var trace: Bool
        var notrack: Bool
        var helperAssignments: [(object: String, ports: [PortRange]?)]
        var helperMatch: String?
        var servesHelperPort: Bool
        var order: Int
    }

    private var kept: [Kept] = []
    private var helpers: [NftRuleset.Helper] = []
    /// Rules read in tables not skipped.
    private(set) var count = 0

    init(skipping: Set<String> = []) {
        self.skipping = skipping
    }

    static func key(_ family: String, _ table: String) -> String { family + " " + table }

    mutating func add(_ chain: NftRuleset.Chain) {
        if let hook = chain.hook { base[Self.key(chain.family, chain.table), default: [:]][chain.name] = hook }
    }

    mutating func add(_ helper: NftRuleset.Helper) {
        if !skipping.contains(Self.key(helper.family, helper.table)) { helpers.append(helper) }
    }

    mutating func add(_ rule: NftRuleset.Rule) {
        guard !skipping.contains(Self.key(rule.family, rule.table)) else { return }
        add(rule, NftStatements(rule.expr), order: count)
    }

    /// A rule whose statements are already read (the netlink reader reads them while the message is in its buffer).
    /// `order` is its place in the listing, since a rule read again later must still be cited in its place.
    mutating func add(_ rule: NftRuleset.Rule, _ s: NftStatements, order: Int) {
        guard !skipping.contains(Self.key(rule.family, rule.table)) else { return }
        count += 1
        if !s.jumps.isEmpty { jumps[Self.key(rule.family, rule.table), default: []] += s.jumps.map { (rule.chain, $0) } }
        guard Self.matters(s) else { return }
        // As `nft -a list ruleset` prints a rule.
        var text = s.words.joined(separator: " ")
        if let comment = rule.comment { text += " comment \"\(comment)\"" }
        if let handle = rule.handle { text += " # handle \(handle)" }
        let ref = RuleRef(
            backend: .nftables, family: rule.family, table: rule.table, chain: rule.chain, handle: rule.handle, match: s.match,
            text: text, nftExpr: JSONValue.array(rule.expr).serialized, nftComment: rule.comment)
        kept.append(Kept(
            ref: ref, nat: s.nat, dropsInvalid: s.dropsInvalid, trace: s.trace, notrack: s.notrack,
            helperAssignments: s.helperAssignments, helperMatch: s.helperMatch,
            servesHelperPort: s.servesService && XtFacts.servesHelperPort(s.match), order: order))
    }

    /// Whether the rule adds a fact a check reads (the cases of `finish`).
    static func matters(_ s: NftStatements) -> Bool {
        s.nat != nil || s.dropsInvalid || s.trace || s.notrack || !s.helperAssignments.isEmpty || s.helperMatch != nil
            || (s.servesService && XtFacts.servesHelperPort(s.match))
    }

    /// Chains reached from a hook so far, per table key: for deciding whose verdict maps are worth reading.
    func reachedChains() -> [String: Set<String>] {
        var reached: [String: Set<String>] = [:]
        for table in Set(base.keys).union(jumps.keys) {
            reached[table] = Set(ChainReach.hooks(base: base[table] ?? [:], jumps: jumps[table] ?? []).keys)
        }
        return reached
    }

    /// Adds the facts to `ruleset`; returns the number of rules read.
    func finish(into ruleset: inout Ruleset) -> Int {
        ruleset.helperObjects += helpers.map {
            HelperObject(family: $0.family, table: $0.table, name: $0.name, type: $0.type, l4proto: $0.protocol, l3proto: $0.l3proto)
        }
        var hooks: [String: [String: [String]]] = [:]
        for table in Set(base.keys).union(jumps.keys) {
            hooks[table] = ChainReach.hooks(base: base[table] ?? [:], jumps: jumps[table] ?? [])
        }
        for k in kept.sorted(by: { $0.order < $1.order }) {
            var ref = k.ref
            ref.hooks = hooks[Self.key(ref.family, ref.table)]?[ref.chain] ?? []
            if let nat = k.nat { ruleset.nat.append(NatRule(kind: nat.kind, fullyRandom: nat.fullyRandom, rule: ref)) }
            if k.dropsInvalid { ruleset.invalidDrops.append(ref) }
            if k.trace { ruleset.traces.append(ref) }
            if k.notrack { ruleset.notracks.append(ref) }
            for assignment in k.helperAssignments {
                var scoped = ref
                if let ports = assignment.ports { scoped.match.destinationPorts = ports }
                let type = helpers.first { $0.family == ref.family && $0.table == ref.table && $0.name == assignment.object }?.type
                ruleset.helperAssignments.append(HelperRule(helper: type ?? assignment.object, object: assignment.object, rule: scoped))
            }
            if let helper = k.helperMatch { ruleset.helperMatches.append(HelperRule(helper: helper, rule: ref)) }
            if k.servesHelperPort { ruleset.helperPortRules.append(ref) }
        }
        return count
    }
}
