import DoctorCore

/// The firewall rules a sosreport kept: `iptables -t TABLE -nvL` per table and family under
/// sos_commands/firewall_tables (their backend is not recorded, and no iptables-save). No tool is run. What sos did
/// not keep is said in `Ruleset.uncollected`, so "no such rule" is never concluded from a partial collection.
enum SosFirewall {
    static let listings = "/sos_commands/firewall_tables"
    static let nftables = "/sos_commands/nftables"

    static func read(_ host: HostRoot, modules: ModuleInventory) -> Ruleset {
        var ruleset = Ruleset()
        var uncollected: [String] = []
        let names = (host.list(listings).value ?? []).sorted()
        var read = 0
        for name in names {
            let parts = name.split(separator: "_")
            guard parts.count == 4, ["iptables", "ip6tables"].contains(parts[0]), parts[1] == "-t", parts[3] == "-nvL" else { continue }
            let path = listings + "/" + name
            let family = parts[0] == "iptables" ? "ip" : "ip6"
            let rules = host.read(path, limit: .commandOutput).map { text in
                XtFacts.collect([IptablesListing.parse(text, table: String(parts[2]))],
                                backend: .iptables, family: family, command: nil, into: &ruleset)
            }
            ruleset.sources.append(RulesetSource(backend: .iptables, origin: host.cite(path), rules: rules))
            read += 1
        }
        if read == 0 {
            let why = "no `iptables -t TABLE -nvL` listing in this sosreport (\(host.cite(listings)))"
            ruleset.sources.append(RulesetSource(backend: .iptables, origin: host.cite(listings), rules: .absent(why)))
            uncollected.append("iptables: \(why)")
        }
        ruleset.sources.append(nft(host, modules: modules, uncollected: &uncollected))
        ruleset.uncollected = uncollected
        return ruleset
    }

    /// sos keeps nft's ruleset only as text, which ctdoctor does not read; when nf_tables is not loaded, though,
    /// the lsmod output alone says nftables holds nothing.
    private static func nft(_ host: HostRoot, modules: ModuleInventory, uncollected: inout [String]) -> RulesetSource {
        let status = modules.status("nf_tables")
        if status.state == .available || status.state == .missing {
            return RulesetSource(backend: .nftables, origin: status.evidence, rules: .value(0))
        }
        let kept = (host.list(nftables).value ?? []).sorted().first { $0.hasPrefix("nft_") && $0.contains("list_ruleset") }
        let why = kept.map { "\(host.cite(nftables + "/" + $0)) is nft's text output, which ctdoctor does not read" }
            ?? "no nft ruleset in this sosreport (\(host.cite(nftables)))"
        uncollected.append("nftables: \(why)" + (status.isPresent ? " (nf_tables is \(status.state == .loaded ? "loaded" : "built in"), so it may hold rules)" : ""))
        return RulesetSource(backend: .nftables, origin: host.cite(nftables), rules: .absent(Reading<Int>.notCollectedPrefix + why))
    }
}
