import DoctorCore
/// What one nft rule's statements do, read from its JSON `expr` array. Shapes follow libnftables-json(5) as
/// nft 1.0.6 prints them; anything else is kept only as a word in the rule's text.
struct NftStatements {
    var match = RuleMatch()
    var nat: (kind: NatRule.Kind, fullyRandom: Bool)?
    var dropsInvalid = false
    var trace = false
    var notrack = false
    /// `ct helper set "OBJECT"`, or one entry per object of `ct helper set tcp dport map { 21 : "OBJECT" }`.
    var helperAssignments: [(object: String, ports: [PortRange]?)] = []
    /// `ct helper "NAME"` as a match.
    var helperMatch: String?
    var jumps: [String] = []
    /// The rule accepts or forwards (dnat, redirect) what it matches.
    var servesService = false
    /// The rule in nft's words, approximately (for evidence).
    var words: [String] = []

    static let transportProtocols: Set<String> = ["tcp", "udp", "udplite", "sctp", "dccp"]

    init(_ expr: [JSONValue]) {
        var verdict: String?
        for statement in expr {
            guard let (key, value) = statement.single else { continue }
            switch key {
            case "match":
                readMatch(value)
            case "vmap":
                words.append("\(Self.render(value["key"])) vmap \(Self.render(value["data"]))")
                if Self.isCtState(value["key"]) {
                    for entry in value["data"]?["set"]?.array ?? [] {
                        guard let pair = entry.array, pair.count == 2 else { continue }
                        if Self.strings(pair[0]).contains("invalid"), ["drop", "reject"].contains(pair[1].single?.key) {
                            dropsInvalid = true
                        }
                    }
                }
                jumps += Self.jumpTargets(value)
            case "masquerade", "snat", "dnat", "redirect":
                let flags = value["flags"].map(Self.strings) ?? []
                let kind = NatRule.Kind(rawValue: key)!
                nat = (kind, flags.contains("fully-random"))
                if kind == .dnat || kind == .redirect { servesService = true }
                words.append(([key] + Self.natWords(value) + flags).joined(separator: " "))
            case "mangle":
                if value["key"]?["meta"]?["key"]?.string == "nftrace" {
                    trace = value["value"]?.int != 0
                    words.append("meta nftrace set \(Self.render(value["value"]))")
                } else {
                    words.append("\(Self.render(value["key"])) set \(Self.render(value["value"]))")
                }
            case "notrack":
                notrack = true
                words.append("notrack")
            case "ct helper":
                readHelperAssignment(value)
            case "accept", "drop", "reject", "return", "continue", "queue":
                verdict = key
                words.append(key)
            case "jump", "goto":
                if let target = value["target"]?.string {
                    jumps.append(target)
                    verdict = key
                    words.append("\(key) \(target)")
                }
            case "xt":
                words.append("xt \(value["type"]?.string ?? "") \(value["name"]?.string ?? "")")
            default:
                words.append(key)
            }
        }
        if let verdict {
            if ["drop", "reject"].contains(verdict), match.ctStates?.contains("invalid") == true { dropsInvalid = true }
            if verdict == "accept" { servesService = true }
        }
    }

    private mutating func readMatch(_ value: JSONValue) {
        let op = value["op"]?.string ?? "=="
        let left = value["left"] ?? .null, right = value["right"] ?? .null
        words.append([Self.render(left), op == "==" || op == "in" ? nil : op, Self.render(right)].compactMap { $0 }.joined(separator: " "))
        let negated = op == "!="
        if let payload = left["payload"], let field = payload["field"]?.string {
            let proto = payload["protocol"]?.string ?? ""
            switch field {
            case "dport", "sport":
                if Self.transportProtocols.contains(proto) { match.protocols = [proto] }
                guard !negated else { return }
                if field == "dport" { match.destinationPorts = Self.ports(right) } else { match.sourcePorts = Self.ports(right) }
            case "saddr", "daddr":
                match.addresses.append("\(proto) \(field) \(negated ? "!= " : "")\(Self.render(right))")
            default: break
            }
        } else if let meta = left["meta"]?["key"]?.string {
            switch meta {
            case "l4proto": if !negated { match.protocols = Self.strings(right) }
            case "iifname", "iif": match.inInterface = (negated ? "!" : "") + Self.render(right)
            case "oifname", "oif": match.outInterface = (negated ? "!" : "") + Self.render(right)
            default: break
            }
        } else if let ct = left["ct"]?["key"]?.string {
            if ct == "state", !negated { match.ctStates = Self.strings(right) }
            if ct == "helper", !negated { helperMatch = right.string }
        }
    }

    private mutating func readHelperAssignment(_ value: JSONValue) {
        if let object = value.string {
            helperAssignments.append((object, nil))
            words.append("ct helper set \"\(object)\"")
            return
        }
        guard let map = value["map"] else {
            words.append("ct helper set \(Self.render(value))")
            return
        }
        let byPort = map["key"]?["payload"]?["field"]?.string == "dport"
        var objects: [(String, [PortRange])] = []
        for entry in map["data"]?["set"]?.array ?? [] {
            guard let pair = entry.array, pair.count == 2, let object = pair[1].string else { continue }
            let ports = Self.ports(pair[0]) ?? []
            if let i = objects.firstIndex(where: { $0.0 == object }) { objects[i].1 += ports } else { objects.append((object, ports)) }
        }
        for (object, ports) in objects { helperAssignments.append((object, byPort && !ports.isEmpty ? ports : nil)) }
        if byPort, let proto = map["key"]?["payload"]?["protocol"]?.string, Self.transportProtocols.contains(proto) {
            match.protocols = [proto]
        }
        words.append("ct helper set \(Self.render(map["key"])) map \(Self.render(map["data"]))")
    }

    static func isCtState(_ value: JSONValue?) -> Bool { value?["ct"]?["key"]?.string == "state" }

    /// Strings of a value that is a string or a set/array of them: "invalid", {"set": ["invalid", "new"]}.
    static func strings(_ value: JSONValue) -> [String] {
        if let s = value.string { return [s] }
        if let set = value["set"] { return strings(set) }
        return value.array?.flatMap(strings) ?? []
    }

    /// 21, {"set": [21, {"range": [5, 6]}]}, {"range": [1000, 2000]}.
    static func ports(_ value: JSONValue) -> [PortRange]? {
        if let p = value.int { return [PortRange(p)] }
        if let r = value["range"]?.array, r.count == 2, let lo = r[0].int, let hi = r[1].int { return [PortRange(lo, hi)] }
        let items = value["set"]?.array ?? value.array
        guard let items else { return nil }
        let ranges = items.compactMap(ports).flatMap { $0 }
        return ranges.isEmpty ? nil : ranges
    }

    static func jumpTargets(_ value: JSONValue) -> [String] {
        value.descendants.compactMap { node in
            guard let (key, inner) = node.single, key == "jump" || key == "goto" else { return nil }
            return inner["target"]?.string
        }
    }

    static func natWords(_ value: JSONValue) -> [String] {
        var words: [String] = []
        if let addr = value["addr"] { words.append("to " + render(addr) + (value["port"].map { ":" + render($0) } ?? "")) }
        else if let port = value["port"] { words.append("to :" + render(port)) }
        return words
    }

    /// nft-like text for a value, for evidence only.
    static func render(_ value: JSONValue?) -> String {
        guard let value else { return "" }
        switch value {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number: return value.int.map(String.init) ?? "\(value)"
        case .string(let s): return s
        case .array(let a): return a.map(render).joined(separator: " : ")
        case .object(let o):
            if let set = o["set"]?.array { return "{ " + set.map(render).joined(separator: ", ") + " }" }
            if let r = o["range"]?.array, r.count == 2 { return "\(render(r[0]))-\(render(r[1]))" }
            if let p = o["prefix"] { return "\(render(p["addr"]))/\(render(p["len"]))" }
            if let payload = o["payload"] { return "\(render(payload["protocol"])) \(render(payload["field"]))" }
            if let meta = o["meta"] { return "meta \(render(meta["key"]))" }
            if let ct = o["ct"] { return "ct \(render(ct["key"]))" }
            if let (key, inner) = value.single { return inner == .null ? key : "\(key) \(render(inner))" }
            return o.keys.sorted().joined(separator: " ")
        }
    }
}
