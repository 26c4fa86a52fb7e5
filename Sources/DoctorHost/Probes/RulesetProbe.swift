import DoctorCore
/// The firewall rules of this network namespace, from every backend: `iptables-legacy-save` and `iptables-nft-save`
/// (and the ip6 variants; plain `iptables-save` where iptables predates the split), then `nft -j list ruleset`
/// for the native nftables tables. Each tool gets `timeout` seconds; a missing, refused or hung tool is recorded in
/// `Ruleset.sources` and the others are still read. On a sosreport, `SosFirewall` reads what sos kept instead.
public struct RulesetProbe: Probe {
    public let name = "ruleset"

    public static let timeout = 10.0
    public static let nftCommand = ["nft", "-j", "list", "ruleset"]

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        if context.host.isSosreport {
            snapshot.ruleset = SosFirewall.read(context.host, modules: snapshot.modules)
            return
        }
        var ruleset = Ruleset()
        // iptables first: the nft listing shows iptables-nft's tables too, but only as opaque `xt` statements
        // (no helper name, no --random-fully), so those tables are read from iptables-nft-save and skipped below.
        var iptablesNftTables: Set<String> = []
        for family in ["ip", "ip6"] {
            iptablesNftTables.formUnion(readIptables(family: family, context: context, into: &ruleset))
        }
        readNft(context: context, skipping: iptablesNftTables, into: &ruleset)
        snapshot.ruleset = ruleset
    }

    /// Runs the legacy and nft save tools of one family; returns the "family table" names held by iptables-nft.
    private func readIptables(family: String, context: ProbeContext, into ruleset: inout Ruleset) -> Set<String> {
        let tool = family == "ip" ? "iptables" : "ip6tables"
        var runs: [(command: String, backend: RulesetBackend?, Reading<String>)] = [
            (tool + "-legacy", .iptablesLegacy, run([tool + "-legacy-save"], context)),
            (tool + "-nft", .iptablesNft, run([tool + "-nft-save"], context)),
        ]
        // iptables before 1.8 has no -legacy/-nft programs; its plain iptables-save is legacy (the header says so
        // from 1.8 on, where it may also be the nft one).
        if runs.allSatisfy({ if case .absent = $0.2 { true } else { false } }) {
            runs = [(tool, nil, run([tool + "-save"], context))]
        }
        var nftTables: Set<String> = []
        for (command, known, reading) in runs {
            let origin = command + "-save"
            guard let text = reading.value else {
                ruleset.sources.append(RulesetSource(backend: known ?? .iptablesLegacy, origin: origin, rules: reading.map { _ in 0 }))
                continue
            }
            let save = IptablesSave.parse(text)
            let backend = known ?? save.headerBackend ?? .iptablesLegacy
            let tables = save.tables.filter { !save.incompatibleTables.contains($0.name) }
            if backend == .iptablesNft { nftTables.formUnion(tables.map { family + " " + $0.name }) }
            let count = XtFacts.collect(tables, backend: backend, family: family, command: command, into: &ruleset)
            ruleset.sources.append(RulesetSource(backend: backend, origin: origin, rules: .value(count)))
        }
        return nftTables
    }

    private func readNft(context: ProbeContext, skipping: Set<String>, into ruleset: inout Ruleset) {
        let origin = ShellQuote.join(Self.nftCommand)
        let reading = run(Self.nftCommand, context).flatMap { text -> Reading<Int> in
            switch NftRuleset.decode(text) {
            case .success(let document): return .value(NftRuleset.collect(document, skipping: skipping, into: &ruleset))
            case .failure(let error): return .failed("\(origin): output is not the JSON expected: \(SnapshotFile.describe(error))")
            }
        }
        ruleset.sources.append(RulesetSource(backend: .nftables, origin: origin, rules: reading))
    }

    private func run(_ argv: [String], _ context: ProbeContext) -> Reading<String> {
        CommandReading.stdout(argv, runner: context.runner, timeout: Self.timeout)
    }
}
