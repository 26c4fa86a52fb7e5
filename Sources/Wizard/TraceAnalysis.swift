import Foundation
/// Trace events turned into packet paths: each table/chain/rule a packet hit, its verdicts, the NAT rewrites seen
/// in its headers, and the rule that decided its fate. Packets that loop back through `lo` get a new trace id on
/// input; a path that continues one whose last header it starts with is joined to it.
public struct TraceAnalysis: Sendable, Codable, Equatable {
    public struct Hop: Sendable, Codable, Equatable {
        public var place: String
        public var ruleHandle: UInt64?
        public var rule: String?
        public var kind: TraceRecord.Kind
        public var verdict: String?
        public var packet: PacketHeader?

        /// nft rules have handles; iptables-legacy rules are numbered in their chain.
        public var numberWord: String { place.hasPrefix(LegacyTrace.family + " ") ? "rule" : "handle" }

        /// `inet f inp: tcp dport 2222 drop (handle 2)`, or `policy drop of inet f inp`.
        public var text: String {
            switch kind {
            case .policy: return "policy \(verdict ?? "?") of \(place)"
            case .return: return "return from \(place)"
            case .rule:
                let what = rule ?? "rule handle \(ruleHandle.map(String.init) ?? "?") (not in the ruleset any more)"
                return "\(place): \(what)" + (ruleHandle.map { " (\(numberWord) \($0))" } ?? "")
            }
        }
    }

    public struct Rewrite: Sendable, Codable, Equatable {
        public var before: PacketHeader
        public var after: PacketHeader
        /// The NAT rule the rewrite followed, when the trace shows it.
        public var by: Hop?

        public var kind: String {
            before.destination != after.destination || before.destinationPort != after.destinationPort ? "DNAT" : "SNAT"
        }

        public var text: String {
            let change = kind == "DNAT" ? "\(before.to) → \(after.to)" : "\(before.from) → \(after.from)"
            return "\(kind) \(change)" + (by.map { " in \($0.place): \($0.rule ?? "handle \($0.ruleHandle.map(String.init) ?? "?")")" } ?? "")
        }
    }

    public enum Fate: Sendable, Codable, Equatable {
        case dropped(by: Hop)
        case accepted
        /// The trace ended without a final verdict (the window closed, events were lost).
        case unknown
    }

    public struct Path: Sendable, Codable, Equatable {
        public private(set) var ids: [UInt32]
        public private(set) var hops: [Hop]
        public private(set) var rewrites: [Rewrite]
        public private(set) var fate: Fate
        public var first: PacketHeader?
        /// The first event was in ctdoctor's output trace chain: a packet this host sent.
        public var startedLocally: Bool

        /// "dropped by `inet f inp: tcp dport 2222 drop` (handle 2), after DNAT 8080 → 127.0.0.1:2222 in ip nat out".
        public private(set) var verdict = ""

        init(ids: [UInt32], hops: [Hop], first: PacketHeader?, startedLocally: Bool) {
            self.ids = ids
            self.hops = hops
            self.first = first
            self.startedLocally = startedLocally
            rewrites = []
            fate = .unknown
            settle()
        }

        /// Joins the hops of a later trace id (the packet after a loopback re-entry).
        mutating func append(_ id: UInt32, _ more: [Hop]) {
            ids.append(id)
            hops += more
            settle()
        }

        private mutating func settle() {
            rewrites = TraceAnalysis.rewrites(hops)
            fate = TraceAnalysis.fate(hops)
            verdict = describe()
        }

        private func describe() -> String {
            let after = rewrites.isEmpty ? "" : ", after " + rewrites.map(\.text).joined(separator: ", then ")
            switch fate {
            case .dropped(let hop):
                if hop.kind == .policy { return "dropped by the \(hop.text)\(after)" }
                return "dropped by `\(hop.place): \(hop.rule ?? "?")`\(hop.ruleHandle.map { " (\(hop.numberWord) \($0))" } ?? "")\(after)"
            case .accepted: return "accepted by every chain it passed\(after)"
            case .unknown: return "no final verdict seen in the window\(after)"
            }
        }
    }

    public var paths: [Path]

    public init(events: [TraceRecord], rules: RuleText) {
        var order: [UInt32] = []
        var byID: [UInt32: [TraceRecord]] = [:]
        for event in events {
            if byID[event.id] == nil { order.append(event.id) }
            byID[event.id, default: []].append(event)
        }
        var paths: [Path] = []
        for id in order {
            let group = byID[id] ?? []
            let hops = group.map {
                Hop(place: $0.place, ruleHandle: $0.ruleHandle, rule: rules.rule(for: $0), kind: $0.kind, verdict: $0.verdict, packet: $0.packet)
            }
            let firstHeader = group.compactMap(\.packet).first
            // Loopback: a packet ctdoctor's output chain marked comes back in through lo under a new id. Its source
            // (address, port) is the client's, which DNAT leaves alone; the first such id continues that path.
            let local = group.first.map { $0.table == TracePlan.table && $0.chain == "out" } ?? false
            if !local, let firstHeader,
               let i = paths.lastIndex(where: { path in
                   path.ids.count == 1 && path.fate == .accepted && path.startedLocally
                       && path.first.map { $0.proto == firstHeader.proto && $0.source == firstHeader.source && $0.sourcePort == firstHeader.sourcePort } == true
               }) {
                paths[i].append(id, hops)
                continue
            }
            paths.append(Path(ids: [id], hops: hops, first: firstHeader, startedLocally: local))
        }
        self.paths = paths
    }

    static func fate(_ hops: [Hop]) -> Fate {
        if let drop = hops.first(where: { $0.verdict == "drop" }) { return .dropped(by: drop) }
        if hops.contains(where: { $0.verdict == "accept" }) { return .accepted }
        return .unknown
    }

    /// Header changes between consecutive hops, each attributed to the last NAT rule before it.
    static func rewrites(_ hops: [Hop]) -> [Rewrite] {
        var result: [Rewrite] = []
        var last: PacketHeader?
        var natRule: Hop?
        for hop in hops {
            if let rule = hop.rule?.lowercased(), ["dnat", "snat", "redirect", "masquerade"].contains(where: { rule.contains($0) }) { natRule = hop }
            guard let packet = hop.packet else { continue }
            if let before = last, before != packet, before.proto == packet.proto {
                result.append(Rewrite(before: before, after: packet, by: natRule))
                natRule = nil
            }
            last = packet
        }
        return result
    }

    /// The path that best explains the symptom: the first dropped one, else the first.
    public var deciding: Path? { paths.first { if case .dropped = $0.fate { true } else { false } } ?? paths.first }
}
