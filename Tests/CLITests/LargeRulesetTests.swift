import DoctorCore
import DoctorHost
import Foundation
import Testing

/// The ruleset shapes of `Benchmarks/rulesets` (kube-proxy in iptables mode, kube-proxy in nftables mode, and a
/// mix of iptables-legacy, iptables-nft and native nft) at 10 services and at 10,000 (CTDOCTOR_LARGE_SERVICES to
/// change it): the rules.* and helpers.* verdicts must not depend on the size, every rule must be counted, and
/// no source may end in error because the ruleset is large.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "ruleset tests need root to create network namespaces and load rules in them"),
    .serialized)
struct LargeRulesetTests {
    static let generator = Binary.packageRoot.appendingPathComponent("Benchmarks/rulesets").path
    static var large: Int { Int(ProcessInfo.processInfo.environment["CTDOCTOR_LARGE_SERVICES"] ?? "") ?? 10_000 }
    static let checked = ["rules.invalid-drop", "rules.trace-leftover", "rules.notrack", "rules.backend-mix",
                          "helpers.auto-assign", "helpers.unassigned", "helpers.broad", "helpers.expectations"]

    struct Outcome {
        var verdicts: [String: String]
        var report: Report
        var ruleset: Ruleset
    }

    static func check(_ shape: String, services: Int) throws -> Outcome {
        let ns = try Namespace()
        let load = try SystemCommandRunner().run(["python3", generator, "load", shape, String(services), ns.name], timeout: 120).get()
        try #require(load.exitStatus == 0, "loading \(shape) \(services): \(load.stderr)")
        let result = try ns.exec([Binary.path, "check", "--format", "json", "--only", checked.joined(separator: ",")])
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        let snapshot = try ns.exec([Binary.path, "snapshot"])
        let ruleset = try JSONDecoder().decode(HostSnapshot.self, from: Data(snapshot.stdout.utf8)).ruleset
        var verdicts: [String: String] = [:]
        for finding in report.findings where checked.contains(finding.id) {
            verdicts[finding.id] = finding.status.rawValue + (finding.severity.map { " " + $0.rawValue } ?? "")
        }
        return Outcome(verdicts: verdicts, report: report, ruleset: ruleset)
    }

    /// The same verdicts at both sizes, none of them error, and every source read.
    static func compare(_ shape: String) throws -> (small: Outcome, large: Outcome) {
        let small = try check(shape, services: 10), large = try check(shape, services: Self.large)
        #expect(small.verdicts.count == checked.count)
        #expect(large.verdicts == small.verdicts, "\(shape): verdicts at \(Self.large) services differ from those at 10")
        for outcome in [small, large] {
            #expect(!outcome.verdicts.values.contains { $0.hasPrefix("error") })
            for source in outcome.ruleset.sources where source.rules.value == nil {
                guard case .absent = source.rules else {
                    Issue.record("\(shape): \(source.origin) was not read: \(source.rules)")
                    continue
                }
            }
        }
        return (small, large)
    }

    @Test func kubeProxyIptables() throws {
        let (small, large) = try Self.compare("kube-iptables")
        #expect(small.verdicts["rules.invalid-drop"] == "pass")
        for outcome in [small, large] {
            // kube-proxy's `-m conntrack --ctstate INVALID -j DROP` in KUBE-FORWARD, reached from FORWARD.
            let drop = outcome.ruleset.invalidDrops.first { $0.chain == "KUBE-FORWARD" }
            #expect(drop?.hooks == ["forward"] && drop?.backend == .iptablesNft)
            #expect(outcome.ruleset.nat.contains { $0.kind == .masquerade && $0.fullyRandom && $0.rule.chain == "KUBE-POSTROUTING" })
        }
        // About 7 rules per service, every one counted; one or two endpoints (DNAT) per service.
        #expect(large.ruleset.ruleCount(.iptablesNft) > 7 * Self.large)
        #expect(large.ruleset.nat.filter { $0.kind == .dnat }.count == Self.large * 3 / 2)
        #expect(large.ruleset.nat.filter { $0.kind == .dnat }.allSatisfy { $0.rule.hooks == ["prerouting", "output"] })
    }

    @Test func kubeProxyNftables() throws {
        let (small, large) = try Self.compare("kube-nft")
        #expect(small.verdicts["rules.invalid-drop"] == "pass")
        for outcome in [small, large] {
            let drop = outcome.ruleset.invalidDrops.first { $0.table == "kube-proxy" && $0.chain == "filter-forward" }
            #expect(drop?.hooks == ["forward"] && drop?.text == "ct state invalid drop # handle \(drop?.handle ?? -1)")
            #expect(outcome.ruleset.nat.contains { $0.kind == .masquerade && $0.fullyRandom && $0.rule.chain == "masquerading" })
        }
        // 4 rules per service and 1 more for every tenth (its affinity set), besides the fixed ones.
        #expect(large.ruleset.ruleCount(.nftables) > 4 * Self.large)
        #expect(large.ruleset.nat.filter { $0.kind == .dnat }.count == Self.large * 3 / 2)
    }

    @Test func mixedBackends() throws {
        let (small, large) = try Self.compare("mixed")
        #expect(small.verdicts["rules.backend-mix"] == "fail warning")
        #expect(small.verdicts["helpers.broad"] == "pass")
        for outcome in [small, large] {
            let ftp = outcome.ruleset.helperAssignments.first { $0.helper == "ftp" }
            #expect(ftp?.rule.match.destinationPorts == [PortRange(21)] && ftp?.rule.hooks == ["input"])
            #expect(outcome.ruleset.notracks.map(\.hooks) == [["prerouting"], ["output"]])
        }
        #expect(large.ruleset.ruleCount(.iptablesLegacy) >= 4 * Self.large)
        #expect(large.ruleset.ruleCount(.iptablesNft) > 7 * Self.large)
        #expect(large.ruleset.ruleCount(.nftables) >= 2 * Self.large)
    }
}

/// Native nftables rules read over netlink (what `check` does on a live host) give the facts, evidence text and
/// re-addable JSON that `nft -j list ruleset` gives for the same rules (what the probe reads from recorded outputs).
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "ruleset tests need root to create network namespaces and load rules in them"))
struct NetlinkRulesetTests {
    static let fixtures = Binary.packageRoot.appendingPathComponent("Tests/DoctorHostTests/Fixtures/commands").path
    static let tools = [["nft", "-j", "list", "ruleset"], ["iptables-legacy-save"], ["iptables-nft-save"],
                        ["ip6tables-legacy-save"], ["ip6tables-nft-save"]]

    /// Each nftables rule fact, as one comparable line.
    static func facts(_ r: Ruleset) -> [String] {
        func line(_ kind: String, _ rule: RuleRef, _ extra: String = "") -> String {
            let expr = (rule.nftExpr.flatMap { try? JSONValue.parse($0) }).map { $0.serialized } ?? "-"
            return "\(kind)\(extra) \(rule.family) \(rule.table) \(rule.chain) \(rule.hooks) \(rule.handle ?? -1) \(rule.match) "
                + "| \(rule.text) | \(expr) | \(rule.nftComment ?? "-")"
        }
        var lines = r.nat.map { line("nat", $0.rule, " \($0.kind) \($0.fullyRandom)") }
        lines += r.invalidDrops.map { line("invalid-drop", $0) } + r.traces.map { line("trace", $0) }
        lines += r.notracks.map { line("notrack", $0) } + r.helperPortRules.map { line("helper-port", $0) }
        lines += r.helperAssignments.map { line("helper", $0.rule, " \($0.helper) \($0.object ?? "-")") }
        lines += r.helperMatches.map { line("helper-match", $0.rule, " \($0.helper)") }
        lines += r.helperObjects.map { "object \($0)" }
        return lines.filter { !$0.contains("(iptables") }
    }

    /// Runs `setup` with a fresh namespace's name appended, then reads its ruleset both ways: as `check` does on a
    /// live host (netlink), and from the tools' recorded outputs (nft JSON, the save tools).
    static func readBothWays(setup: [String]) throws -> (live: Ruleset, recorded: Ruleset) {
        let ns = try Namespace()
        let loaded = try SystemCommandRunner().run(setup + [ns.name], timeout: 120).get()
        try #require(loaded.exitStatus == 0, "setup \(setup): \(loaded.stderr)")
        let snapshot = try ns.exec([Binary.path, "snapshot"])
        let live = try JSONDecoder().decode(HostSnapshot.self, from: Data(snapshot.stdout.utf8)).ruleset
        var recorded: [[String]: Result<CommandResult, CommandFailure>] = [:]
        for tool in tools { recorded[tool] = .success(try ns.exec(tool)) }
        var fromTools = HostSnapshot()
        let context = ProbeContext(host: HostRoot("/nonexistent-root"), runner: RecordedCommandRunner(recorded), toolVersion: "test", now: "now")
        RulesetProbe().collect(into: &fromTools, context: context)
        return (live, fromTools.ruleset)
    }

    static func compare(setup: [String]) throws {
        let (live, recorded) = try readBothWays(setup: setup)
        #expect(live.ruleCount(.nftables) == recorded.ruleCount(.nftables))
        #expect(facts(live) == facts(recorded))
        try XtablesParityTests.expectSame(live: live, saved: recorded)
    }

    @Test(arguments: ["kube-iptables", "kube-nft", "mixed"])
    func generatedShape(_ shape: String) throws {
        try Self.compare(setup: ["python3", LargeRulesetTests.generator, "load", shape, "10"])
    }

    /// The recorded fixtures' namespaces: verdict maps, helper maps, notrack, NAT flags, hostile names.
    @Test(arguments: ["nftables", "iptables"])
    func fixtureSetup(_ name: String) throws {
        try Self.compare(setup: ["sh", "-c", "ip netns exec \"$1\" sh -eu \"$0\"", "\(Self.fixtures)/\(name).setup"])
    }
}

/// iptables-nft's tables read over netlink (`XtablesNetlink`, what `check` does on a live host) give every fact,
/// evidence text, rule spec and position that `iptables-nft-save` gives for the same rules, at 10 services and at
/// 10,000 (CTDOCTOR_LARGE_SERVICES), for the three generated shapes.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "ruleset tests need root to create network namespaces and load rules in them"),
    .serialized)
struct XtablesParityTests {
    /// Each iptables-nft rule fact, whole.
    static func facts(_ r: Ruleset) -> [String] {
        func line(_ kind: String, _ rule: RuleRef, _ extra: String = "") -> String {
            "\(kind)\(extra) \(rule.family) \(rule.table) \(rule.chain) \(rule.hooks) \(rule.command ?? "-") \(rule.spec ?? []) "
                + "\(rule.position ?? -1) \(rule.match) | \(rule.text)"
        }
        var lines = r.nat.filter { $0.rule.backend == .iptablesNft }.map { line("nat", $0.rule, " \($0.kind) \($0.fullyRandom)") }
        let nft = { (rule: RuleRef) in rule.backend == .iptablesNft }
        lines += r.invalidDrops.filter(nft).map { line("invalid-drop", $0) } + r.traces.filter(nft).map { line("trace", $0) }
        lines += r.notracks.filter(nft).map { line("notrack", $0) } + r.helperPortRules.filter(nft).map { line("helper-port", $0) }
        lines += r.helperAssignments.filter { nft($0.rule) }.map { line("helper", $0.rule, " \($0.helper)") }
        lines += r.helperMatches.filter { nft($0.rule) }.map { line("helper-match", $0.rule, " \($0.helper)") }
        return lines
    }

    /// The same facts, and the netlink reading was the one used (no fallback to iptables-nft-save).
    static func expectSame(live: Ruleset, saved: Ruleset) throws {
        #expect(live.ruleCount(.iptablesNft) == saved.ruleCount(.iptablesNft))
        let a = facts(live), b = facts(saved)
        #expect(a.count == b.count)
        for (x, y) in zip(a, b) where x != y {
            Issue.record("netlink: \(x)\nsave:    \(y)")
            break
        }
        for source in live.sources where source.backend == .iptablesNft && source.rules.value.map({ $0 > 0 }) == true {
            #expect(source.origin.contains("over netlink"), "\(source.origin)")
        }
    }

    @discardableResult
    static func compare(_ shape: String, services: Int) throws -> Ruleset {
        try compare(setup: ["python3", LargeRulesetTests.generator, "load", shape, String(services)])
    }

    @discardableResult
    static func compare(setup: [String]) throws -> Ruleset {
        let (live, saved) = try NetlinkRulesetTests.readBothWays(setup: setup)
        #expect(live.ruleCount(.iptablesNft) > 0)
        try expectSame(live: live, saved: saved)
        return live
    }

    /// How many chains the netlink reading had `iptables-nft -S` list (its source says so), 0 when none.
    static func listedChains(_ r: Ruleset) -> Int? {
        guard let origin = r.sources.first(where: { $0.origin.contains("over netlink") && $0.origin.hasPrefix("iptables") })?.origin else { return nil }
        guard let open = origin.lastIndex(of: "(") else { return 0 }
        return Int(origin[origin.index(after: open)...].prefix { $0.isNumber })
    }

    /// Every table, chain names that sort by bytes, prefixes, comments to quote and escape, DNAT forms rendered
    /// and not, ports in bytecode and as matches, gotos and returns, IPv4 and IPv6.
    @Test func shapes() throws {
        let setup = Binary.packageRoot.appendingPathComponent("Tests/Rulesets/xtables-shapes.setup").path
        try Self.compare(setup: ["sh", "-c", "ip netns exec \"$1\" sh -eu \"$0\"", setup])
    }

    @Test(arguments: ["kube-iptables", "mixed"])
    func small(_ shape: String) throws {
        try Self.compare(shape, services: 10)
    }

    @Test(arguments: ["kube-iptables", "mixed"])
    func large(_ shape: String) throws {
        let live = try Self.compare(shape, services: LargeRulesetTests.large)
        // kube-proxy's endpoint DNAT rules are written from their bytecode, not listed chain by chain: the listings
        // are KUBE-FORWARD, KUBE-FIREWALL, KUBE-POSTROUTING and one chain per DNAT shape checked.
        #expect((Self.listedChains(live) ?? 99) <= 8, "\(live.sources.map(\.origin))")
    }
}
