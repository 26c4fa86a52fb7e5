import DoctorCore

/// The network namespaces a sosreport collected with `ip netns exec NS …`: sos's conntrack plugin keeps
/// `sos_commands/conntrack/ip_netns_exec_NS_conntrack_-S` and `…_conntrack_-L_-o_extended`, its networking plugin
/// `sos_commands/networking/namespaces/NS/ip_netns_exec_NS_{sysctl_-a,iptables-save,ip6tables-save}` (older versions
/// put them straight in `sos_commands/networking/`). Each namespace becomes a snapshot of its own: the host's global
/// facts (kernel, modules, kernel log, boot configuration) and the namespace's own readings from those files; every
/// per-namespace reading sos did not keep is "not collected", so its checks skip instead of passing.
///
/// The name comes from a file name, so it is hostile input: it is used only to group files already listed in their
/// folder (never to build a path), and is shown with control characters neutralised.
public enum SosNamespaces {
    /// The per-namespace outputs read, by the file-name suffix sos gives each command.
    enum Output: String, CaseIterable {
        case conntrackS = "_conntrack_-S"
        case listing = "_conntrack_-L_-o_extended"
        case sysctlA = "_sysctl_-a"
        case iptablesSave = "_iptables-save"
        case ip6tablesSave = "_ip6tables-save"
    }

    static let prefix = "ip_netns_exec_"
    static let folders = ["/sos_commands/conntrack", "/sos_commands/networking"]
    static let namespacesFolder = "/sos_commands/networking/namespaces"
    /// More than any host runs named; a crafted sosreport with more is cut here.
    static let maxNamespaces = 512

    /// One namespace's files: the name as sos wrote it, and the path of each output kept.
    public struct Collected: Sendable, Equatable {
        public var name: String
        var files: [Output: String]
    }

    /// Every namespace with at least one output this reads, by name.
    public static func find(_ host: HostRoot) -> [Collected] {
        guard host.isSosreport else { return [] }
        var folders = Self.folders
        folders += (host.list(namespacesFolder).value ?? []).map { namespacesFolder + "/" + $0 }
        var byName: [String: [Output: String]] = [:]
        for folder in folders {
            for file in host.list(folder).value ?? [] {
                guard let (name, output) = split(file) else { continue }
                guard byName[name] != nil || byName.count < maxNamespaces else { continue }
                byName[name, default: [:]][output] = byName[name]?[output] ?? folder + "/" + file
            }
        }
        return byName.sorted { $0.key < $1.key }.map { Collected(name: $0.key, files: $0.value) }
    }

    /// "ip_netns_exec_blue_conntrack_-S" → ("blue", .conntrackS); nil for any other file.
    static func split(_ file: String) -> (String, Output)? {
        guard file.hasPrefix(prefix) else { return nil }
        let rest = file.dropFirst(prefix.count)
        // The longest suffix first: "_ip6tables-save" is not "_iptables-save", but keep the order explicit.
        for output in Output.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }) where rest.hasSuffix(output.rawValue) {
            let name = String(rest.dropLast(output.rawValue.count))
            return name.isEmpty ? nil : (name, output)
        }
        return nil
    }

    /// One snapshot per collected namespace, built on `base`, the sosreport's own (host) snapshot.
    public static func snapshots(_ host: HostRoot, base: HostSnapshot) -> [HostSnapshot] {
        find(host).map { snapshot($0, host: host, base: base) }
    }

    static func snapshot(_ ns: Collected, host: HostRoot, base: HostSnapshot) -> HostSnapshot {
        let name = Neutralise.line(ns.name)
        let command = "ip netns exec \(name)"
        func missing(_ what: String) -> String { "the sosreport holds no `\(command) \(what)`" }
        func notKept(_ what: String) -> String { "sos does not keep \(what) per namespace" }
        var s = base
        s.sourceNotes = nil
        s.sample = nil
        s.datapathConntrack = nil
        s.initialNamespaceSysctls = nil
        s.host.netns = NetnsIdentity(
            inode: .notCollected(notKept("the namespace's inode")), initial: false,
            basis: "collected by sos with `\(command)`: a namespace under /run/netns, not the initial one",
            name: name, found: "sosreport: \(command)")
        s.host.uptimeSeconds = .notCollected("a namespace's counters run from its creation, which the sosreport does not record")
        s.host.uptimeSource = nil

        if let path = ns.files[.sysctlA], case .value(let text) = host.read(path, limit: .commandOutput) {
            let values = SysctlProbe.parseSysctlA(text, cite: host.cite(path))
            s.sysctls = SysctlTable(entries: .value(values.mapValues { SysctlEntry(value: .value($0.value), source: $0.source) }))
        } else {
            let why = missing("sysctl -a")
            s.sysctls = SysctlTable(entries: .notCollected(why), uncollected: why)
        }
        s.nfLog = NfLogRegistry(families: .notCollected(notKept("/proc/net/netfilter/nf_log")))
        // A file that cannot be read (a link out of the tree, say) is as good as not collected.
        s.stats = ns.files[.conntrackS].map { path in
            host.collected(host.read(path, limit: .commandOutput)).flatMap { ConntrackStatsProbe.parseConntrackS($0, source: path) }
        } ?? .notCollected(missing("conntrack -S"))
        s.listing = ns.files[.listing].map { path in
            host.collected(host.read(path, limit: .commandOutput)).map { ConntrackListingProbe.parse($0, source: host.cite(path)) }
        }
        s.helpers.expectations = .notCollected(notKept("/proc/net/nf_conntrack_expect"))
        s.helpers.userspace = .notCollected(notKept("`nfct helper list`"))
        s.ruleset = ruleset(ns, host: host, command: command)
        return s
    }

    /// iptables-save and ip6tables-save as sos ran them in the namespace; nftables is never collected per namespace.
    static func ruleset(_ ns: Collected, host: HostRoot, command: String) -> Ruleset {
        var ruleset = Ruleset()
        var uncollected: [String] = []
        for (output, family, tool) in [(Output.iptablesSave, "ip", "iptables-save"), (.ip6tablesSave, "ip6", "ip6tables-save")] {
            guard let path = ns.files[output] else {
                let why = "the sosreport holds no `\(command) \(tool)`"
                ruleset.sources.append(RulesetSource(backend: .iptablesLegacy, origin: tool, rules: .absent(why)))
                uncollected.append("\(tool): \(why)")
                continue
            }
            var backend = RulesetBackend.iptablesLegacy
            let rules = host.collected(host.read(path, limit: .commandOutput)).map { text in
                let save = IptablesSave.parse(text)
                backend = save.headerBackend ?? .iptablesLegacy
                let tables = save.tables.filter { !save.incompatibleTables.contains($0.name) }
                return XtFacts.collect(tables, backend: backend, family: family, command: nil, into: &ruleset)
            }
            ruleset.sources.append(RulesetSource(backend: backend, origin: host.cite(path), rules: rules))
        }
        let why = "sos does not list nft's ruleset per namespace"
        // Absent with the not-collected wording, as `SosFirewall` says it: the rules read still count, and
        // `uncollected` keeps the checks from concluding "no such rule".
        ruleset.sources.append(RulesetSource(backend: .nftables, origin: "nft list ruleset", rules: .absent(Reading<Int>.notCollectedPrefix + why)))
        uncollected.append("nftables: \(why)")
        ruleset.uncollected = uncollected
        return ruleset
    }
}
