import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// The ruleset probe on outputs recorded in throwaway namespaces on a 6.18 kernel (nftables 1.0.6, iptables 1.8.9);
/// see Fixtures/commands/*.setup for what each namespace held.
@Suite struct RulesetProbeTests {
    func ruleset(_ set: String, overriding: [[String]: Result<CommandResult, CommandFailure>] = [:]) -> Ruleset {
        RecordedCommands.snapshot(RecordedCommands.runner(set, overriding: overriding)).ruleset
    }

    func origins(_ r: Ruleset) -> [String: Reading<Int>] {
        Dictionary(uniqueKeysWithValues: r.sources.map { ($0.origin, $0.rules) })
    }

    @Test func emptyNamespaceHasFiveEmptySources() {
        let r = ruleset("empty")
        #expect(origins(r) == [
            "iptables-legacy-save": .value(0), "iptables-nft-save": .value(0), "ip6tables-legacy-save": .value(0),
            "ip6tables-nft-save": .value(0), "nft -j list ruleset": .value(0),
        ])
        #expect(r.problem == nil)
        #expect(!r.nothingRead)
        #expect(r.nat.isEmpty && r.traces.isEmpty && r.invalidDrops.isEmpty && r.notracks.isEmpty && r.helperAssignments.isEmpty)
    }

    @Test func nativeNftables() {
        let r = ruleset("nftables")
        #expect(origins(r)["nft -j list ruleset"] == .value(20))
        // iptables-nft-save calls the native `ip filter` and `ip nat` tables incompatible: they stay nftables'.
        #expect(r.ruleCount(.iptablesNft) == 0)

        #expect(r.nat.map(\.kind) == [.masquerade, .masquerade, .snat, .dnat, .redirect])
        #expect(r.nat.map(\.fullyRandom) == [true, false, true, false, false])
        #expect(r.nat[3].rule.match.destinationPorts == [PortRange(8080)])

        // A verdict map, a chain reached by a jump from forward, and a reject of a set that includes invalid.
        #expect(r.invalidDrops.map(\.chain) == ["input", "invalid-check", "input"])
        #expect(r.invalidDrops.map(\.hooks) == [["input"], ["forward"], ["input"]])
        #expect(r.invalidDrops.map(\.family) == ["inet", "inet", "ip"])

        #expect(r.traces.map(\.chain) == ["trace-pre", "we ird$(touch /tmp/pwned)\"q'"])
        #expect(r.traces.map(\.handle) == [16, 25])
        #expect(r.traces[0].hooks == ["prerouting"])
        #expect(r.traces[1].hooks.isEmpty, "nothing jumps to it")
        #expect(r.traces[0].text == "tcp dport 22 meta nftrace set 1 # handle 16")

        #expect(r.notracks.map(\.hooks) == [["prerouting"], ["output"]])
        #expect(r.notracks[0].match.destinationPorts == [PortRange(53)])
        #expect(r.notracks[1].match.sourcePorts == [PortRange(53)])

        #expect(r.helperObjects == [HelperObject(family: "inet", table: "filter", name: "ftp-std", type: "ftp", l4proto: "tcp", l3proto: "inet")])
        #expect(r.helperAssignments.map(\.helper) == ["ftp", "ftp", "ftp"])
        #expect(r.helperAssignments.map(\.object) == ["ftp-std", "ftp-std", "ftp-std"])
        #expect(r.helperAssignments.map(\.rule.match.destinationPorts) == [[PortRange(21)], [PortRange(2121)], nil])
        #expect(r.helperAssignments[2].rule.match.protocols == ["tcp"])
        #expect(r.helperMatches.map(\.helper) == ["ftp"])
        #expect(r.helperPortRules.map(\.text) == [
            "tcp dport 21 accept # handle 11", "udp dport 5060 accept # handle 12",
        ])
    }

    @Test func iptablesBothBackendsBothFamilies() throws {
        let r = ruleset("iptables")
        #expect(origins(r) == [
            "iptables-legacy-save": .value(5), "iptables-nft-save": .value(23), "ip6tables-legacy-save": .value(1),
            "ip6tables-nft-save": .value(17), "nft -j list ruleset": .value(1),
        ])
        #expect(r.ruleCount(.iptablesNft) == 40)
        #expect(r.ruleCount(.nftables) == 1, "only `inet native`: the iptables-nft tables are read from iptables-nft-save")

        let legacyTrace = try #require(r.traces.first { $0.backend == .iptablesLegacy })
        #expect(legacyTrace.command == "iptables-legacy")
        #expect(legacyTrace.table == "raw" && legacyTrace.chain == "PREROUTING" && legacyTrace.position == 1)
        #expect(legacyTrace.spec == ["-p", "tcp", "-m", "tcp", "--dport", "5555", "-j", "TRACE"])
        // The chain named q"x is printed unquoted by iptables-save and reached from PREROUTING by a jump.
        let odd = try #require(r.traces.first { $0.chain == "q\"x" })
        #expect(odd.hooks == ["prerouting"])
        #expect(odd.spec == ["-p", "udp", "-m", "udp", "--dport", "69", "-j", "TRACE"])
        #expect(r.traces.count == 6, "a comment reading \"-j TRACE\" is not a target")
        #expect(r.traces.filter { $0.family == "ip6" }.map(\.command) == ["ip6tables-nft", "ip6tables-nft"])

        // Quoted words come back as iptables-restore reads them.
        let saved = try #require(try RecordedCommands.recordings("iptables")[["iptables-nft-save"]]?.get().stdout)
        let filter = try #require(IptablesSave.parse(saved).tables.first { $0.name == "filter" })
        let specs = filter.rules.compactMap(\.spec)
        #expect(specs.contains(["-m", "comment", "--comment", "\"$(touch /tmp/pwned)\"'q", "-j", "ACCEPT"]))
        #expect(specs.contains(["-m", "comment", "--comment", "two\nlines", "-j", "ACCEPT"]))

        #expect(r.invalidDrops.map { "\($0.backend.rawValue) \($0.family) \($0.chain) \($0.hooks)" } == [
            "iptables-legacy ip FORWARD [\"forward\"]",
            "iptables-nft ip INPUT [\"input\"]", "iptables-nft ip KUBE-FORWARD [\"forward\"]",
            "iptables-nft ip6 INPUT [\"input\"]", "iptables-nft ip6 KUBE-FORWARD [\"forward\"]",
            "nftables inet forward [\"forward\"]",
        ], "`! --ctstate INVALID -j ACCEPT` is not a drop")

        #expect(Set(r.nat.map(\.kind)) == [.masquerade, .snat, .dnat])
        #expect(r.nat.filter(\.fullyRandom).count == 3)
        let helpers = r.helperAssignments.map { "\($0.helper) \($0.rule.family) \($0.rule.match.destinationPorts.map { "\($0)" } ?? "any")" }
        #expect(helpers.filter { $0.hasPrefix("ftp ip ") } == ["ftp ip [21]", "ftp ip [21]", "ftp ip any", "ftp ip [21, 2121]"])
        #expect(r.helperAssignments.first { $0.helper == "sip" }?.rule.match.inInterface == "eth0")
        #expect(r.helperMatches.count == 2)
        #expect(r.notracks.count == 6)
        #expect(r.notracks.filter { $0.backend == .iptablesLegacy }.map(\.hooks) == [["prerouting"], ["output"]])
    }

    @Test func unprivilegedReadsAreDenied() {
        let r = ruleset("nobody")
        #expect(r.sources.count == 5)
        for source in r.sources {
            guard case .denied(let why) = source.rules else {
                Issue.record("\(source.origin): expected denied, got \(source.rules)")
                continue
            }
            #expect(why.hasPrefix(source.origin + ": "))
        }
        #expect(origins(r)["iptables-nft-save"] == .denied(
            "iptables-nft-save: iptables-nft-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)"))
        #expect(origins(r)["nft -j list ruleset"] == .denied("nft -j list ruleset: Operation not permitted (you must be root)"))
        if case .denied = r.problem {} else { Issue.record("expected the ruleset to be denied, got \(String(describing: r.problem))") }
    }

    @Test func missingToolsAreAbsentAndPlainIptablesSaveIsTried() {
        let r = RecordedCommands.snapshot(ToolTable(answers: [:])).ruleset
        #expect(origins(r) == [
            "iptables-save": .absent("iptables-save is not installed"),
            "ip6tables-save": .absent("ip6tables-save is not installed"),
            "nft -j list ruleset": .absent("nft is not installed"),
        ])
        #expect(r.problem == nil)
        #expect(r.nothingRead)
    }

    @Test func plainIptablesSaveTakesItsBackendFromTheHeader() throws {
        let legacy = try #require(try RecordedCommands.recordings("iptables")[["iptables-legacy-save"]]?.get())
        let old = CommandResult(exitStatus: 0, stdout: legacy.stdout.replacingOccurrences(of: "iptables-save v1.8.9", with: "iptables-save v1.6.1"))
        let nftFlavoured = CommandResult(exitStatus: 0, stdout: legacy.stdout.replacingOccurrences(of: "v1.8.9 on", with: "v1.8.9 (nf_tables) on"))
        let r = RecordedCommands.snapshot(ToolTable(answers: [["iptables-save"]: .success(old), ["ip6tables-save"]: .success(nftFlavoured)])).ruleset
        #expect(r.sources.map(\.backend) == [.iptablesLegacy, .iptablesNft, .nftables])
        #expect(r.traces.first?.command == "iptables")
    }

    @Test func hungToolIsAFailureThatSaysSo() {
        let r = ruleset("empty", overriding: [["nft", "-j", "list", "ruleset"]: .failure(.timedOut("nft", seconds: 10))])
        guard case .failed(let why) = origins(r)["nft -j list ruleset"] else {
            Issue.record("expected failed")
            return
        }
        #expect(why.contains("no answer within 10 s"))
        #expect(why.contains("xtables lock"))
        if case .failed = r.problem {} else { Issue.record("a hung tool makes the ruleset incomplete") }
    }

    @Test func unexpectedJSONIsAFailureWithItsPlace() {
        let garbled = CommandResult(exitStatus: 0, stdout: #"{"nftables": [{"rule": {"family": "inet"}}]}"#)
        let r = ruleset("empty", overriding: [["nft", "-j", "list", "ruleset"]: .success(garbled)])
        guard case .failed(let why) = origins(r)["nft -j list ruleset"] else {
            Issue.record("expected failed")
            return
        }
        #expect(why.contains("not the JSON expected"))
        #expect(why.contains("missing \"table\""))
    }

    @Test func otherFailuresKeepTheirMessage() {
        let refused = CommandResult(exitStatus: 1, stdout: "", stderr: "Error: No such file or directory\n")
        let r = ruleset("empty", overriding: [["iptables-legacy-save"]: .success(refused)])
        #expect(origins(r)["iptables-legacy-save"] == .failed("iptables-legacy-save exited with status 1: Error: No such file or directory"))
    }

    /// A kernel without nf_tables: nft's netlink requests fail with EPROTONOSUPPORT (message constructed from the
    /// strerror text; this machine has nf_tables).
    @Test func missingKernelSupportIsAbsent() {
        let unsupported = CommandResult(exitStatus: 1, stdout: "", stderr: "netlink: Error: cache initialization failed: Protocol not supported\n")
        let r = ruleset("empty", overriding: [["nft", "-j", "list", "ruleset"]: .success(unsupported)])
        #expect(origins(r)["nft -j list ruleset"] == .absent(
            "nft -j list ruleset: netlink: Error: cache initialization failed: Protocol not supported "
                + "(the kernel lacks what the tool needs, e.g. nf_tables)"))
        #expect(r.problem == nil)
    }

    @Test func copiedRootRunsNothing() {
        let r = RecordedCommands.snapshot(RecordedCommandRunner(), root: Fixtures.root(Fixtures.monolithic)).ruleset
        #expect(r.nothingRead)
        #expect(r.sources.allSatisfy { if case .absent(let why) = $0.rules { why.contains("not run") } else { false } })
    }
}

/// The kube-proxy rules of a real Kubernetes node, as its sosreport keeps them: `iptables -t TABLE -nvL` listings
/// (sos records no iptables-save), read in place next to the worktrees.
@Suite(.enabled(if: Sosreport.present, "sosreport fixture not found at \(Sosreport.path)"))
struct SosreportRulesetTests {
    let ruleset = RecordedCommands.snapshot(RecordedCommandRunner(), root: HostRoot(Sosreport.path)).ruleset

    @Test func listingsAreReadAsIptablesOfUnknownBackend() {
        let listed = ruleset.sources.filter { $0.backend == .iptables }
        #expect(listed.map(\.origin).contains("sos_commands/firewall_tables/iptables_-t_nat_-nvL"))
        #expect(listed.count == 8)
        #expect(listed.allSatisfy { $0.rules.value != nil })
    }

    @Test func kubeForwardDropsInvalidInForward() throws {
        let drops = ruleset.invalidDrops
        #expect(drops.map(\.chain) == ["KUBE-FORWARD", "KUBE-FORWARD"])
        #expect(drops.map(\.family).sorted() == ["ip", "ip6"])
        #expect(drops.allSatisfy { $0.hooks == ["forward"] && $0.spec == nil && $0.backend == .iptables })
        #expect(drops.first { $0.family == "ip" }?.text
            == "0     0 DROP       all  --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate INVALID")
    }

    @Test func kubeProxyNat() {
        let masquerades = ruleset.nat.filter { $0.kind == .masquerade }
        #expect(!masquerades.isEmpty && masquerades.allSatisfy(\.fullyRandom))
        let dnat = ruleset.nat.filter { $0.kind == .dnat }
        #expect(dnat.count > 10)
        #expect(dnat.allSatisfy { $0.rule.hooks == ["prerouting", "output"] })
        #expect(ruleset.traces.isEmpty && ruleset.notracks.isEmpty && ruleset.helperAssignments.isEmpty)
    }
}
