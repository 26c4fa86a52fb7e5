import DoctorCore
import Netfilter

/// The native nftables tables of this network namespace, read from the kernel over netlink instead of through
/// `nft -j list ruleset`.
///
/// Why: nft builds its whole cache before printing anything, asking for the elements of every set one request at a
/// time (the kernel finds each set by walking the table's list of them), and JSON on top of that is one tree in
/// memory. With kube-proxy's nftables ruleset of 10,000 services (40,000 rules, 10,000 anonymous verdict maps),
/// even `nft list tables` took 10–25 s and 200 MB here, and `nft -j list ruleset` 22 s and 460 MB. Here each rule
/// is decoded while its message is in the one receive buffer (`NftBytecode`), only the rules a check can cite are
/// kept, and the elements of an anonymous set are asked for only when a fact depends on them: a set of states,
/// ports or protocols, a helper map, a cited rule, or a verdict map in a chain that a hook reaches (its jumps
/// decide which hooks other chains see). Tables iptables-nft manages are skipped: `XtablesNetlink` (or `iptables-nft-save`) reads them.
enum NftablesNetlink {
    static let origin = "nf_tables (netlink dump of the tables iptables-nft does not manage)"

    static let familyNames: [UInt8: String] = [1: "inet", 2: "ip", 3: "arp", 5: "netdev", 7: "bridge", 10: "ip6"]

    /// Hook numbers per family: the inet hooks for ip, ip6, inet and bridge, their own for arp and netdev.
    static func hookName(_ number: UInt64, family: String) -> String {
        switch family {
        case "netdev": return number == 0 ? "ingress" : number == 1 ? "egress" : "hook-\(number)"
        case "arp": return ["input", "output", "forward"].indices.contains(Int(number)) ? ["input", "output", "forward"][Int(number)] : "hook-\(number)"
        default:
            let names = ["prerouting", "input", "forward", "output", "postrouting", "ingress"]
            return Int(number) < names.count ? names[Int(number)] : "hook-\(number)"
        }
    }

    /// Every nf_tables table of this namespace, as "family name" (`NftCollector.key`).
    static func tables() -> Reading<[String]> {
        do {
            var session = try NftablesSession()
            var tables: [String] = []
            try session.dump(.getTable) { family, attributes in
                if let familyName = familyNames[family], let name = attributes[1]?.string { tables.append(NftCollector.key(familyName, name)) }
            }
            return .value(tables)
        } catch {
            return CtnetlinkAccess.reading(error)
        }
    }

    /// Reads every table not in `skipping` ("family table") into `ruleset`, with one source saying how many rules
    /// it read or why it could not. A ruleset that changed while it was read (the generation moved) is read again,
    /// up to three times.
    static func read(skipping: Set<String>, into ruleset: inout Ruleset) {
        var reading: Reading<Int> = .failed("not read")
        for attempt in 1...3 {
            var collector = NftCollector(skipping: skipping)
            do {
                var session = try NftablesSession()
                let before = try session.generation()
                var reader = Reader(skipping: skipping)
                try reader.read(&session, into: &collector)
                let after = try session.generation()
                if before != after, attempt < 3 { continue }
                reading = .value(collector.finish(into: &ruleset))
            } catch {
                if error.kind == .dumpInterrupted, attempt < 3 { continue }
                reading = CtnetlinkAccess.reading(error)
            }
            break
        }
        ruleset.sources.append(RulesetSource(backend: .nftables, origin: origin, rules: reading))
    }

    /// A rule kept for a second reading, once the elements of its anonymous sets are known.
    private struct Deferred {
        /// The rule without its statements.
        var rule: NftRuleset.Rule
        var expressions: [UInt8]
        var order: Int
        var sets: [String]
        /// Read its sets only when its chain is reached from a hook (a verdict map that decides no fact itself).
        var onlyIfReached: Bool
    }

    private struct Reader {
        /// Above this many chains a table's rules are dumped chain by chain.
        static let chainsForOneDump = 200
        let skipping: Set<String>
        var helperObjects: [String: Set<String>] = [:]
        var deferred: [Deferred] = []
        var order = 0
        var elements: [String: [NftSetElement]] = [:]

        init(skipping: Set<String>) {
            self.skipping = skipping
        }

        mutating func read(_ session: inout NftablesSession, into collector: inout NftCollector) throws(NetlinkError) {
            var tables: [(family: UInt8, name: String)] = []
            try session.dump(.getTable) { family, attributes in
                if let name = attributes[1]?.string { tables.append((family, name)) }
            }
            let skipping = self.skipping
            var chains: [String: [String]] = [:]
            try session.dump(.getChain) { family, a in
                guard let familyName = familyNames[family], let table = a[1]?.string, let name = a[3]?.string,
                      !skipping.contains(NftCollector.key(familyName, table)) else { return }
                let hook = a[4]?.nested[1].map { hookName($0.bigEndian, family: familyName) }
                collector.add(NftRuleset.Chain(family: familyName, table: table, name: name, hook: hook))
                chains[NftCollector.key(familyName, table), default: []].append(name)
            }
            var helpers: [String: Set<String>] = [:]
            try session.dump(.getObject) { family, a in
                guard let familyName = familyNames[family], let table = a[1]?.string, let name = a[2]?.string,
                      a[3]?.bigEndian == 3, let data = a[4]?.nested, let type = data[1]?.string else { return }
                helpers[NftCollector.key(familyName, table), default: []].insert(name)
                let l4: [UInt8: String] = [6: "tcp", 17: "udp"]
                let l3: [UInt64: String] = [1: "inet", 2: "ip", 10: "ip6"]
                collector.add(NftRuleset.Helper(
                    family: familyName, table: table, name: name, type: type,
                    protocol: data[3]?.payload.first.flatMap { l4[$0] ?? String($0) },
                    l3proto: data[2].map { l3[$0.bigEndian] ?? String($0.bigEndian) }))
            }
            helperObjects = helpers
            for (family, table) in tables {
                guard let familyName = familyNames[family], !skipping.contains(NftCollector.key(familyName, table)) else { continue }
                // The kernel resumes a dump by counting the rules it already sent from the start of the table, so
                // one dump of a table of many chains costs the square of its rules (a second and more for
                // kube-proxy's 40,000); a dump per chain finds the chain by its hash and counts only its own.
                let names = chains[NftCollector.key(familyName, table)] ?? []
                let tableAttribute: (type: UInt16, value: String) = (1, table)
                var filters = [[tableAttribute]]
                if names.count > Self.chainsForOneDump {
                    filters = names.map { chain -> [(type: UInt16, value: String)] in [tableAttribute, (2, chain)] }
                }
                for filter in filters {
                    try session.dump(.getRule, family: family, filter: filter) { _, a in
                        rule(a, family: familyName, into: &collector)
                    }
                }
            }
            try resolve(&session, into: &collector)
        }

        /// First reading of a rule, while its message is in the buffer: added now, or kept for later when an
        /// anonymous set's elements can change what it says.
        private mutating func rule(_ a: NetlinkAttributes, family: String, into collector: inout NftCollector) {
            guard let table = a[1]?.string, let chain = a[2]?.string, let expressions = a[4] else { return }
            order += 1
            let handle = a[3].map { Int(truncatingIfNeeded: $0.bigEndian) }
            let comment = a[7].flatMap { Self.comment($0.payload) }
            var code = NftBytecode(family: family)
            code.helperObjects = helperObjects[NftCollector.key(family, table)] ?? []
            code.decode(expressions.nested)
            let anonymous = code.setUses.filter(\.anonymous)
            let rule = NftRuleset.Rule(family: family, table: table, chain: chain, handle: handle, comment: comment, expr: code.result)
            let statements = NftStatements(rule.expr)
            if !anonymous.isEmpty {
                let needed = anonymous.contains { $0.factsDependOnElements || $0.role == .objectMap } || NftCollector.matters(statements)
                if needed || anonymous.contains(where: { $0.role == .verdictMap }) {
                    var bare = rule
                    bare.expr = []
                    deferred.append(Deferred(rule: bare, expressions: Array(expressions.payload), order: order,
                                             sets: anonymous.map(\.name), onlyIfReached: !needed))
                    return
                }
            }
            collector.add(rule, statements, order: order)
        }

        /// Reads the sets of the kept rules and adds them: every one whose facts need them, then verdict maps of
        /// reached chains until no more chains are reached, then the rest as they are.
        private mutating func resolve(_ session: inout NftablesSession, into collector: inout NftCollector) throws(NetlinkError) {
            var pending = deferred
            deferred = []
            var unconditional = pending.filter { !$0.onlyIfReached }
            pending.removeAll { !$0.onlyIfReached }
            for rule in unconditional { try add(rule, fetching: true, &session, into: &collector) }
            unconditional = []
            while true {
                let reached = collector.reachedChains()
                func isReached(_ d: Deferred) -> Bool { reached[NftCollector.key(d.rule.family, d.rule.table)]?.contains(d.rule.chain) == true }
                let now = pending.filter(isReached)
                if now.isEmpty { break }
                pending.removeAll(where: isReached)
                for rule in now { try add(rule, fetching: true, &session, into: &collector) }
            }
            for rule in pending { try add(rule, fetching: false, &session, into: &collector) }
        }

        private mutating func add(_ deferred: Deferred, fetching: Bool, _ session: inout NftablesSession,
                                  into collector: inout NftCollector) throws(NetlinkError) {
            var rule = deferred.rule
            let table = NftCollector.key(rule.family, rule.table)
            let family = familyNames.first { $0.value == rule.family }?.key ?? 0
            if fetching {
                for set in deferred.sets where elements[table + " " + set] == nil {
                    elements[table + " " + set] = try Self.elements(of: set, family: family, table: rule.table, &session)
                }
            }
            let known = elements
            var code = NftBytecode(family: rule.family)
            code.helperObjects = helperObjects[table] ?? []
            code.elements = { known[table + " " + $0] }
            deferred.expressions.withUnsafeBytes { code.decode(NetlinkAttributes($0)) }
            rule.expr = code.result
            collector.add(rule, NftStatements(rule.expr), order: deferred.order)
        }

        static func elements(of set: String, family: UInt8, table: String, _ session: inout NftablesSession) throws(NetlinkError) -> [NftSetElement] {
            var out: [NftSetElement] = []
            try session.dump(.getSetElements, family: family, filter: [(1, table), (2, set)]) { _, a in
                guard let list = a[3]?.nested else { return }
                for item in list where item.type == 1 {
                    let e = item.nested
                    let flags = e[3]?.bigEndian ?? 0
                    var element = NftSetElement(key: e[1]?.nested[1]?.bytes ?? [], keyEnd: e[10]?.nested[1]?.bytes,
                                                intervalEnd: flags & 1 != 0, catchAll: flags & 2 != 0)
                    if let data = e[2]?.nested {
                        if let verdict = data[2]?.nested { element.verdict = NftBytecode.verdict(verdict) }
                        else { element.data = data[1]?.bytes }
                    }
                    element.object = e[9]?.string
                    out.append(element)
                }
            }
            return out
        }

        /// The rule's comment from its user data: type-length-value records, the comment being type 0.
        static func comment(_ data: UnsafeRawBufferPointer) -> String? {
            var i = 0
            while i + 2 <= data.count {
                let type = data[i], length = Int(data[i + 1])
                guard i + 2 + length <= data.count else { return nil }
                if type == 0 {
                    let value = data[(i + 2)..<(i + 2 + length)]
                    return String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
                }
                i += 2 + length
            }
            return nil
        }
    }
}
