import DoctorCore

/// The firewall rules of this network namespace, from every backend: `iptables-legacy-save` and `iptables-nft-save`
/// (and the ip6 variants; plain `iptables-save` where iptables predates the split), then the native nftables tables.
///
/// Each source is asked for what the checks need in the cheapest form it has. The legacy save tools start together
/// with the other probes' commands and their output is read as it arrives (`IptablesSaveReader`), keeping only the
/// rules a check can cite and the jumps between chains. On a live host iptables-nft's own tables are read over
/// netlink as the save text they would print (`XtablesNetlink`: the save tool keeps a copy of every rule, 88 MB at
/// 10,000 kube-proxy services), with `iptables-nft-save` run instead where that cannot answer exactly; never as nft
/// JSON, where their matches are opaque `xt` statements (no helper name, no --random-fully). The other nf_tables
/// tables are read over netlink too (`NftablesNetlink`); on a copied root or with recorded outputs, everything comes
/// from the save tools and `nft -j list ruleset`. A tool that is missing, refused or hung (no progress for `timeout`
/// seconds) is recorded in `Ruleset.sources` and the others are still read. On a sosreport, `SosFirewall` reads
/// what sos kept instead.
public struct RulesetProbe: CommandProbe {
    public let name = "ruleset"

    public static let timeout = 10.0
    public static let nftCommand = ["nft", "-j", "list", "ruleset"]
    /// (family, command) in the order their sources are listed.
    static let saveTools = [("ip", "iptables-legacy"), ("ip", "iptables-nft"), ("ip6", "ip6tables-legacy"), ("ip6", "ip6tables-nft")]

    public init() {}

    public final class Sink {
        let saves = saveTools.map { _ in IptablesSaveReader() }
        /// Save tools not run because the kernel shows they have no table to list, with the source that says so.
        var empty: [RulesetSource?] = saveTools.map { _ in nil }
        /// iptables-nft tools whose tables are read over netlink instead (`XtablesNetlink`), on a live host.
        var viaNetlink: [Bool] = saveTools.map { _ in false }
        var nftJSON: [UInt8] = []

        /// Whether the tool at `index` was started with the others.
        func started(_ index: Int) -> Bool { empty[index] == nil && !viaNetlink[index] }
    }

    public func commands(_ context: ProbeContext) -> (sink: Sink, commands: [StreamedCommand]) {
        let sink = Sink()
        if context.host.isSosreport { return (sink, []) }
        if context.host.isLive {
            sink.empty = Self.emptyBackends(context.host)
            for (index, tool) in Self.saveTools.enumerated() where tool.1.hasSuffix("-nft") && sink.empty[index] == nil {
                sink.viaNetlink[index] = context.runner.locate(tool.1 + "-save") != nil
            }
        }
        var commands = zip(Self.saveTools, sink.saves).enumerated().filter { sink.started($0.offset) }.map { _, tool in
            StreamedCommand([tool.0.1 + "-save"], timeout: Self.timeout) { tool.1.feed($0) }
        }
        if !context.host.isLive {
            commands.append(StreamedCommand(Self.nftCommand, timeout: Self.timeout) { sink.nftJSON.append(contentsOf: $0) })
        }
        return (sink, commands)
    }

    /// Legacy tables exist only as the names in /proc/net/ip_tables_names (ip6_tables_names), and iptables-nft's
    /// only as nf_tables tables of its family named filter, nat, mangle, raw or security. Where the kernel shows
    /// none, the save tool would print nothing: it is not started (a fresh namespace then starts no tool at all),
    /// and the source says where the answer came from. Anything unclear (a file not readable, nf_tables refusing)
    /// leaves the tool to run and answer for itself.
    static func emptyBackends(_ host: HostRoot) -> [RulesetSource?] {
        var empty: [RulesetSource?] = saveTools.map { _ in nil }
        for (index, (family, command)) in saveTools.enumerated() where command.hasSuffix("-legacy") {
            let names = family == "ip" ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names"
            switch host.read(names) {
            case .value(let text) where text.allSatisfy(\.isWhitespace):
                empty[index] = RulesetSource(backend: .iptablesLegacy, origin: names + " (no \(command) table)", rules: .value(0))
            case .absent:
                empty[index] = RulesetSource(backend: .iptablesLegacy, origin: names + " (no x_tables here)", rules: .value(0))
            default:
                break
            }
        }
        if case .value(let tables) = NftablesNetlink.tables() {
            for (index, (family, command)) in saveTools.enumerated() where command.hasSuffix("-nft") {
                guard !Self.xtablesNames.contains(where: { tables.contains(NftCollector.key(family, $0)) }) else { continue }
                empty[index] = RulesetSource(
                    backend: .iptablesNft, origin: "nf_tables (no \(family) table named \(xtablesNames.joined(separator: ", ")))",
                    rules: .value(0))
            }
        }
        return empty
    }

    /// The tables iptables-nft (and iptables-legacy) can hold.
    static let xtablesNames = ["filter", "nat", "mangle", "raw", "security"]

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        if context.host.isSosreport {
            snapshot.ruleset = SosFirewall.read(context.host, modules: snapshot.modules)
            return
        }
        let (sink, ran) = commandResults(context)
        // Results in tool order, with the tools not run answered by the kernel.
        var remaining = ran[...]
        let results = Self.saveTools.indices.map { i in sink.started(i) ? remaining.popFirst()! : .success(StreamedResult(exitStatus: 0)) }
        var ruleset = Ruleset()
        var iptablesNftTables: Set<String> = []
        for (offset, family) in ["ip", "ip6"].enumerated() {
            let runs = (0..<2).map { i in
                let index = offset * 2 + i
                let tool = Self.saveTools[index].1
                guard sink.viaNetlink[index] else { return SaveRun(tool: tool, origin: tool + "-save", result: results[index], read: sink.saves[index].finish) }
                return Self.netlinkRun(family: family, tool: tool, reader: sink.saves[index], runner: context.runner)
            }
            iptablesNftTables.formUnion(readIptables(family: family, runs, context: context, into: &ruleset))
        }
        for (index, source) in sink.empty.enumerated() {
            // The runs read nothing: their sources take the kernel's word, in place.
            guard let source else { continue }
            if let at = ruleset.sources.firstIndex(where: { $0.origin == Self.saveTools[index].1 + "-save" }) { ruleset.sources[at] = source }
        }
        if context.host.isLive {
            NftablesNetlink.read(skipping: iptablesNftTables, into: &ruleset)
            if context.runner.locate("nft") == nil {
                // Native rules are read all the same; the source says fixes cannot use nft.
                ruleset.sources.append(RulesetSource(backend: .nftables, origin: "nft", rules: .absent("nft is not installed")))
            }
        } else {
            readNftJSON(sink.nftJSON, remaining.popFirst()!, skipping: iptablesNftTables, into: &ruleset)
        }
        snapshot.ruleset = ruleset
    }

    /// How one save tool's rules were read: the tool's run, or nf_tables over netlink in its place.
    struct SaveRun {
        var tool: String
        /// What the source names: the save tool, or the netlink reading.
        var origin: String
        var result: Result<StreamedResult, CommandFailure>
        var read: () -> IptablesSave
    }

    static let netlinkOrigin = "nf_tables over netlink, as iptables-nft-save would print it"

    /// iptables-nft's tables of `family` over netlink; where that cannot answer exactly, `TOOL-save` run now.
    static func netlinkRun(family: String, tool: String, reader: IptablesSaveReader, runner: any CommandRunner) -> SaveRun {
        switch XtablesNetlink.read(family: family, command: tool, runner: runner) {
        case .read(let save, let listed):
            let origin = tool + " tables: " + netlinkOrigin + (listed == 0 ? "" : " (\(listed) chain\(listed == 1 ? "" : "s") from \(tool) -S)")
            return SaveRun(tool: tool, origin: origin, result: .success(StreamedResult(exitStatus: 0)), read: { save })
        case .fallback(let why):
            let command = StreamedCommand([tool + "-save"], timeout: timeout) { reader.feed($0) }
            let result = runner.runAll([command]).first!
            return SaveRun(tool: tool, origin: tool + "-save (not over netlink: \(why))", result: result, read: reader.finish)
        }
    }

    /// The legacy and nft save tools of one family; returns the "family table" names held by iptables-nft.
    private func readIptables(family: String, _ runs: [SaveRun], context: ProbeContext, into ruleset: inout Ruleset) -> Set<String> {
        var readings: [(command: String, backend: RulesetBackend?, reading: Reading<Int32>, save: () -> IptablesSave, origin: String)] = runs.map { run in
            (run.tool, run.tool.hasSuffix("-nft") ? .iptablesNft : .iptablesLegacy,
             CommandReading.outcome([run.tool + "-save"], run.result), run.read, run.origin)
        }
        // iptables before 1.8 has no -legacy/-nft programs; its plain iptables-save is legacy (the header says so
        // from 1.8 on, where it may also be the nft one).
        if readings.allSatisfy({ if case .absent = $0.reading { true } else { false } }) {
            let tool = family == "ip" ? "iptables" : "ip6tables"
            let plain = CommandReading.stdout([tool + "-save"], runner: context.runner, timeout: Self.timeout)
            readings = [(tool, nil, plain.map { _ in 0 }, { IptablesSave.parse(plain.value ?? "") }, tool + "-save")]
        }
        var nftTables: Set<String> = []
        for (command, known, reading, read, origin) in readings {
            guard reading.value != nil else {
                ruleset.sources.append(RulesetSource(backend: known ?? .iptablesLegacy, origin: origin, rules: reading.map { _ in 0 }))
                continue
            }
            let save = read()
            let backend = known ?? save.headerBackend ?? .iptablesLegacy
            let tables = save.tables.filter { !save.incompatibleTables.contains($0.name) }
            if backend == .iptablesNft { nftTables.formUnion(tables.map { family + " " + $0.name }) }
            let count = XtFacts.collect(tables, backend: backend, family: family, command: command, into: &ruleset)
            ruleset.sources.append(RulesetSource(backend: backend, origin: origin, rules: .value(count)))
        }
        return nftTables
    }

    private func readNftJSON(
        _ json: [UInt8], _ result: Result<StreamedResult, CommandFailure>, skipping: Set<String>, into ruleset: inout Ruleset
    ) {
        let origin = ShellQuote.join(Self.nftCommand)
        let reading = CommandReading.outcome(Self.nftCommand, result).flatMap { _ -> Reading<Int> in
            var collector = NftCollector(skipping: skipping)
            var problem: NftRuleset.Unexpected?
            json.withUnsafeBytes { bytes in
                do throws(NftRuleset.Unexpected) { try NftRuleset.read(bytes, into: &collector) } catch { problem = error }
            }
            if let problem { return .failed("\(origin): output is not the JSON expected: \(problem)") }
            return .value(collector.finish(into: &ruleset))
        }
        ruleset.sources.append(RulesetSource(backend: .nftables, origin: origin, rules: reading))
    }
}
