import DoctorCore
import Netfilter

/// iptables-nft's tables of one family (`ip`/`ip6` raw, mangle, filter, nat, security) read over netlink, as the
/// `iptables-save` text the rest of the probe reads, without `iptables-nft-save`'s copy of every rule (about 1.3 KB
/// a rule in libnftnl: 88 MB at 10,000 kube-proxy services).
///
/// Each rule's bytecode is looked at only as far as deciding whether a check can cite it (`XtRuleCode`). One that
/// cannot (a jump, a MARK, a RETURN) becomes `-A CHAIN -j TARGET`, which is all `IptablesSaveReader` keeps of such a
/// rule. One that can is written in iptables-save's words when it is one of the few shapes `XtRuleCode` renders
/// (kube-proxy's DNAT rules), and otherwise its chain is listed by `iptables-nft -t TABLE -S CHAIN`, which fetches
/// only that chain. The first rule of each rendered shape is checked against that listing too, so a different
/// iptables printing a shape differently costs a listing per chain, never a different word. Where this cannot
/// answer exactly as `iptables-nft-save` would (a base chain iptables-nft did not write, an expression it does not
/// use, a chain name that would not read back, too many chains to list, a listing that fails), the caller runs
/// `iptables-nft-save` as before.
enum XtablesNetlink {
    enum Outcome {
        case read(IptablesSave, listedChains: Int)
        /// Why `iptables-nft-save` must answer instead.
        case fallback(String)
    }

    /// Above this many chains to list, one `iptables-nft-save` is cheaper than the listings.
    static let maxListedChains = 64

    /// The order `iptables-nft-save` prints its tables in (iptables 1.8.9's builtin table array).
    static let tableOrder = ["mangle", "security", "raw", "filter", "nat"]

    /// Base chains as iptables-nft creates them: (name, hook, priority, type). Any other base chain makes
    /// `iptables-nft-save` call the table incompatible.
    static let builtinChains: [String: [(name: String, hook: UInt64, priority: Int32, type: String)]] = [
        "raw": [("PREROUTING", 0, -300, "filter"), ("OUTPUT", 3, -300, "filter")],
        "mangle": [("PREROUTING", 0, -150, "filter"), ("INPUT", 1, -150, "filter"), ("FORWARD", 2, -150, "filter"),
                   ("OUTPUT", 3, -150, "route"), ("POSTROUTING", 4, -150, "filter")],
        "filter": [("INPUT", 1, 0, "filter"), ("FORWARD", 2, 0, "filter"), ("OUTPUT", 3, 0, "filter")],
        "security": [("INPUT", 1, 150, "filter"), ("FORWARD", 2, 150, "filter"), ("OUTPUT", 3, 150, "filter")],
        "nat": [("PREROUTING", 0, -100, "nat"), ("INPUT", 1, 100, "nat"), ("OUTPUT", 3, -100, "nat"), ("POSTROUTING", 4, 100, "nat")],
    ]

    struct Chain {
        var name: String
        var base: (hook: UInt64, priority: Int32, type: String)?
    }

    /// Reads `family`'s ("ip" or "ip6") iptables-nft tables; `command` ("iptables-nft") lists a chain. A ruleset
    /// that changed while it was read is read again, up to three times.
    static func read(family: String, command: String, runner: any CommandRunner) -> Outcome {
        var last = "the ruleset changed while it was read"
        for _ in 1...3 {
            do {
                var session = try NftablesSession()
                let before = try session.generation()
                var reading = Reading(family: family, command: command, runner: runner)
                if let problem = try reading.read(&session) { return .fallback(problem) }
                if try session.generation() == before { return .read(reading.reader.finish(), listedChains: reading.listed) }
            } catch {
                last = "netlink: \(error)"
                if error.kind != .dumpInterrupted { break }
            }
        }
        return .fallback(last)
    }

    /// One pass over the family's tables, written into `reader` in the order and words of `iptables-nft-save`.
    struct Reading {
        let family: String
        let command: String
        let runner: any CommandRunner
        let reader = IptablesSaveReader()
        var listed = 0
        /// Rendered shapes checked against a listing: true when they read back the same.
        var shapes: [String: Bool] = [:]

        init(family: String, command: String, runner: any CommandRunner) {
            self.family = family
            self.command = command
            self.runner = runner
        }

        /// nil when read; else why `iptables-nft-save` must answer.
        mutating func read(_ session: inout NftablesSession) throws(NetlinkError) -> String? {
            let nfproto: UInt8 = family == "ip" ? 2 : 10
            var tables: [String: [Chain]] = [:]
            try session.dump(.getChain, family: nfproto) { _, a in
                guard let table = a[1]?.string, XtablesNetlink.builtinChains[table] != nil, let name = a[3]?.string else { return }
                var chain = Chain(name: name)
                if let hook = a[4]?.nested, let number = hook[1]?.bigEndian {
                    let priority = Int32(truncatingIfNeeded: hook[2]?.bigEndian ?? 0)
                    chain.base = (number, priority, a[7]?.string ?? "")
                }
                tables[table, default: []].append(chain)
            }
            reader.feed("# Generated by ctdoctor from nf_tables (nf_tables)\n")
            for table in XtablesNetlink.tableOrder {
                guard let chains = tables[table] else { continue }
                if let problem = XtablesNetlink.incompatible(table: table, chains) { return problem }
                let ordered = XtablesNetlink.saveOrder(table: table, chains)
                reader.feed("*" + table + "\n")
                for chain in ordered { reader.feed(":" + chain.name + (chain.base == nil ? " - [0:0]\n" : " ACCEPT [0:0]\n")) }
                for chain in ordered {
                    if let problem = try self.chain(chain.name, table: table, nfproto: nfproto, &session) { return problem }
                }
                reader.feed("COMMIT\n")
            }
            return nil
        }

        /// The rules of one chain, written as placeholders and rendered rules, or as `iptables -S` lists them.
        private mutating func chain(
            _ chain: String, table: String, nfproto: UInt8, _ session: inout NftablesSession
        ) throws(NetlinkError) -> String? {
            var lines: [UInt8] = []
            var count = 0
            var list = false
            var unchecked: [(position: Int, shape: String, text: [UInt8])] = []
            var problem: String?
            let shapes = self.shapes
            let family = self.family
            try session.dump(.getRule, family: nfproto, filter: [(1, table), (2, chain)]) { _, a in
                guard problem == nil, let expressions = a[4] else { return }
                count += 1
                switch XtRuleCode(family: family, chain: chain, expressions.nested).line {
                case .incompatible(let why): problem = why
                case .placeholder(let text): lines += text
                case .cited: list = true
                case .rendered(let text, let shape):
                    switch shapes[shape] {
                    case true?: lines += text
                    case false?: list = true
                    case nil:
                        list = true
                        unchecked.append((count, shape, text))
                    }
                }
            }
            if let problem { return "\(family) \(table) \(chain): \(problem)" }
            guard list else {
                reader.feed(lines)
                return nil
            }
            listed += 1
            if listed > XtablesNetlink.maxListedChains { return "more than \(XtablesNetlink.maxListedChains) chains hold rules a check cites" }
            let argv = [command, "-t", table, "-S", chain]
            guard case .success(let result) = runner.run(argv, timeout: RulesetProbe.timeout), result.exitStatus == 0 else {
                return ShellQuote.join(argv) + " failed"
            }
            let listing = IptablesSave.parse("*\(table)\n:\(chain) - [0:0]\n" + result.stdout + "\nCOMMIT\n")
            let rules = listing.tables.first?.rules ?? []
            guard rules.count == count else { return ShellQuote.join(argv) + " listed \(rules.count) rules, netlink \(count)" }
            for (position, shape, text) in unchecked where shapes[shape] == nil {
                self.shapes[shape] = rules[position - 1].text.utf8.elementsEqual(text.dropLast())
            }
            reader.feed(result.stdout + "\n")
            return nil
        }
    }

    /// Why `iptables-nft-save` would not list `table` as iptables rules (or could print a chain name that does
    /// not read back): nil when it would.
    static func incompatible(table: String, _ chains: [Chain]) -> String? {
        let builtins = builtinChains[table] ?? []
        for chain in chains {
            if chain.name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) || chain.name.hasPrefix("\"") || chain.name.isEmpty {
                return "\(table) has a chain name iptables-save output would not read back"
            }
            guard let base = chain.base else { continue }
            guard builtins.contains(where: {
                $0.name == chain.name && $0.hook == base.hook && $0.priority == base.priority && $0.type == base.type
            }) else { return "\(table) \(chain.name) is a base chain iptables-nft does not create" }
        }
        return nil
    }

    /// Base chains in the table's hook order, then the others by the bytes of their names.
    static func saveOrder(table: String, _ chains: [Chain]) -> [Chain] {
        let builtins = (builtinChains[table] ?? []).map(\.name)
        let base = builtins.compactMap { name in chains.first { $0.base != nil && $0.name == name } }
        let user = chains.filter { $0.base == nil }.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return base + user
    }
}

extension IptablesSaveReader {
    func feed(_ text: String) {
        var text = text
        text.withUTF8 { feed(UnsafeRawBufferPointer($0)) }
    }

    func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }
}
