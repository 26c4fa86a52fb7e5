import DoctorCore
import Foundation

/// `nft -j list ruleset`: `{"nftables": [{"metainfo": …}, {"table": …}, {"chain": …}, {"rule": …}, {"ct helper": …}, …]}`.
/// Tables, chains, rules and ct helper objects are decoded; every other item (sets, maps, counters, flowtables) passes.
/// Rule expressions are heterogeneous, so they are decoded as `JSONValue` and read shape by shape.
enum NftRuleset {
    struct Document: Decodable {
        var nftables: [Item]
    }

    enum Item: Decodable {
        case table(Table)
        case chain(Chain)
        case rule(Rule)
        case helper(Helper)
        case other

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ s: String) { stringValue = s }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            if c.contains(Key("rule")) { self = .rule(try c.decode(Rule.self, forKey: Key("rule"))) }
            else if c.contains(Key("chain")) { self = .chain(try c.decode(Chain.self, forKey: Key("chain"))) }
            else if c.contains(Key("table")) { self = .table(try c.decode(Table.self, forKey: Key("table"))) }
            else if c.contains(Key("ct helper")) { self = .helper(try c.decode(Helper.self, forKey: Key("ct helper"))) }
            else { self = .other }
        }
    }

    struct Table: Decodable {
        var family: String
        var name: String
    }

    struct Chain: Decodable {
        var family: String
        var table: String
        var name: String
        var hook: String?
    }

    struct Rule: Decodable {
        var family: String
        var table: String
        var chain: String
        var handle: Int?
        var comment: String?
        var expr: [JSONValue]
    }

    struct Helper: Decodable {
        var family: String
        var table: String
        var name: String
        var type: String
        var `protocol`: String?
        var l3proto: String?
    }

    static func decode(_ text: String) -> Result<Document, DecodingError> {
        do {
            return .success(try JSONDecoder().decode(Document.self, from: Data(text.utf8)))
        } catch let error as DecodingError {
            return .failure(error)
        } catch {
            return .failure(.dataCorrupted(.init(codingPath: [], debugDescription: "\(error)")))
        }
    }

    /// Adds the facts of every table not in `skipping` ("family table", e.g. "ip filter") to `ruleset`;
    /// returns the number of rules read.
    static func collect(_ document: Document, skipping: Set<String>, into ruleset: inout Ruleset) -> Int {
        func key(_ family: String, _ table: String) -> String { family + " " + table }
        var base: [String: [String: String]] = [:]
        for case .chain(let chain) in document.nftables {
            if let hook = chain.hook { base[key(chain.family, chain.table), default: [:]][chain.name] = hook }
        }
        let rules = document.nftables.compactMap { item -> (Rule, NftStatements)? in
            guard case .rule(let rule) = item, !skipping.contains(key(rule.family, rule.table)) else { return nil }
            return (rule, NftStatements(rule.expr))
        }
        let helpers = document.nftables.compactMap { item -> Helper? in
            if case .helper(let helper) = item, !skipping.contains(key(helper.family, helper.table)) { return helper }
            return nil
        }
        ruleset.helperObjects += helpers.map {
            HelperObject(family: $0.family, table: $0.table, name: $0.name, type: $0.type, l4proto: $0.protocol, l3proto: $0.l3proto)
        }
        var jumps: [String: [(from: String, to: String)]] = [:]
        for (rule, statements) in rules {
            jumps[key(rule.family, rule.table), default: []] += statements.jumps.map { (rule.chain, $0) }
        }
        var hooks: [String: [String: [String]]] = [:]
        for table in Set(base.keys).union(jumps.keys) {
            hooks[table] = ChainReach.hooks(base: base[table] ?? [:], jumps: jumps[table] ?? [])
        }

        for (rule, s) in rules {
            // As `nft -a list ruleset` prints a rule.
            var text = s.words.joined(separator: " ")
            if let comment = rule.comment { text += " comment \"\(comment)\"" }
            if let handle = rule.handle { text += " # handle \(handle)" }
            let ref = RuleRef(
                backend: .nftables, family: rule.family, table: rule.table, chain: rule.chain,
                hooks: hooks[key(rule.family, rule.table)]?[rule.chain] ?? [], handle: rule.handle, match: s.match, text: text,
                nftExpr: Self.json(rule.expr), nftComment: rule.comment)
            if let nat = s.nat { ruleset.nat.append(NatRule(kind: nat.kind, fullyRandom: nat.fullyRandom, rule: ref)) }
            if s.dropsInvalid { ruleset.invalidDrops.append(ref) }
            if s.trace { ruleset.traces.append(ref) }
            if s.notrack { ruleset.notracks.append(ref) }
            for assignment in s.helperAssignments {
                var scoped = ref
                if let ports = assignment.ports { scoped.match.destinationPorts = ports }
                let type = helpers.first { $0.family == rule.family && $0.table == rule.table && $0.name == assignment.object }?.type
                ruleset.helperAssignments.append(HelperRule(helper: type ?? assignment.object, object: assignment.object, rule: scoped))
            }
            if let helper = s.helperMatch { ruleset.helperMatches.append(HelperRule(helper: helper, rule: ref)) }
            if s.servesService, XtFacts.servesHelperPort(s.match) { ruleset.helperPortRules.append(ref) }
        }
        return rules.count
    }

    static func json(_ expr: [JSONValue]) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(expr)).map { String(decoding: $0, as: UTF8.self) }
    }
}
