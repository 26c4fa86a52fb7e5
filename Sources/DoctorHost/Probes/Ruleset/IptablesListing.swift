import DoctorCore
/// `iptables -t TABLE -nvL` output, the form a sosreport keeps (`sos_commands/firewall_tables/iptables_-t_nat_-nvL`;
/// sos records no iptables-save). It does not say which backend held the rules, and its rules cannot be fed back
/// to iptables, but it shows targets, ports, interfaces and the matches' own words (`ctstate INVALID`, `random-fully`).
enum IptablesListing {
    /// Protocol column values (names, or numbers as newer iptables prints them).
    static let protocolNames: Set<String> = [
        "all", "tcp", "udp", "udplite", "icmp", "icmpv6", "ipv6-icmp", "esp", "ah", "sctp", "gre", "mh", "dccp",
    ]

    static func parse(_ text: String, table: String) -> XtTable {
        var result = XtTable(name: table, chains: [], rules: [])
        var chain: String?
        var position = 0
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw).trimmingWhitespace()
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if fields.first == "Chain", fields.count >= 2 {
                chain = fields[1]
                result.chains.append(fields[1])
                position = 0
                continue
            }
            // Rows start with the packet count ("97531", "2598K"); the column header starts with "pkts".
            guard let chain, fields.count >= 6, fields[0].first?.isNumber == true else { continue }
            position += 1
            if let rule = rule(fields, chain: chain, position: position, text: line) { result.rules.append(rule) }
        }
        return result
    }

    static func isProtocol(_ word: String) -> Bool {
        let w = word.hasPrefix("!") ? String(word.dropFirst()) : word
        return protocolNames.contains(w.lowercased()) || (!w.isEmpty && w.allSatisfy(\.isNumber))
    }

    /// `pkts bytes [target] prot [opt] in out source destination extras…`: the target column is blank for a rule
    /// without one, and ip6tables leaves the opt column blank, so the columns are found by what they hold.
    static func rule(_ fields: [String], chain: String, position: Int, text: String) -> XtRule? {
        var i = 2
        var rule = XtRule(chain: chain, position: position, spec: nil, text: text)
        if !isProtocol(fields[i]) {
            rule.target = fields[i]
            i += 1
        }
        guard i < fields.count else { return nil }
        let proto = fields[i]
        if proto != "all", proto != "0", !proto.hasPrefix("!") { rule.match.protocols = [proto.lowercased()] }
        i += 1
        if i < fields.count, ["--", "-f", "!f"].contains(fields[i]) { i += 1 }
        guard i + 3 < fields.count else { return nil }
        if fields[i] != "*" { rule.match.inInterface = fields[i] }
        if fields[i + 1] != "*" { rule.match.outInterface = fields[i + 1] }
        for (flag, address) in [("-s", fields[i + 2]), ("-d", fields[i + 3])] where !["0.0.0.0/0", "::/0"].contains(address) {
            rule.match.addresses.append(address.hasPrefix("!") ? "! \(flag) \(address.dropFirst())" : "\(flag) \(address)")
        }
        readExtras(Array(fields[(i + 4)...]), into: &rule)
        return rule
    }

    /// The matches' and target's own words, comments (`/* … */`) left out.
    static func readExtras(_ fields: [String], into rule: inout XtRule) {
        var words: [String] = []
        var inComment = false
        for f in fields {
            if inComment { if f.hasSuffix("*/") { inComment = false }; continue }
            if f.hasPrefix("/*") { inComment = !(f.count >= 4 && f.hasSuffix("*/")); continue }
            words.append(f)
        }
        for (i, word) in words.enumerated() {
            let next = i + 1 < words.count ? words[i + 1] : nil
            switch word {
            case "ctstate", "state":
                if let next, !next.hasPrefix("!") { rule.match.ctStates = next.lowercased().split(separator: ",").map(String.init) }
            case "random-fully":
                rule.randomFully = true
            case "notrack" where i > 0 && words[i - 1] == "CT":
                rule.notrack = true
            case "helper":
                if next == "match", i + 2 < words.count {
                    rule.helperMatch = words[i + 2].filter { $0 != "\"" }
                } else if i > 0, words[i - 1] == "CT" || rule.target == "CT", let next {
                    rule.ctHelper = next
                }
            case "dports":
                rule.match.destinationPorts = next.flatMap(XtFacts.ports)
            case "sports":
                rule.match.sourcePorts = next.flatMap(XtFacts.ports)
            default:
                for (prefix, destination) in [("dpt:", true), ("dpts:", true), ("spt:", false), ("spts:", false)]
                where word.hasPrefix(prefix) {
                    let ports = XtFacts.ports(String(word.dropFirst(prefix.count)))
                    if destination { rule.match.destinationPorts = ports } else { rule.match.sourcePorts = ports }
                }
            }
        }
        if rule.target == "NOTRACK" { rule.notrack = true }
    }
}
