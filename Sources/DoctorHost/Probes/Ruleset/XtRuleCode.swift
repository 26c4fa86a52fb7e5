import DoctorCore
import Glibc
import Netfilter

/// One iptables-nft rule's bytecode, read as far as `XtablesNetlink` needs: whether a check can cite the rule, and
/// if not, the target `iptables-save` would print for it; if it can, its save line when it has one of the shapes
/// rendered here (addresses, interfaces, protocol, comment, a bare `-m tcp`/`-m udp` or one port, then ACCEPT, DROP or a single
/// DNAT destination: kube-proxy's endpoint rules).
struct XtRuleCode {
    enum Line {
        /// `-A CHAIN -j TARGET` (or `-g`, or no target): the rule matters only as a jump, or not at all.
        case placeholder([UInt8])
        /// A rule a check may cite, in iptables-save's words; `shape` names its form without its values.
        case rendered([UInt8], shape: String)
        /// A rule a check may cite that is not rendered here: its chain is listed.
        case cited
        /// An expression iptables-nft does not write: `iptables-nft-save` decides what the table is.
        case incompatible(String)
    }

    /// The expressions `iptables-nft-save` accepts in a table of its own (iptables 1.8.9's list), besides `limit`
    /// and `log` in the forms it writes; with any other, it decides alone how to show the table.
    static let compatible: Set<String> = ["match", "target", "payload", "meta", "cmp", "bitwise", "counter", "immediate", "lookup", "range"]
    /// Matches whose saved options can hold no word `IptablesSaveReader` acts on (`-j`, `--helper`, `--notrack`)
    /// and that decide no fact: a rule with only these, and no cited target, is kept as its jump alone.
    static let quietMatches: Set<String> = [
        "comment", "tcp", "udp", "conntrack", "state", "mark", "statistic", "addrtype", "multiport", "connmark", "icmp",
        "icmp6", "mac", "iprange", "length", "pkttype", "tcpmss", "owner",
    ]
    /// Targets that decide no fact and whose options hold no such word.
    static let quietTargets: Set<String> = ["MARK", "CONNMARK", "LOG", "NFLOG", "TCPMSS", "CLASSIFY", "DSCP", "TOS", "CHECKSUM", "CONNSECMARK"]

    let line: Line

    private enum Verdict {
        case accept, drop, jump(String), goto(String), returns, other
    }

    /// An xt match, or a port compared in bytecode (which iptables reads back as its protocol's match).
    private struct Match {
        var name: String
        var revision: UInt64
        var info: [UInt8]
        var port: Field?
    }

    private struct Field {
        var name: String
        var bytes: [UInt8]
        var negated: Bool
        var mask: [UInt8]?
    }

    init(family: String, chain: String, _ expressions: NetlinkAttributes) {
        var verdict: Verdict?
        var target: (name: String, revision: UInt64, info: [UInt8])?
        var matches: [Match] = []
        var order: [String] = []
        var fields: [Field] = []
        var loaded: (name: String, mask: [UInt8]?)?
        var quiet = true
        var renderable = true
        let width: UInt64 = family == "ip6" ? 16 : 4
        let (source, destination): (UInt64, UInt64) = family == "ip6" ? (8, 24) : (12, 16)
        for element in expressions where element.type == 1 {
            let e = element.nested
            let name = e[1]?.string ?? ""
            let data = e[2]?.nested ?? NetlinkAttributes(UnsafeRawBufferPointer(start: nil, count: 0))
            guard Self.compatible.contains(name) else {
                // A packet limit without flags (`-m limit`) and a log to a group (NFLOG) are iptables-nft's own.
                if (name == "limit" && data[4]?.bigEndian ?? 0 == 0 && data[5]?.bigEndian ?? 0 == 0) || (name == "log" && data[1] != nil) {
                    renderable = false
                    continue
                }
                line = .incompatible("expression `\(name)`")
                return
            }
            switch name {
            case "counter":
                break
            case "meta":
                if data[3] != nil { quiet = false }
                let key = data[2]?.bigEndian ?? 0
                loaded = ([6: "-i", 7: "-o", 16: "-p"][key] ?? "meta\(key)", nil)
            case "payload":
                if data[5] != nil { quiet = false }
                let base = data[2]?.bigEndian ?? 0, offset = data[3]?.bigEndian ?? 0, length = data[4]?.bigEndian ?? 0
                switch (base, offset, length) {
                case (1, source, 1...width): loaded = ("-s", nil)
                case (1, destination, 1...width): loaded = ("-d", nil)
                case (2, 0, 2): loaded = ("--sport", nil)
                case (2, 2, 2): loaded = ("--dport", nil)
                default: loaded = ("payload\(base).\(offset).\(length)", nil)
                }
            case "bitwise":
                if loaded != nil, data[6].map({ $0.bigEndian == 0 }) ?? true, let mask = data[4]?.nested[1]?.bytes,
                   data[5]?.nested[1]?.bytes.allSatisfy({ $0 == 0 }) ?? true {
                    loaded!.mask = mask
                } else {
                    renderable = false
                }
            case "cmp":
                let op = data[2]?.bigEndian ?? 99
                guard let value = data[3]?.nested[1]?.bytes, let load = loaded, op <= 1 else {
                    renderable = false
                    continue
                }
                let field = Field(name: load.name, bytes: value, negated: op == 1, mask: load.mask)
                fields.append(field)
                order.append(load.name)
                if load.name == "--sport" || load.name == "--dport" { matches.append(Match(name: "", revision: 0, info: [], port: field)) }
                loaded = nil
            case "immediate":
                if let v = data[2]?.nested[2]?.nested {
                    let code = Int32(truncatingIfNeeded: v[1]?.bigEndian ?? 0)
                    let to = v[2]?.string ?? ""
                    verdict = switch code {
                    case 1: .accept
                    case 0: .drop
                    case -3: .jump(to)
                    case -4: .goto(to)
                    case -5: .returns
                    default: .other
                    }
                } else {
                    quiet = false
                }
            case "match":
                let m = Match(name: data[1]?.string ?? "", revision: data[2]?.bigEndian ?? 0, info: data[3]?.bytes ?? [])
                if !Self.quietMatches.contains(m.name) { quiet = false }
                matches.append(m)
                order.append("-m " + m.name)
            case "target":
                target = (data[1]?.string ?? "", data[2]?.bigEndian ?? 0, data[3]?.bytes ?? [])
            default:
                // lookup, range: iptables-nft's among and port ranges; not rendered here.
                renderable = false
            }
        }
        let prefix = Array("-A \(chain)".utf8)
        switch (verdict, target) {
        case (.jump(let to)?, nil) where quiet:
            line = .placeholder(prefix + Array(" -j \(to)\n".utf8))
        case (.goto(let to)?, nil) where quiet:
            line = .placeholder(prefix + Array(" -g \(to)\n".utf8))
        case (.returns?, nil) where quiet:
            line = .placeholder(prefix + Array(" -j RETURN\n".utf8))
        case (nil, nil) where quiet, (.other?, nil) where quiet:
            line = .placeholder(prefix + [0x0a])
        case (nil, let t?) where quiet && Self.quietTargets.contains(t.name):
            line = .placeholder(prefix + Array(" -j \(t.name)\n".utf8))
        default:
            guard renderable, let words = Self.render(fields: fields, matches: matches, verdict: verdict, target: target, width: Int(width)) else {
                line = .cited
                return
            }
            let shape = order.joined(separator: ",") + "|" + words.shape
            line = .rendered(prefix + words.text + [0x0a], shape: shape)
        }
    }

    /// The words after `-A CHAIN` in iptables-save's order: `-s`, `-d`, `-i`, `-o`, `-p`, the matches in their order, the
    /// target; nil for anything outside the forms written here.
    private static func render(
        fields: [Field], matches: [Match], verdict: Verdict?,
        target: (name: String, revision: UInt64, info: [UInt8])?, width: Int
    ) -> (text: [UInt8], shape: String)? {
        var out = ""
        var shape = ""
        var proto: String?
        for name in ["-s", "-d", "-i", "-o", "-p"] {
            let found = fields.filter { $0.name == name }
            guard found.count <= 1 else { return nil }
            guard let field = found.first else { continue }
            let value: String
            if name == "-i" || name == "-o" {
                guard let interface = interface(field.bytes) else { return nil }
                value = interface
            } else if name == "-p" {
                guard field.bytes.count == 1, let p = [6: "tcp", 17: "udp"][Int(field.bytes[0])] else { return nil }
                proto = field.negated ? nil : p
                value = p
            } else {
                guard let address = network(field, width: width) else { return nil }
                value = address
            }
            out += (field.negated ? " !" : "") + " \(name) \(value)"
            shape += (field.negated ? "!" : "") + name + (value.hasSuffix("+") ? "+;" : ";")
        }
        guard fields.allSatisfy({ ["-s", "-d", "-i", "-o", "-p", "--sport", "--dport"].contains($0.name) }),
              matches.filter({ $0.port != nil || $0.name == proto }).count <= 1 else { return nil }
        for m in matches {
            switch (m.name, m.revision) {
            case ("", _):
                guard let port = m.port, let proto, !port.negated, port.mask == nil, port.bytes.count == 2 else { return nil }
                out += " -m \(proto) \(port.name) \(Int(port.bytes[0]) << 8 | Int(port.bytes[1]))"
                shape += "port;"
            case ("comment", 0):
                let text = m.info.prefix(256).prefix { $0 != 0 }
                guard text.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else { return nil }
                let (quoted, kind) = saveString(Array(text))
                out += " -m comment --comment " + quoted
                shape += "comment\(kind);"
            case ("tcp", 0), ("udp", 0):
                guard m.name == proto, isDefaultPorts(m.info, tcp: m.name == "tcp") else { return nil }
                out += " -m " + m.name
            default:
                return nil
            }
        }
        switch (verdict, target) {
        case (.accept?, nil):
            out += " -j ACCEPT"
            shape += "accept"
        case (.drop?, nil):
            out += " -j DROP"
            shape += "drop"
        case (nil, let t?) where t.name == "DNAT" && t.revision == 2:
            guard let to = dnatDestination(t.info, width: width) else { return nil }
            out += " -j DNAT --to-destination " + to.text
            shape += to.port ? "dnat-port" : "dnat"
        default:
            return nil
        }
        return (Array(out.utf8), shape)
    }

    /// `10.0.0.0/8`, `fd00::/64`: the compared bytes padded to the address's width, and the prefix the mask (or the
    /// compared length) gives.
    private static func network(_ field: Field, width: Int) -> String? {
        guard field.bytes.count <= width else { return nil }
        var prefix = field.bytes.count * 8
        if let mask = field.mask {
            guard mask.count == field.bytes.count else { return nil }
            let bits: [Bool] = mask.flatMap { byte in (0..<8).map { (byte & (UInt8(0x80) >> UInt8($0))) != 0 } }
            prefix = bits.prefix { $0 }.count
            guard !bits.dropFirst(prefix).contains(true) else { return nil }
        }
        return address(field.bytes + [UInt8](repeating: 0, count: width - field.bytes.count)) + "/\(prefix)"
    }

    /// `eth0` when the compared name ends in its NUL, `eth+` when it is a prefix (iptables-nft's wildcard).
    private static func interface(_ bytes: [UInt8]) -> String? {
        let name = bytes.prefix { $0 != 0 }
        guard !name.isEmpty, name.allSatisfy({ $0 > 0x20 && $0 < 0x7f }), bytes.dropFirst(name.count).allSatisfy({ $0 == 0 })
        else { return nil }
        return String(decoding: name, as: UTF8.self) + (name.count == bytes.count ? "+" : "")
    }

    /// Dotted quad for 4 bytes, inet_ntop's form (as iptables prints it) for 16.
    private static func address(_ bytes: [UInt8]) -> String {
        guard bytes.count == 16 else { return bytes.map(String.init).joined(separator: ".") }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) != nil }
        return ok ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    /// xtables_save_string: bare when only letters, digits, `_` and `-`, else quoted with `"`, `\` and `'` escaped.
    private static func saveString(_ text: [UInt8]) -> (String, Int) {
        let plain = !text.isEmpty && text.allSatisfy { c in
            c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7a)
        }
        if plain { return (String(decoding: text, as: UTF8.self), 0) }
        var out: [UInt8] = [UInt8(ascii: "\"")]
        var escaped = false
        for c in text {
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c == UInt8(ascii: "'") {
                out.append(UInt8(ascii: "\\"))
                escaped = true
            }
            out.append(c)
        }
        out.append(UInt8(ascii: "\""))
        return (String(decoding: out, as: UTF8.self), escaped ? 2 : 1)
    }

    /// xt_tcp / xt_udp with every port and nothing else: what a bare `-m tcp` writes.
    private static func isDefaultPorts(_ info: [UInt8], tcp: Bool) -> Bool {
        guard info.count >= (tcp ? 12 : 9) else { return false }
        func u16(_ i: Int) -> UInt16 { UInt16(info[i]) | UInt16(info[i + 1]) << 8 }
        let ports = u16(0) == 0 && u16(2) == 0xffff && u16(4) == 0 && u16(6) == 0xffff
        return ports && info[8..<(tcp ? 12 : 9)].allSatisfy { $0 == 0 }
    }

    /// nf_nat_range2 with one address and at most one port: `10.0.0.2`, `10.0.0.2:80`, `[fd00::1]:80`.
    private static func dnatDestination(_ info: [UInt8], width: Int) -> (text: String, port: Bool)? {
        guard info.count >= 42 else { return nil }
        let flags = UInt32(info[0]) | UInt32(info[1]) << 8 | UInt32(info[2]) << 16 | UInt32(info[3]) << 24
        let low = Array(info[4..<20]), high = Array(info[20..<36])
        guard flags & 1 != 0, flags & ~3 == 0, low == high, low[width...].allSatisfy({ $0 == 0 }) else { return nil }
        let address = address(Array(low[0..<width]))
        guard flags & 2 != 0 else { return (address, false) }
        guard info[36..<38].elementsEqual(info[38..<40]) else { return nil }
        let port = ":\(Int(info[36]) << 8 | Int(info[37]))"
        return (width == 16 ? "[" + address + "]" + port : address + port, true)
    }
}
