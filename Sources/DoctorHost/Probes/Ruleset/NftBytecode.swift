import DoctorCore
import Netfilter

/// A set a rule looks values up in.
struct NftSetUse: Equatable {
    enum Role: Equatable { case match, verdictMap, dataMap, objectMap }
    var name: String
    var role: Role
    /// Whether a fact a check reads (conntrack states, ports, protocols, a helper) depends on the set's elements.
    var factsDependOnElements: Bool
    /// nft names the sets it makes for `{ … }` in a rule `__set%d`, `__map%d`, `__objmap%d`; they are listed with
    /// the rule. Named sets print as `@name`.
    var anonymous: Bool { name.hasPrefix("__") }
}

/// One element of a set, as NFT_MSG_GETSETELEM returns it.
struct NftSetElement: Equatable {
    var key: [UInt8]
    var keyEnd: [UInt8]?
    var intervalEnd = false
    var catchAll = false
    var verdict: JSONValue?
    var data: [UInt8]?
    var object: String?
}

/// nf_tables bytecode of one rule read back into the statements `nft -j list ruleset` prints for it, for the
/// expressions and idioms nft generates: loads into registers, then comparisons, lookups and statements that
/// read them. Like nft, it drops the protocol dependency a header field implies (`meta l4proto tcp` before
/// `tcp dport`) and names the header after it, prints a partly loaded address as a prefix, and a conntrack state
/// tested by a mask as `ct state in …`. What it does not know it keeps as a bare word, which changes the rule's
/// evidence text but no fact: the facts come from `NftStatements`, which reads these statements exactly as it
/// reads nft's JSON.
struct NftBytecode {
    /// The table's family: ip, ip6, inet, arp, bridge, netdev.
    let family: String
    /// The elements of an anonymous set by name, or nil when not (yet) read: the set then prints empty.
    var elements: (String) -> [NftSetElement]? = { _ in nil }
    /// Names of the table's ct helper objects, to tell an object map of helpers from one of counters or quotas.
    var helperObjects: Set<String> = []

    private(set) var setUses: [NftSetUse] = []
    private var statements: [JSONValue?] = []
    private var registers: [UInt32: Register] = [:]
    /// Loads not read yet, by first 32-bit register, in load order: the parts of a concatenation.
    private var pendingLoads: [UInt32] = []
    private var l4Dependency: (index: Int, proto: UInt8)?
    private var l3Dependency: (index: Int, name: String)?
    private var transportName: String?
    private var networkName: String?

    private enum Register {
        case field(NftField, mask: [UInt8]?, xor: [UInt8]?)
        case value([UInt8])
        case other(JSONValue)
    }

    init(family: String) {
        self.family = family
        switch family {
        case "ip": networkName = "ip"
        case "ip6": networkName = "ip6"
        default: networkName = nil
        }
    }

    var result: [JSONValue] { statements.compactMap { $0 } }

    /// NFTA_RULE_EXPRESSIONS: a list of NFTA_LIST_ELEM, each an expression's name and data.
    mutating func decode(_ expressions: NetlinkAttributes) {
        for element in expressions where element.type == 1 {
            let parts = element.nested
            guard let name = parts[1]?.string else { continue }
            expression(name, parts[2]?.nested ?? NetlinkAttributes(UnsafeRawBufferPointer(start: nil, count: 0)))
        }
    }

    // MARK: registers

    /// NFT_REG_1…4 (16 bytes each) are 32-bit registers 8, 12, 16, 20; 0 is the verdict.
    private static func slot(_ register: UInt32) -> UInt32 { register >= 1 && register <= 4 ? 8 + (register - 1) * 4 : register }

    private mutating func load(_ register: UInt32, _ value: Register) {
        let slot = Self.slot(register)
        registers[slot] = value
        pendingLoads.removeAll { $0 == slot }
        pendingLoads.append(slot)
    }

    /// The register's content, with the loads that follow it in the next registers when there are several
    /// (a concatenation `ip daddr . meta l4proto . th dport`).
    private mutating func read(_ register: UInt32) -> [Register] {
        let slot = Self.slot(register)
        guard let first = registers[slot] else { return [] }
        var parts = [first]
        if let at = pendingLoads.firstIndex(of: slot) {
            var next = slot + Self.slots(first)
            for candidate in pendingLoads[(at + 1)...] where candidate == next {
                guard let part = registers[candidate] else { break }
                parts.append(part)
                next = candidate + Self.slots(part)
            }
            pendingLoads.removeAll { s in s == slot || parts.count > 1 && s > slot && s < next }
        }
        return parts
    }

    private static func slots(_ register: Register) -> UInt32 {
        switch register {
        case .field(let f, _, _): UInt32((f.loadedLength + 3) / 4)
        case .value(let v): UInt32(max(1, (v.count + 3) / 4))
        case .other: 1
        }
    }

    private static func json(_ parts: [Register]) -> JSONValue {
        let each = parts.map { part -> JSONValue in
            switch part {
            case .field(let f, let mask, let xor): masked(f, mask: mask, xor: xor)
            case .value(let v): .number(Double(NftFieldType.bigEndian(v[...])))
            case .other(let j): j
            }
        }
        return each.count == 1 ? each[0] : ["concat": .array(each)]
    }

    /// `meta mark & 0x4000`, `meta mark | 0x4000`, `meta mark ^ 0x4000` as nft prints a bitwise on a field.
    private static func masked(_ field: NftField, mask: [UInt8]?, xor: [UInt8]?) -> JSONValue {
        guard let mask else { return field.json }
        let allOnes = mask.allSatisfy { $0 == 0xff }
        let xorValue = xor.map { NftFieldType.hostEndian($0[...]) } ?? 0
        let maskValue = NftFieldType.hostEndian(mask[...])
        let inverted = ~maskValue & (mask.count >= 8 ? UInt64.max : (UInt64(1) << UInt64(mask.count * 8)) - 1)
        if allOnes, xorValue != 0 { return ["^": [field.json, .number(Double(xorValue))]] }
        if !allOnes, xorValue != 0, xorValue == inverted { return ["|": [field.json, .number(Double(xorValue))]] }
        return ["&": [field.json, .number(Double(maskValue))]]
    }

    // MARK: expressions

    private mutating func expression(_ name: String, _ a: NetlinkAttributes) {
        switch name {
        case "payload": payload(a)
        case "meta": meta(a)
        case "ct": ct(a)
        case "bitwise": bitwise(a)
        case "byteorder":
            if let s = a[1]?.bigEndian, let d = a[2]?.bigEndian, let r = registers[Self.slot(UInt32(s))] {
                load(UInt32(d), r)
            }
        case "cmp": compare(a)
        case "range": range(a)
        case "lookup": lookup(a)
        case "immediate": immediate(a)
        case "counter":
            statements.append(["counter": ["packets": .number(Double(a[2]?.bigEndian ?? 0)), "bytes": .number(Double(a[1]?.bigEndian ?? 0))]])
        case "notrack": statements.append(["notrack": .null])
        case "nat": nat(a)
        case "masq": natLike("masquerade", flags: a[1], portMin: a[2], portMax: a[3])
        case "redir": natLike("redirect", flags: a[3], portMin: a[1], portMax: a[2])
        case "objref": objref(a)
        case "log":
            var log: [String: JSONValue] = [:]
            if let prefix = a[2]?.string { log["prefix"] = .string(prefix) }
            if let group = a[1]?.bigEndian { log["group"] = .number(Double(group)) }
            statements.append(["log": log.isEmpty ? .null : .object(log)])
        case "limit":
            let units: [UInt64: String] = [1: "second", 60: "minute", 3600: "hour", 86400: "day", 604800: "week"]
            statements.append(["limit": ["rate": .number(Double(a[1]?.bigEndian ?? 0)), "burst": .number(Double(a[3]?.bigEndian ?? 0)),
                                         "per": .string(units[a[2]?.bigEndian ?? 1] ?? "second")]])
        case "reject": reject(a)
        case "queue": statements.append(["queue": ["num": .number(Double(a[1]?.bigEndian ?? 0))]])
        case "dynset": dynset(a)
        case "numgen":
            if let d = a[1]?.bigEndian {
                let mode = a[3]?.bigEndian == 1 ? "random" : "inc"
                let json: JSONValue = ["numgen": ["mode": .string(mode), "mod": .number(Double(a[2]?.bigEndian ?? 0)),
                                                  "offset": .number(Double(a[4]?.bigEndian ?? 0))]]
                load(UInt32(d), .field(NftField(origin: .other, json: json, type: .hostEndian, fieldLength: 4, loadedLength: 4), mask: nil, xor: nil))
            }
        case "fib": fib(a)
        case "match", "target":
            statements.append(["xt": ["type": .string(name), "name": .string(a[1]?.string ?? "")]])
        case "exthdr", "rt", "socket", "osf", "xfrm", "tunnel", "hash":
            let destination: [String: UInt16] = ["exthdr": 1, "rt": 1, "socket": 2, "osf": 1, "xfrm": 1, "tunnel": 2, "hash": 2]
            if let d = a[destination[name]!]?.bigEndian {
                load(UInt32(d), .other([name: .null]))
            } else {
                statements.append([name: .null])
            }
        case "flow_offload": statements.append(["flow": ["op": .string("add"), "flowtable": .string("@" + (a[1]?.string ?? ""))]])
        default: statements.append([name: .null])
        }
    }

    private mutating func payload(_ a: NetlinkAttributes) {
        guard let base = a[2]?.bigEndian, let offset = a[3]?.bigEndian, let length = a[4]?.bigEndian else { return }
        if base == 1, networkName == nil, let dependency = l3Dependency {
            networkName = dependency.name
            statements[dependency.index] = nil
            l3Dependency = nil
        }
        if base == 2, let dependency = l4Dependency {
            transportName = NftFieldType.protocolNames[dependency.proto]
            statements[dependency.index] = nil
            l4Dependency = nil
        }
        let field = NftField.payload(base: UInt32(base), offset: UInt32(offset), length: UInt32(length),
                                     network: base == 1 ? networkName : nil, transport: transportName)
        loadOrSet(field, into: a[1], from: a[5])
    }

    private mutating func meta(_ a: NetlinkAttributes) {
        guard let key = a[2]?.bigEndian else { return }
        loadOrSet(NftField.meta(UInt32(key)), into: a[1], from: a[3])
    }

    private mutating func ct(_ a: NetlinkAttributes) {
        guard let key = a[2]?.bigEndian else { return }
        loadOrSet(NftField.ct(UInt32(key), direction: a[3].flatMap { $0.payload.first }), into: a[1], from: a[4])
    }

    /// A load of `field` into the destination register, or a statement setting it from the source register
    /// (`meta nftrace set 1`, `meta mark set …`, `ct mark set …`).
    private mutating func loadOrSet(_ field: NftField, into destination: NetlinkAttributes.Attribute?,
                                    from source: NetlinkAttributes.Attribute?) {
        if let d = destination?.bigEndian {
            load(UInt32(d), .field(field, mask: nil, xor: nil))
        } else if let s = source?.bigEndian {
            statements.append(["mangle": ["key": field.json, "value": value(of: UInt32(s), as: field)]])
        }
    }

    /// What a register holds, printed as a value of `field` (an immediate), or as the expression it was loaded with.
    private mutating func value(of register: UInt32, as field: NftField) -> JSONValue {
        let parts = read(register)
        if parts.count == 1, case .value(let bytes) = parts[0] { return field.type.json(bytes[...]) }
        return parts.isEmpty ? .null : Self.json(parts)
    }

    private mutating func bitwise(_ a: NetlinkAttributes) {
        guard let s = a[1]?.bigEndian, let d = a[2]?.bigEndian else { return }
        let op = a[6]?.bigEndian ?? 0
        guard op == 0, case .field(let field, _, _)? = registers[Self.slot(UInt32(s))] else {
            if let r = registers[Self.slot(UInt32(s))] { load(UInt32(d), r) }
            return
        }
        load(UInt32(d), .field(field, mask: Self.data(a[4]), xor: Self.data(a[5])))
    }

    /// NFTA_DATA_VALUE inside a nested data attribute.
    private static func data(_ attribute: NetlinkAttributes.Attribute?) -> [UInt8]? {
        attribute?.nested[1]?.bytes
    }

    private static let operators = ["==", "!=", "<", "<=", ">", ">="]

    private mutating func compare(_ a: NetlinkAttributes) {
        guard let s = a[1]?.bigEndian, let data = Self.data(a[3]) else { return }
        let op = Self.operators[Int(min(a[2]?.bigEndian ?? 0, 5))]
        let parts = read(UInt32(s))
        guard parts.count == 1 else {
            statements.append(["match": ["op": .string(op), "left": Self.json(parts), "right": .string(NftFieldType.hex(data[...]))]])
            return
        }
        guard case .field(let field, let mask, let xor) = parts[0] else {
            statements.append(["match": ["op": .string(op), "left": Self.json(parts), "right": .number(Double(NftFieldType.bigEndian(data[...])))]])
            return
        }
        var left = field.json
        var right: JSONValue
        var shownOp = op
        if let mask, xor.map({ $0.allSatisfy { $0 == 0 } }) ?? true {
            if [.ctState, .ctStatus].contains(field.type), data.allSatisfy({ $0 == 0 }), op == "!=" || op == "==" {
                // `ct state invalid`: state & invalid != 0.
                shownOp = op == "!=" ? "in" : "!="
                let names = field.type == .ctState ? NftFieldType.ctStates : NftFieldType.ctStatuses
                right = NftFieldType.flags(UInt32(truncatingIfNeeded: NftFieldType.hostEndian(mask[...])), names)
            } else if [.ipv4, .ipv6].contains(field.type), let length = NftFieldType.prefixLength(mask[...]) {
                right = ["prefix": ["addr": field.type.json(data[...]), "len": .number(Double(length))]]
            } else {
                left = Self.masked(field, mask: mask, xor: xor)
                right = field.type == .hostEndian || field.type == .bigEndian ? field.type.json(data[...]) : field.value(data[...])
            }
        } else {
            right = field.value(data[...])
        }
        if op == "==", field.loadedLength == field.fieldLength {
            if field.type == .proto, field.json["meta"]?["key"]?.string == "l4proto" || field.isNetworkPayload {
                l4Dependency = (statements.count, data.first ?? 0)
            } else if field.type == .nfproto, let name = Self.networkName(data.first ?? 0) {
                l3Dependency = (statements.count, name)
            }
        }
        statements.append(["match": ["op": .string(shownOp), "left": left, "right": right]])
    }

    private static func networkName(_ nfproto: UInt8) -> String? { nfproto == 2 ? "ip" : nfproto == 10 ? "ip6" : nil }

    private mutating func range(_ a: NetlinkAttributes) {
        guard let s = a[1]?.bigEndian, let from = Self.data(a[3]), let to = Self.data(a[4]) else { return }
        let parts = read(UInt32(s))
        let type: NftFieldType = if case .field(let f, _, _)? = parts.first { f.type } else { .bigEndian }
        statements.append(["match": ["op": .string(a[2]?.bigEndian == 1 ? "!=" : "=="), "left": Self.json(parts),
                                     "right": ["range": [type.json(from[...]), type.json(to[...])]]]])
    }

    private mutating func lookup(_ a: NetlinkAttributes) {
        guard let name = a[1]?.string, let s = a[2]?.bigEndian else { return }
        let parts = read(UInt32(s))
        let key = Self.json(parts)
        let dreg = a[3]?.bigEndian
        let role: NftSetUse.Role = dreg == 0 ? .verdictMap : dreg != nil ? .dataMap : .match
        let fields = parts.compactMap { part -> NftField? in if case .field(let f, _, _) = part { f } else { nil } }
        setUses.append(NftSetUse(name: name, role: role, factsDependOnElements: Self.factsDepend(on: fields)))
        let content = setJSON(name, fields: fields, map: role != .match)
        switch role {
        case .verdictMap: statements.append(["vmap": ["key": key, "data": content]])
        case .dataMap: load(UInt32(dreg!), .other(["map": ["key": key, "data": content]]))
        case .match, .objectMap:
            let inverted = (a[5]?.bigEndian ?? 0) & 1 != 0
            statements.append(["match": ["op": .string(inverted ? "!=" : "=="), "left": key, "right": content]])
        }
    }

    /// Keys whose values a check reads: conntrack state and helper, protocols and ports.
    private static func factsDepend(on fields: [NftField]) -> Bool {
        fields.contains { f in
            switch f.origin {
            case .ct(let key): key == 0 || key == 6
            case .meta(let key): key == 16
            case .payload: f.type == .proto || f.type == .port
            case .other: false
            }
        }
    }

    /// `@name` for a named set; the elements of an anonymous one, `{"set": [...]}`, keys printed by their fields
    /// (and a map's values after them).
    private func setJSON(_ name: String, fields: [NftField], map: Bool) -> JSONValue {
        guard name.hasPrefix("__") else { return .string("@" + name) }
        guard let elements = elements(name) else { return ["set": []] }
        return ["set": .array(NftSetRendering(fields: fields, elements: elements).json(map: map))]
    }

    private mutating func immediate(_ a: NetlinkAttributes) {
        guard let d = a[1]?.bigEndian, let data = a[2]?.nested else { return }
        if d == 0, let verdict = data[2]?.nested {
            if let json = Self.verdict(verdict) { statements.append(json) }
        } else if let bytes = data[1]?.bytes {
            load(UInt32(d), .value(bytes))
        }
    }

    /// NFTA_DATA_VERDICT: code (signed, big-endian) and, for jump and goto, the chain.
    static func verdict(_ v: NetlinkAttributes) -> JSONValue? {
        guard let raw = v[1]?.bigEndian else { return nil }
        let code = Int32(bitPattern: UInt32(truncatingIfNeeded: raw))
        let chain = v[2]?.string ?? ""
        switch code {
        case 0: return ["drop": .null]
        case 1: return ["accept": .null]
        case 3: return ["queue": .null]
        case -1: return ["continue": .null]
        case -3: return ["jump": ["target": .string(chain)]]
        case -4: return ["goto": ["target": .string(chain)]]
        case -5: return ["return": .null]
        default: return ["verdict-\(code)": .null]
        }
    }

    private static let natFlags: [(UInt64, String)] = [(4, "random"), (16, "fully-random"), (8, "persistent"), (64, "netmap")]

    private static func flagsJSON(_ flags: UInt64) -> JSONValue? {
        let names = natFlags.filter { flags & $0.0 != 0 }.map { JSONValue.string($0.1) }
        return names.isEmpty ? nil : names.count == 1 ? names[0] : .array(names)
    }

    private mutating func nat(_ a: NetlinkAttributes) {
        let kind = a[1]?.bigEndian == 1 ? "dnat" : "snat"
        let natFamily = a[2]?.bigEndian
        let type: NftFieldType = natFamily == 10 ? .ipv6 : .ipv4
        var object: [String: JSONValue] = [:]
        if family == "inet", let natFamily, let name = Self.networkName(UInt8(truncatingIfNeeded: natFamily)) {
            object["family"] = .string(name)
        }
        if let addr = natRange(a[3], a[4], type) { object["addr"] = addr }
        if let port = natRange(a[5], a[6], .port) { object["port"] = port }
        if let flags = a[7].map({ $0.bigEndian }).flatMap(Self.flagsJSON) { object["flags"] = flags }
        statements.append([kind: object.isEmpty ? .null : .object(object)])
    }

    private mutating func natLike(_ kind: String, flags: NetlinkAttributes.Attribute?, portMin: NetlinkAttributes.Attribute?,
                                  portMax: NetlinkAttributes.Attribute?) {
        var object: [String: JSONValue] = [:]
        if let port = natRange(portMin, portMax, .port) { object["port"] = port }
        if let flags = flags.map({ $0.bigEndian }).flatMap(Self.flagsJSON) { object["flags"] = flags }
        statements.append([kind: object.isEmpty ? .null : .object(object)])
    }

    /// An address or port from its min and max registers: one value, a range, or a map's expression.
    private mutating func natRange(_ min: NetlinkAttributes.Attribute?, _ max: NetlinkAttributes.Attribute?, _ type: NftFieldType) -> JSONValue? {
        guard let low = min?.bigEndian else { return nil }
        let high = max?.bigEndian ?? low
        func one(_ register: UInt64) -> JSONValue {
            let parts = read(UInt32(register))
            if parts.count == 1, case .value(let bytes) = parts[0] { return type.json(bytes[...]) }
            return parts.isEmpty ? .null : Self.json(parts)
        }
        let lowValue = one(low)
        if high == low { return lowValue }
        return ["range": [lowValue, one(high)]]
    }

    private static let objectTypes: [UInt64: String] = [
        1: "counter", 2: "quota", 3: "ct helper", 4: "limit", 5: "connlimit", 7: "ct timeout", 8: "secmark",
        9: "ct expectation", 10: "synproxy",
    ]

    private mutating func objref(_ a: NetlinkAttributes) {
        if let type = a[1]?.bigEndian, let name = a[2]?.string {
            statements.append([Self.objectTypes[type] ?? "object": .string(name)])
            return
        }
        guard let s = a[3]?.bigEndian, let set = a[4]?.string else { return }
        let parts = read(UInt32(s))
        let fields = parts.compactMap { part -> NftField? in if case .field(let f, _, _) = part { f } else { nil } }
        setUses.append(NftSetUse(name: set, role: .objectMap, factsDependOnElements: true))
        let elements = set.hasPrefix("__") ? self.elements(set) : nil
        // An object map names its objects' type only in the set; a map whose objects are all ct helpers of the
        // table assigns helpers.
        let helpers = elements.map { !$0.isEmpty && $0.allSatisfy { $0.object.map(helperObjects.contains) ?? false } } ?? false
        let map: JSONValue = ["map": ["key": Self.json(parts), "data": setJSON(set, fields: fields, map: true)]]
        statements.append([helpers ? "ct helper" : "object map": map])
    }

    private mutating func reject(_ a: NetlinkAttributes) {
        let type = a[1]?.bigEndian ?? 0
        let code = a[2]?.payload.first ?? 0
        switch type {
        case 1: statements.append(["reject": ["type": .string("tcp reset")]])
        case 2:
            let names = ["no-route", "port-unreachable", "host-unreachable", "admin-prohibited"]
            statements.append(["reject": ["type": .string("icmpx"), "expr": .string(Int(code) < names.count ? names[Int(code)] : "\(code)")]])
        default:
            let v4 = [0: "net-unreachable", 1: "host-unreachable", 2: "prot-unreachable", 3: "port-unreachable",
                      9: "net-prohibited", 10: "host-prohibited", 13: "admin-prohibited"]
            let v6 = [0: "no-route", 1: "admin-prohibited", 3: "addr-unreachable", 4: "port-unreachable"]
            let six = family == "ip6"
            statements.append(["reject": ["type": .string(six ? "icmpv6" : "icmp"),
                                          "expr": .string((six ? v6 : v4)[Int(code)] ?? "\(code)")]])
        }
    }

    private mutating func dynset(_ a: NetlinkAttributes) {
        guard let set = a[1]?.string, let key = a[4]?.bigEndian else { return }
        let ops = ["add", "update", "delete"]
        let op = Int(a[3]?.bigEndian ?? 0)
        statements.append(["set": ["op": .string(op < ops.count ? ops[op] : "add"), "elem": Self.json(read(UInt32(key))),
                                   "set": .string("@" + set)]])
    }

    private mutating func fib(_ a: NetlinkAttributes) {
        guard let d = a[1]?.bigEndian else { return }
        let result = a[2]?.bigEndian ?? 0
        let flags = a[3]?.bigEndian ?? 0
        let flagNames = [(1, "saddr"), (2, "daddr"), (4, "mark"), (8, "iif"), (16, "oif")].filter { flags & UInt64($0.0) != 0 }
        let (name, type): (String, NftFieldType) = switch result {
        case 1: ("oif", .hostEndian)
        case 2: ("oifname", .ifname)
        default: ("type", .fibAddressType)
        }
        let json: JSONValue = ["fib": ["result": .string(name), "flags": .array(flagNames.map { .string($0.1) })]]
        load(UInt32(d), .field(NftField(origin: .other, json: json, type: type, fieldLength: 4, loadedLength: 4), mask: nil, xor: nil))
    }
}

/// The elements of an anonymous set or map as nft prints them inside a rule.
struct NftSetRendering {
    var fields: [NftField]
    var elements: [NftSetElement]

    func json(map: Bool) -> [JSONValue] {
        var out: [JSONValue] = []
        let interval = elements.contains { $0.intervalEnd }
        // nft prints elements sorted by value: keys in host byte order (conntrack states, marks) compare from
        // their last byte.
        let hostOrder = fields.count == 1 && [.ctState, .ctStatus, .hostEndian, .fibAddressType].contains(fields[0].type)
        let ordered = elements.sorted {
            hostOrder ? $0.key.reversed().lexicographicallyPrecedes($1.key.reversed()) : $0.key.lexicographicallyPrecedes($1.key)
        }
        var start: NftSetElement?
        for element in ordered {
            if element.catchAll {
                out.append(entry(.string("*"), element, map: map))
            } else if interval {
                if element.intervalEnd {
                    if let s = start { out.append(entry(range(s.key, Self.minusOne(element.key)), s, map: map)) }
                    start = nil
                } else {
                    if let s = start { out.append(entry(range(s.key, Array(repeating: 0xff, count: s.key.count)), s, map: map)) }
                    start = element
                }
            } else if let end = element.keyEnd, end != element.key {
                out.append(entry(range(element.key, end), element, map: map))
            } else {
                out.append(entry(key(element.key), element, map: map))
            }
        }
        if let s = start { out.append(entry(range(s.key, Array(repeating: 0xff, count: s.key.count)), s, map: map)) }
        return out
    }

    private func entry(_ key: JSONValue, _ element: NftSetElement, map: Bool) -> JSONValue {
        guard map else { return key }
        if let verdict = element.verdict { return [key, verdict] }
        if let object = element.object { return [key, .string(object)] }
        if let data = element.data { return [key, .number(Double(NftFieldType.bigEndian(data[...])))] }
        return key
    }

    /// A key split into the fields it concatenates, each padded to 4 bytes.
    private func key(_ bytes: [UInt8]) -> JSONValue {
        guard fields.count > 1 else { return (fields.first?.type ?? .bigEndian).json(bytes[...]) }
        var parts: [JSONValue] = []
        var offset = 0
        for field in fields {
            let end = min(bytes.count, offset + field.loadedLength)
            parts.append(field.type.json(bytes[min(offset, end)..<end]))
            offset += (field.loadedLength + 3) / 4 * 4
        }
        return ["concat": .array(parts)]
    }

    private func range(_ low: [UInt8], _ high: [UInt8]) -> JSONValue {
        if low == high { return key(low) }
        if fields.count == 1, [.ipv4, .ipv6].contains(fields[0].type), let length = Self.prefix(low, high) {
            return ["prefix": ["addr": key(low), "len": .number(Double(length))]]
        }
        return ["range": [key(low), key(high)]]
    }

    /// The prefix length when low…high is exactly one prefix.
    private static func prefix(_ low: [UInt8], _ high: [UInt8]) -> Int? {
        guard low.count == high.count else { return nil }
        let mask = zip(low, high).map { ~($0 ^ $1) }
        guard let length = NftFieldType.prefixLength(mask[...]) else { return nil }
        let hostBitsLow = zip(low, mask).allSatisfy { $0 & ~$1 == 0 }
        let hostBitsHigh = zip(high, mask).allSatisfy { $0 | $1 == 0xff }
        return hostBitsLow && hostBitsHigh ? length : nil
    }

    /// The interval end the kernel stores is one past the last value.
    static func minusOne(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for i in out.indices.reversed() {
            if out[i] > 0 { out[i] -= 1; return out }
            out[i] = 0xff
        }
        return out
    }
}
