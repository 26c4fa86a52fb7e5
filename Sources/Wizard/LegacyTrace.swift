import Foundation
import DoctorCore

/// The iptables-legacy trace: where a namespace has only iptables-legacy rules (no nftables and no iptables-nft
/// rules), nf_tables traces would show none of them. Instead a `-j TRACE` rule at the top of the legacy raw table
/// (PREROUTING and OUTPUT, behind the person's match) marks the packets, and x_tables logs every rule they then hit
/// through the family's bound logger — nfnetlink_log, bound for the namespace while the trace runs — as
/// `TRACE: raw:PREROUTING:policy:2 ` or `TRACE: nat:OUTPUT:rule:1 ` with the packet's headers.
public enum LegacyTrace {
    public static let family = "iptables-legacy"

    public static let rawTableStays = "iptables-legacy's raw table does not exist in this namespace yet: the TRACE rules create it, and it stays, empty with policy ACCEPT, after they are deleted (x_tables cannot remove a table from a namespace)"

    public static let explain = "Only iptables-legacy rules exist here, which nf_tables traces do not see. A `-j TRACE` rule at the top of the legacy raw table (PREROUTING and OUTPUT, behind your match) marks the packets; x_tables then logs every rule they hit through the family's logger, which ctdoctor binds to nfnetlink_log in this namespace for the trace and reads itself (group 0). The TRACE rules and the logger binding are journaled and put back when the wizard ends (`ctdoctor fix --undo` after a crash)."

    /// Legacy only when the rules read are all legacy ones: no nftables rule, no iptables-nft rule, some legacy rule.
    /// nil when a count could not be read (then the nftables trace is used, as before).
    public static func onlyLegacy(_ sources: [RulesetSource]) -> Bool? {
        func count(_ backend: RulesetBackend) -> Int? {
            let readings = sources.filter { $0.backend == backend }.map(\.rules)
            var total = 0
            for reading in readings {
                switch reading {
                case .value(let n): total += n
                case .absent: continue
                default: return nil
                }
            }
            return total
        }
        guard let nft = count(.nftables), let ipnft = count(.iptablesNft), let legacy = count(.iptablesLegacy) else { return nil }
        return nft == 0 && ipnft == 0 && legacy > 0
    }

    /// The person's match in iptables words, from validated values only.
    public static func match(_ r: FlowRequest, inbound: Bool) -> [String] {
        var words: [String] = []
        if inbound, let iface = r.interface, !iface.isEmpty { words += ["-i", iface] }
        if let src = r.source, !src.isEmpty { words += ["-s", src] }
        if let dst = r.destination { words += ["-d", dst] }
        switch r.proto ?? .tcp {
        case .tcp, .udp:
            words += ["-p", (r.proto ?? .tcp).rawValue]
            if let port = r.destinationPort { words += ["--dport", String(port)] }
        case .icmp: words += ["-p", r.isIPv6 ? "ipv6-icmp" : "icmp"]
        }
        return words
    }

    /// The TRACE rules at the top of raw PREROUTING and OUTPUT, and nfnetlink_log bound as the family's logger;
    /// each undone by its inverse (the journal keeps the logger binding's previous value).
    public static func changes(_ r: FlowRequest) -> [RemediationStep] {
        let program = r.isIPv6 ? "ip6tables-legacy" : "iptables-legacy"
        let purpose = "Trace packets matching `\(match(r, inbound: true).joined(separator: " "))` through the iptables-legacy rules (temporarily): a -j TRACE rule at the top of the raw table"
        func rule(_ chain: String, inbound: Bool) -> RemediationStep {
            let spec = match(r, inbound: inbound) + ["-j", "TRACE"]
            return RemediationStep(purpose: purpose, argv: [program, "-t", "raw", "-I", chain, "1"] + spec, scope: .runtime,
                                   undo: [program, "-t", "raw", "-D", chain] + spec)
        }
        let key = r.isIPv6 ? "net.netfilter.nf_log.10" : "net.netfilter.nf_log.2"
        return [
            .sysctl(key, "nfnetlink_log", previous: nil,
                    purpose: "Bind nfnetlink_log as the \(r.isIPv6 ? "IPv6" : "IPv4") logger in this namespace, so ctdoctor reads the TRACE lines itself (temporarily)"),
            rule("PREROUTING", inbound: true), rule("OUTPUT", inbound: false),
        ]
    }

    /// `TRACE: nat:OUTPUT:rule:1 ` → (table, chain, kind, number); nil for any other prefix.
    public static func parse(prefix: String) -> (table: String, chain: String, kind: TraceRecord.Kind, number: UInt64)? {
        guard prefix.hasPrefix("TRACE: ") else { return nil }
        let fields = prefix.dropFirst(7).trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 4, !fields[0].isEmpty, !fields[1].isEmpty, let number = UInt64(fields[3]) else { return nil }
        let kind: TraceRecord.Kind
        switch fields[2] {
        case "rule": kind = .rule
        case "return": kind = .return
        case "policy": kind = .policy
        default: return nil
        }
        return (String(fields[0]), String(fields[1]), kind, number)
    }

    /// One logged TRACE line as a trace record: the rule's text and verdict from `rules`. The packet's IPv4 id (or
    /// the IPv6 flow label) with its source stands in for the trace id nf_tables would give: it survives NAT and the
    /// loopback re-entry, so one packet is one path.
    public static func record(prefix: String, payload: [UInt8], rules: LegacyRules) -> TraceRecord? {
        guard let place = parse(prefix: prefix) else { return nil }
        let packet = PacketHeader.decode(network: payload)
        var verdict: String?
        switch place.kind {
        case .rule: verdict = rules.verdict(table: place.table, chain: place.chain, number: place.number)
        case .policy: verdict = rules.policies["\(place.table) \(place.chain)"].map { $0 == "DROP" ? "drop" : "accept" }
        case .return: verdict = "return"
        }
        return TraceRecord(id: packetID(payload, packet), family: family, table: place.table, chain: place.chain, kind: place.kind,
                           ruleHandle: place.kind == .rule ? place.number : nil, verdict: verdict, packet: packet)
    }

    static func packetID(_ payload: [UInt8], _ packet: PacketHeader?) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        func mix(_ byte: UInt8) { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        if payload.first.map({ $0 >> 4 == 4 }) == true, payload.count >= 6 { payload[4..<6].forEach(mix) }
        if payload.first.map({ $0 >> 4 == 6 }) == true, payload.count >= 4 { payload[1..<4].forEach(mix) }
        (packet?.source ?? "").utf8.forEach(mix)
        String(packet?.sourcePort ?? 0).utf8.forEach(mix)
        return hash
    }
}

/// `iptables-legacy-save` read as (table, chain, rule number) → rule text, and each chain's policy.
public struct LegacyRules: Sendable, Equatable {
    /// "table chain" → rules in order, each without its `-A CHAIN ` prefix.
    public private(set) var rules: [String: [String]] = [:]
    /// "table chain" → ACCEPT or DROP.
    public private(set) var policies: [String: String] = [:]

    public init() {}

    public static func parse(_ text: String) -> LegacyRules {
        var result = LegacyRules()
        var table: String?
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("*") { table = String(line.dropFirst()); continue }
            guard let table else { continue }
            if line.hasPrefix(":") {
                let words = line.dropFirst().split(separator: " ")
                if words.count >= 2 { result.policies["\(table) \(words[0])"] = String(words[1]) }
            } else if line.hasPrefix("-A ") {
                let words = line.split(separator: " ", maxSplits: 2)
                guard words.count == 3 else { continue }
                result.rules["\(table) \(words[1])", default: []].append(String(words[2]))
            }
        }
        return result
    }

    public func rule(table: String, chain: String, number: UInt64) -> String? {
        guard let list = rules["\(table) \(chain)"], number >= 1, number <= UInt64(list.count) else { return nil }
        return list[Int(number - 1)]
    }

    /// What the rule's target does to the packet, as nf_tables traces name verdicts.
    public func verdict(table: String, chain: String, number: UInt64) -> String? {
        guard let text = rule(table: table, chain: chain, number: number) else { return nil }
        let words = text.split(separator: " ")
        guard let j = words.lastIndex(where: { $0 == "-j" || $0 == "-g" }), j + 1 < words.count else { return "continue" }
        switch words[j + 1] {
        case "DROP", "REJECT": return "drop"
        case "ACCEPT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP": return "accept"
        case "RETURN": return "return"
        case "LOG", "TRACE", "MARK", "CONNMARK", "CT", "NOTRACK", "NFLOG", "CHECKSUM", "TCPMSS", "DSCP", "TOS", "TTL": return "continue"
        case "NFQUEUE", "QUEUE": return "queue"
        default: return words[j] == "-g" ? "goto" : "jump"
        }
    }

    /// The rules as a `RuleText` keyed by rule number, so the trace analysis shows them like nft rules.
    public var ruleText: RuleText {
        var text = RuleText()
        for (place, list) in rules {
            let parts = place.split(separator: " ")
            guard parts.count == 2 else { continue }
            for (i, rule) in list.enumerated() {
                text.set(.init(family: LegacyTrace.family, table: String(parts[0]), chain: String(parts[1]), handle: UInt64(i + 1)), rule)
            }
        }
        return text
    }
}
