import DoctorCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a register holds, as far as printing its value goes: nft prints an address, a port, a protocol name or a
/// conntrack state where the kernel only has bytes, and so must this reader to give the same JSON.
enum NftFieldType: Equatable {
    case ipv4, ipv6, port, proto, ifname, ctState, ctStatus, ctDirection, nfproto, fibAddressType, string
    /// An integer in network byte order (payload fields other than those above).
    case bigEndian
    /// An integer in host byte order (meta and ct keys: mark, length, zone, …).
    case hostEndian

    static let protocolNames: [UInt8: String] = [
        1: "icmp", 2: "igmp", 6: "tcp", 17: "udp", 33: "dccp", 47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp",
        132: "sctp", 136: "udplite",
    ]
    static let ctStates: [(UInt32, String)] = [(1, "invalid"), (2, "established"), (4, "related"), (8, "new"), (64, "untracked")]
    static let ctStatuses: [(UInt32, String)] = [
        (1, "expected"), (2, "seen-reply"), (4, "assured"), (8, "confirmed"), (16, "snat"), (32, "dnat"), (512, "dying"),
    ]
    static let addressTypes = [
        "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit",
        "throw", "nat", "xresolve",
    ]

    /// The JSON nft prints for `bytes` of this type (a string, a number, or a list of flag names).
    func json(_ bytes: ArraySlice<UInt8>) -> JSONValue {
        switch self {
        case .ipv4:
            guard bytes.count >= 4 else { return .string(Self.hex(bytes)) }
            return .string(bytes.prefix(4).map(String.init).joined(separator: "."))
        case .ipv6:
            return .string(Self.ipv6(bytes))
        case .port, .bigEndian:
            return .number(Double(Self.bigEndian(bytes)))
        case .proto:
            let p = bytes.first ?? 0
            return Self.protocolNames[p].map(JSONValue.string) ?? .number(Double(p))
        case .ifname, .string:
            return .string(Self.text(bytes))
        case .nfproto:
            switch bytes.first ?? 0 {
            case 2: return .string("ipv4")
            case 10: return .string("ipv6")
            default: return .number(Double(bytes.first ?? 0))
            }
        case .ctDirection:
            switch bytes.first ?? 0 {
            case 0: return .string("original")
            case 1: return .string("reply")
            default: return .number(Double(bytes.first ?? 0))
            }
        case .ctState:
            return Self.flags(UInt32(truncatingIfNeeded: Self.hostEndian(bytes)), Self.ctStates)
        case .ctStatus:
            return Self.flags(UInt32(truncatingIfNeeded: Self.hostEndian(bytes)), Self.ctStatuses)
        case .fibAddressType:
            let v = Int(Self.hostEndian(bytes))
            return v < Self.addressTypes.count ? .string(Self.addressTypes[v]) : .number(Double(v))
        case .hostEndian:
            return .number(Double(Self.hostEndian(bytes)))
        }
    }

    /// A value that is one flag prints as its name, several as a list of names, anything else as a number.
    static func flags(_ value: UInt32, _ names: [(UInt32, String)]) -> JSONValue {
        let set = names.filter { value & $0.0 != 0 }.map { JSONValue.string($0.1) }
        let known = names.reduce(0) { $0 | $1.0 }
        if set.isEmpty || value & ~known != 0 { return .number(Double(value)) }
        return set.count == 1 ? set[0] : .array(set)
    }

    static func bigEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 { bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }

    static func hostEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Interface names and helper names: NUL-padded; a name compared without its NUL is a prefix (`eth*`).
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        if let nul = bytes.firstIndex(of: 0) { return String(decoding: bytes[bytes.startIndex..<nul], as: UTF8.self) }
        return String(decoding: bytes, as: UTF8.self) + "*"
    }

    static func ipv6(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.count >= 16 else { return hex(bytes) }
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { raw in
            for (i, b) in bytes.prefix(16).enumerated() { raw[i] = b }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return hex(bytes) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        "0x" + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The number of leading one bits when `mask` is a prefix mask (ones then zeros), else nil.
    static func prefixLength(_ mask: ArraySlice<UInt8>) -> Int? {
        var length = 0, ended = false
        for byte in mask {
            for bit in (0..<8).reversed() {
                if byte & (1 << bit) != 0 {
                    if ended { return nil }
                    length += 1
                } else {
                    ended = true
                }
            }
        }
        return length
    }
}

/// How a rule loaded a value into a register: the JSON of the expression nft would print for it, the type of its
/// values, and its length in bytes.
struct NftField: Equatable {
    enum Origin: Equatable {
        /// A payload field: base (0 link, 1 network, 2 transport), offset and length in bytes.
        case payload(base: UInt32, offset: UInt32, length: UInt32)
        case meta(UInt32)
        case ct(UInt32)
        case other
    }

    var origin: Origin
    var json: JSONValue
    var type: NftFieldType
    /// The length of the whole field (an address loaded in part is a prefix of it).
    var fieldLength: Int
    var loadedLength: Int

    static func meta(_ key: UInt32) -> NftField {
        let (name, type, length): (String, NftFieldType, Int) = switch key {
        case 0: ("length", .hostEndian, 4)
        case 1: ("protocol", .bigEndian, 2)
        case 2: ("priority", .hostEndian, 4)
        case 3: ("mark", .hostEndian, 4)
        case 4: ("iif", .hostEndian, 4)
        case 5: ("oif", .hostEndian, 4)
        case 6: ("iifname", .ifname, 16)
        case 7: ("oifname", .ifname, 16)
        case 8: ("iiftype", .hostEndian, 2)
        case 9: ("oiftype", .hostEndian, 2)
        case 10: ("skuid", .hostEndian, 4)
        case 11: ("skgid", .hostEndian, 4)
        case 12: ("nftrace", .hostEndian, 1)
        case 13: ("rtclassid", .hostEndian, 4)
        case 14: ("secmark", .hostEndian, 4)
        case 15: ("nfproto", .nfproto, 1)
        case 16: ("l4proto", .proto, 1)
        case 17: ("ibrname", .ifname, 16)
        case 18: ("obrname", .ifname, 16)
        case 19: ("pkttype", .hostEndian, 1)
        case 20: ("cpu", .hostEndian, 4)
        case 21: ("iifgroup", .hostEndian, 4)
        case 22: ("oifgroup", .hostEndian, 4)
        case 23: ("cgroup", .hostEndian, 4)
        case 24: ("random", .bigEndian, 4)
        case 26: ("iifkind", .ifname, 16)
        case 27: ("oifkind", .ifname, 16)
        case 34: ("sdifname", .ifname, 16)
        default: ("meta-\(key)", .hostEndian, 4)
        }
        return NftField(origin: .meta(key), json: ["meta": ["key": .string(name)]], type: type, fieldLength: length, loadedLength: length)
    }

    static func ct(_ key: UInt32, direction: UInt8?) -> NftField {
        let (name, type, length): (String, NftFieldType, Int) = switch key {
        case 0: ("state", .ctState, 4)
        case 1: ("direction", .ctDirection, 1)
        case 2: ("status", .ctStatus, 4)
        case 3: ("mark", .hostEndian, 4)
        case 4: ("secmark", .hostEndian, 4)
        case 5: ("expiration", .hostEndian, 4)
        case 6: ("helper", .string, 16)
        case 7: ("l3proto", .nfproto, 1)
        case 8: ("saddr", .ipv4, 4)
        case 9: ("daddr", .ipv4, 4)
        case 10: ("protocol", .proto, 1)
        case 11: ("proto-src", .port, 2)
        case 12: ("proto-dst", .port, 2)
        case 17: ("zone", .hostEndian, 2)
        case 19: ("ip saddr", .ipv4, 4)
        case 20: ("ip daddr", .ipv4, 4)
        case 21: ("ip6 saddr", .ipv6, 16)
        case 22: ("ip6 daddr", .ipv6, 16)
        case 23: ("id", .bigEndian, 4)
        default: ("ct-\(key)", .hostEndian, 4)
        }
        var object: [String: JSONValue] = ["key": .string(name)]
        if let direction { object["dir"] = .string(direction == 0 ? "original" : "reply") }
        return NftField(origin: .ct(key), json: ["ct": .object(object)], type: type, fieldLength: length, loadedLength: length)
    }

    /// A payload field by its place, named as nft names it: `protocol` is what the rule's dependency says the
    /// header is (ip, ip6, tcp, …), or nil when nothing said so.
    static func payload(base: UInt32, offset: UInt32, length: UInt32, network: String?, transport: String?) -> NftField {
        let origin = Origin.payload(base: base, offset: offset, length: length)
        func named(_ proto: String, _ field: String, _ type: NftFieldType, _ full: Int) -> NftField {
            NftField(origin: origin, json: ["payload": ["protocol": .string(proto), "field": .string(field)]], type: type,
                     fieldLength: full, loadedLength: Int(length))
        }
        switch (base, network, offset) {
        case (1, "ip", 9) where length == 1: return named("ip", "protocol", .proto, 1)
        case (1, "ip", 12...15) where offset + length <= 16: return named("ip", "saddr", .ipv4, 4)
        case (1, "ip", 16...19) where offset + length <= 20: return named("ip", "daddr", .ipv4, 4)
        case (1, "ip", 8) where length == 1: return named("ip", "ttl", .bigEndian, 1)
        case (1, "ip6", 6) where length == 1: return named("ip6", "nexthdr", .proto, 1)
        case (1, "ip6", 7) where length == 1: return named("ip6", "hoplimit", .bigEndian, 1)
        case (1, "ip6", 8...23) where offset + length <= 24: return named("ip6", "saddr", .ipv6, 16)
        case (1, "ip6", 24...39) where offset + length <= 40: return named("ip6", "daddr", .ipv6, 16)
        default: break
        }
        if base == 2, length == 2, offset == 0 || offset == 2 {
            return named(transport ?? "th", offset == 0 ? "sport" : "dport", .port, 2)
        }
        let baseName = ["ll", "nh", "th", "ih"][Int(min(base, 3))]
        return NftField(origin: origin, json: ["payload": ["base": .string(baseName), "offset": .number(Double(offset * 8)),
                                                         "len": .number(Double(length * 8))]],
                        type: .bigEndian, fieldLength: Int(length), loadedLength: Int(length))
    }

    var isTransportPayload: Bool { if case .payload(2, _, _) = origin { true } else { false } }
    var isNetworkPayload: Bool { if case .payload(1, _, _) = origin { true } else { false } }

    /// Where the field's offset starts inside the whole field (an address loaded from its second byte, say).
    var offsetInField: Int {
        guard case .payload(1, let offset, _) = origin else { return 0 }
        switch json["payload"]?["field"]?.string {
        case "saddr": return Int(offset) - (type == .ipv4 ? 12 : 8)
        case "daddr": return Int(offset) - (type == .ipv4 ? 16 : 24)
        default: return 0
        }
    }

    /// The value `bytes` of this field prints as; a field loaded in part (`ip saddr 10.0.0.0/8` loads one byte) is
    /// a prefix of the whole.
    func value(_ bytes: ArraySlice<UInt8>) -> JSONValue {
        guard loadedLength < fieldLength, offsetInField == 0, type == .ipv4 || type == .ipv6 else { return type.json(bytes) }
        let padded = Array(bytes.prefix(loadedLength)) + Array(repeating: 0, count: fieldLength - min(bytes.count, loadedLength))
        return ["prefix": ["addr": type.json(padded[...]), "len": .number(Double(loadedLength * 8))]]
    }
}
