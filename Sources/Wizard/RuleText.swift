import Foundation

/// The ruleset as `nft -a list ruleset` prints it, indexed by (family, table, chain, handle), so a trace event's
/// rule handle can be shown as the rule's own text.
public struct RuleText: Sendable, Codable, Equatable {
    public struct Key: Hashable, Sendable, Codable {
        public var family: String, table: String, chain: String, handle: UInt64
        public init(family: String, table: String, chain: String, handle: UInt64) {
            self.family = family
            self.table = table
            self.chain = chain
            self.handle = handle
        }
    }

    public private(set) var rules: [String: String] = [:]
    /// "family table chain" → its base-chain line ("type nat hook output priority -100; policy accept;").
    public private(set) var chains: [String: String] = [:]

    public init() {}

    public func rule(_ key: Key) -> String? { rules[Self.name(key)] }

    public mutating func set(_ key: Key, _ text: String) { rules[Self.name(key)] = text }

    public func rule(for event: TraceRecord) -> String? {
        guard let handle = event.ruleHandle else { return nil }
        return rule(Key(family: event.family, table: event.table, chain: event.chain, handle: handle))
    }

    static func name(_ key: Key) -> String { "\(key.family) \(key.table) \(key.chain) \(key.handle)" }

    /// Reads nft's text. Rules that nft wraps over several lines (long anonymous sets) are joined; anything not
    /// understood is skipped, never guessed.
    public static func parse(_ text: String) -> RuleText {
        var result = RuleText()
        var table: (family: String, name: String)?
        var chain: String?
        var depth = 0
        var pending = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let words = line.split(separator: " ").map(String.init)
            if depth == 0, words.first == "table", words.count >= 3 {
                table = (words[1], words[2])
                depth = 1
                continue
            }
            if depth == 1, words.first == "chain", words.count >= 2, line.contains("{") {
                chain = words[1]
                depth = 2
                continue
            }
            if depth == 1, line.hasSuffix("{") || line.contains("{ # handle") {
                depth = 10  // a set, map, flowtable, …: skip to its closing brace
                continue
            }
            if line == "}" {
                if pending.isEmpty {
                    depth = depth == 10 ? 1 : max(0, depth - 1)
                    if depth < 2 { chain = nil }
                    if depth == 0 { table = nil }
                    continue
                }
            }
            guard depth == 2, let table, let chain else { continue }
            if line.hasPrefix("type ") && line.contains(" hook ") {
                result.chains["\(table.family) \(table.name) \(chain)"] = line
                continue
            }
            pending += (pending.isEmpty ? "" : " ") + line
            guard let marker = pending.range(of: " # handle ", options: .backwards),
                  let handle = UInt64(pending[marker.upperBound...]) else { continue }
            let key = Key(family: table.family, table: table.name, chain: chain, handle: handle)
            result.rules[name(key)] = String(pending[..<marker.lowerBound])
            pending = ""
        }
        return result
    }
}
