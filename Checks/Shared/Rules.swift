import DoctorCore
import Foundation

/// What every ruleset check does first, and how it cites rules.
enum Rules {
    /// The finding when the rules cannot be judged: a tool was refused (skipped) or failed (error), or no tool
    /// could be asked at all (not applicable); nil when the facts are complete.
    static func unreadable(_ info: CheckInfo, _ ruleset: Ruleset) -> Finding? {
        let evidence = sources(ruleset)
        if let problem = ruleset.problem {
            var finding = info.unreadable(problem, what: "the ruleset")
            finding.evidence = evidence
            return finding
        }
        if ruleset.nothingRead {
            let why = ruleset.sources.compactMap(\.rules.problem).joined(separator: "; ")
            // A collection that kept no rules says nothing about the host's: skipped, not "the host has none".
            if ruleset.incomplete != nil { return info.skipped("no firewall rules were collected: \(why)", evidence: evidence) }
            return info.notApplicable("no firewall rules could be read: \(why)", evidence: evidence)
        }
        return nil
    }

    /// A conclusion that rests on a rule not being there ("no NAT rules", "no trace rule"), or `skipped` when the
    /// rules read are not all the rules (a sosreport without the nft ruleset): not found is not absent.
    static func notAllCollected(_ info: CheckInfo, _ ruleset: Ruleset, nothing what: String) -> Finding? {
        guard let incomplete = ruleset.incomplete else { return nil }
        return info.skipped(
            "\(what) in the rules read, but not every rule was collected (\(incomplete))",
            explanation: """
                The rules read hold \(what), but the collection lacks some of the host's rules (\(incomplete)), so \
                whether the host has any cannot be told. Check the live host, or collect the missing ruleset \
                (`nft -j list ruleset`, `iptables-save`).
                """,
            evidence: sources(ruleset))
    }

    /// False when `nft` is not installed (or, on a copied root, was not run): then fixes use iptables.
    static func nftInstalled(_ ruleset: Ruleset) -> Bool {
        !ruleset.sources.contains { source in
            guard source.backend == .nftables, case .absent = source.rules else { return false }
            return true
        }
    }

    /// One evidence line per tool asked: "iptables-nft-save: 21 rules".
    static func sources(_ ruleset: Ruleset) -> [Evidence] {
        ruleset.sources.map { Evidence($0.origin, Wording.reading($0.rules.map { "\($0) rules" })) }
    }

    /// "iptables-legacy 3, iptables-nft 0 rules; nftables not collected": per backend, the rules read or that none were.
    static func counts(_ ruleset: Ruleset) -> String {
        var counted: [String] = [], missing: [String] = []
        for backend in [RulesetBackend.iptablesLegacy, .iptablesNft, .nftables, .iptables] {
            let sources = ruleset.sources.filter { $0.backend == backend }
            guard !sources.isEmpty else { continue }
            let name = backend == .iptables ? "iptables (backend not recorded)" : backend.rawValue
            if sources.contains(where: { $0.rules.value != nil }) { counted.append("\(name) \(ruleset.ruleCount(backend))") }
            else if backend != .iptables || ruleset.incomplete != nil { missing.append("\(name) not collected") }
        }
        return ([counted.isEmpty ? nil : counted.joined(separator: ", ") + " rules"] + missing.map { $0 as String? })
            .compactMap { $0 }.joined(separator: "; ")
    }

    static func evidence(_ rule: RuleRef) -> Evidence {
        Evidence(rule.place, rule.text)
    }

    /// "ip, ip6" → which IP families a rule of this nft/iptables family sees.
    static func ipFamilies(_ family: String) -> Set<String> {
        switch family {
        case "ip": ["ip"]
        case "ip6": ["ip6"]
        case "inet": ["ip", "ip6"]
        default: []
        }
    }

    /// Whether two rules can apply to the same packets as far as protocol goes.
    static func protocolsMeet(_ a: RuleMatch, _ b: RuleMatch) -> Bool {
        guard let pa = a.protocols, let pb = b.protocols else { return true }
        return !Set(pa).isDisjoint(with: pb)
    }

    /// Whether two port conditions can both hold (no condition holds for every port).
    static func portsMeet(_ a: [PortRange]?, _ b: [PortRange]?) -> Bool {
        guard let a, let b else { return true }
        return a.contains { x in b.contains { x.overlaps($0) } }
    }

    /// "21", "{ 21, 2121 }", "1000-2000" as nft writes port conditions.
    static func nftPorts(_ ports: [PortRange]) -> String {
        ports.count == 1 ? ports[0].description : "{ " + ports.map(\.description).joined(separator: ", ") + " }"
    }

    /// "21", "21,2121", "1000:2000" as iptables writes them.
    static func iptablesPorts(_ ports: [PortRange]) -> String {
        ports.map { $0.lower == $0.upper ? "\($0.lower)" : "\($0.lower):\($0.upper)" }.joined(separator: ",")
    }
}

/// nft commands as argument vectors. Rules ctdoctor proposes go into its own table, `inet ctdoctor`, so that
/// they are easy to find and `nft delete table inet ctdoctor` removes them all.
enum Nft {
    static let table = "ctdoctor"

    static func addTable() -> RemediationStep {
        RemediationStep(
            purpose: "Create ctdoctor's own table (nothing happens if it exists): every rule ctdoctor proposes goes there.",
            argv: ["nft", "add", "table", "inet", table], scope: .runtime,
            // An empty table changes nothing, and it may hold earlier fixes: undo leaves it.
            undo: [])
    }

    /// A base chain in ctdoctor's table; undone by deleting the chain with its rules.
    static func addChain(_ name: String, hook: String, priority: Int, purpose: String) -> RemediationStep {
        RemediationStep(
            purpose: purpose,
            argv: ["nft", "add", "chain", "inet", table, name, "{ type filter hook \(hook) priority \(priority); policy accept; }"],
            scope: .runtime,
            undo: ["nft", "delete", "chain", "inet", table, name])
    }

    /// A rule in one of ctdoctor's chains; undone by emptying that chain (ctdoctor's chains hold only its own rules).
    static func addRule(_ chain: String, _ words: [String], purpose: String, risk: RemediationStep.Risk = .safe) -> RemediationStep {
        RemediationStep(purpose: purpose, argv: ["nft", "add", "rule", "inet", table, chain] + words, scope: .runtime, risk: risk,
                        undo: ["nft", "flush", "chain", "inet", table, chain])
    }

    /// Adds a deleted rule back from its nft JSON (at the end of its chain).
    static func readdRule(_ rule: RuleRef) -> [String]? {
        guard let expr = rule.nftExpr, let data = expr.data(using: .utf8),
              let parsed = try? JSONDecoder().decode([JSONValue].self, from: data) else { return nil }
        let command = ["nftables": [["add": ["rule": JSONAddRule(family: rule.family, table: rule.table, chain: rule.chain, comment: rule.nftComment, expr: parsed)]]]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(command) else { return nil }
        return ["nft", "-j", String(decoding: json, as: UTF8.self)]
    }

    private struct JSONAddRule: Encodable {
        var family: String
        var table: String
        var chain: String
        var comment: String?
        var expr: [JSONValue]
    }

    /// nft's parser reads its arguments as one line, so a name it cannot read as a plain word (spaces, quotes,
    /// `$(…)`) goes through nft's JSON input instead, where any string is just a string.
    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    }

    /// `nft delete rule FAMILY TABLE CHAIN handle N`, or the same as nft JSON when a name is not a plain word.
    static func deleteRule(_ rule: RuleRef) -> [String]? {
        guard let handle = rule.handle else { return nil }
        if [rule.family, rule.table, rule.chain].allSatisfy(isPlainName) {
            return ["nft", "delete", "rule", rule.family, rule.table, rule.chain, "handle", String(handle)]
        }
        let command = ["nftables": [["delete": ["rule": JSONRule(family: rule.family, table: rule.table, chain: rule.chain, handle: handle)]]]]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(command) else { return nil }
        return ["nft", "-j", String(decoding: data, as: UTF8.self)]
    }

    private struct JSONRule: Encodable {
        var family: String
        var table: String
        var chain: String
        var handle: Int
    }
}

/// iptables commands for a rule read from iptables-save: its own command (`iptables-legacy`, `ip6tables-nft`…),
/// table and chain, and the exact words iptables-save printed.
enum Iptables {
    static func delete(_ rule: RuleRef) -> [String]? {
        guard let command = rule.command, let spec = rule.spec else { return nil }
        return [command, "-t", rule.table, "-D", rule.chain] + spec
    }

    /// Puts the rule back where it was.
    static func reinsert(_ rule: RuleRef) -> [String]? {
        guard let command = rule.command, let spec = rule.spec, let position = rule.position else { return nil }
        return [command, "-t", rule.table, "-I", rule.chain, String(position)] + spec
    }
}
