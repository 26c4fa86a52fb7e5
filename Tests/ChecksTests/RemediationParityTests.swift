import Checks
import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `check`'s text report and `fix`'s script print the same commands, for every check of the catalog: the same
/// order, each once, disruptive and host-only steps commented out in both, and the JSON report's `plan` is the
/// plan `fix` runs.
@Suite struct RemediationParityTests {
    struct Case: Sendable, CustomStringConvertible {
        var id: String
        var modular = false
        var child = false
        var breakIt: @Sendable (inout SnapshotBuilder) -> Void
        var description: String { id + (child ? " (child namespace)" : "") }

        var snapshot: HostSnapshot {
            var b = modular ? SnapshotBuilder.modular61() : SnapshotBuilder()
            if child { b.childNamespace() }
            breakIt(&b)
            return b.snapshot
        }
    }

    /// A state that makes each check of the catalog fail (or, for logging.all-netns, be skipped with a host step).
    static let cases: [Case] = [
        Case(id: "conntrack.present", modular: true) {
            $0.remove("net.netfilter.nf_conntrack_max")
            $0.module("nf_conntrack", .available, "/lib/modules/6.1.0-27-amd64/kernel/net/netfilter/nf_conntrack.ko")
        },
        Case(id: "logging.log-invalid") { $0.counter("invalid", 1234) },
        Case(id: "logging.backend") {
            $0.set("net.netfilter.nf_conntrack_log_invalid", "6")
            $0.bind(pf: 2, nil)
        },
        Case(id: "logging.module", modular: true) { $0.set("net.netfilter.nf_conntrack_log_invalid", "6") },
        Case(id: "logging.all-netns", child: true) { $0.set("net.netfilter.nf_conntrack_log_invalid", "6") },
        Case(id: "tcp.be-liberal") { $0.set("net.netfilter.nf_conntrack_tcp_be_liberal", "1") },
        Case(id: "tcp.loose") { $0.set("net.netfilter.nf_conntrack_tcp_loose", "0") },
        Case(id: "events.enabled") { $0.set("net.netfilter.nf_conntrack_events", "0") },
        Case(id: "timeouts.tcp-established") { $0.count(235_930) },
        Case(id: "rules.invalid-drop") { $0.rules { $0.invalidDrops = [] } },
        Case(id: "rules.trace-leftover") {
            $0.rules { $0.traces = [SnapshotBuilder.nft("trace-pre", hooks: ["prerouting"], handle: 16, "tcp dport 22 meta nftrace set 1")] }
        },
        Case(id: "rules.notrack") { $0.rules { $0.notracks.removeLast() } },
        Case(id: "rules.backend-mix") {
            $0.rules {
                $0.sources[0].rules = .value(5)
                $0.sources[1].rules = .value(40)
            }
        },
        Case(id: "helpers.auto-assign") {
            $0.kernel("4.19.0-26-amd64")
            $0.set("net.netfilter.nf_conntrack_helper", "1")
        },
        Case(id: "helpers.unassigned") { $0.rules { $0.helperAssignments = [] } },
        Case(id: "helpers.broad") {
            $0.rules {
                $0.helperAssignments.append(HelperRule(helper: "ftp", rule: SnapshotBuilder.ipt(
                    table: "raw", "PREROUTING", hooks: ["prerouting"], position: 4,
                    ["-i", "eth0", "-p", "tcp", "-j", "CT", "--helper", "ftp"],
                    match: RuleMatch(protocols: ["tcp"], inInterface: "eth0"))))
            }
        },
        Case(id: "helpers.expectations") { $0.expectations(4000) },
        Case(id: "ctnetlink.available", modular: true) { $0.ctnetlinkFails(.noCtnetlink, errno: EINVAL, name: "EINVAL") },
        Case(id: "table.usage") { $0.count(235_930) },
        Case(id: "table.drops") { $0.counter("drop", 42) },
        Case(id: "table.insert-failed") { $0.counter("insert_failed", 9) },
        Case(id: "table.buckets") { $0.set("net.netfilter.nf_conntrack_buckets", "16384") },
        Case(id: "table.invalid") { $0.counter("invalid", 6) },
        Case(id: "table.tunnel-traffic") {
            var summary = TableSummary(entries: 1000)
            summary.tunnelEntries = ["udp/4789": 300]
            $0.snapshot.tableSummary = .value(summary)
        },
        Case(id: "lists.unconfirmed-dying") {
            $0.snapshot.ctnetlink.lists = .value(ConntrackLists(
                unconfirmed: ListSample(first: 0), dying: ListSample(first: 40, second: 38, stillListed: 35), resampleSeconds: 1))
        },
        Case(id: "debug.dynamic-debug") { $0.snapshot.dynamicDebug = .value(DynamicDebugCheckTests.leftOn()) },
        Case(id: "sysctl.persistence", modular: true) { $0.snapshot.persisted = SnapshotBuilder().snapshot.persisted },
    ]

    /// Every check at once, in the initial namespace and in a container's: commands of several checks meet, so the
    /// dedupe and the host-only handling show.
    static let together: [Case] = [false, true].map { child in
        Case(id: "everything", child: child) { b in
            for c in cases where !c.modular && !c.child { c.breakIt(&b) }
            b.set("net.netfilter.nf_conntrack_log_invalid", "0")
        }
    }

    @Test func everyCheckOfTheCatalogHasACase() {
        #expect(Set(Self.cases.map(\.id)) == Set(Catalog.all.map(\.info.id)))
    }

    @Test(arguments: cases + together)
    func checkAndFixPrintTheSameCommands(_ c: Case) throws {
        let snapshot = c.snapshot
        let findings = CheckEngine.run(Catalog.all, on: snapshot)
        if c.id != "everything" {
            let finding = try #require(findings.first { $0.id == c.id })
            #expect([.fail, .skipped].contains(finding.status), "\(finding.status): \(finding.observed)")
            #expect(finding.remediation?.steps.isEmpty == false, "the case gives \(c.id) a remediation")
        }
        let report = Report(snapshot: snapshot, findings: findings)
        let plan = FixPlan(findings: findings, includeDisruptive: false, initialNamespace: snapshot.host.netns.initial)
        let text = Self.commandBlock(TextReporter(palette: .plain).render(report))
        let script = Self.scriptBody(FixScript.render(plan, header: .init(hostname: "h", kernel: "k", netns: "n", time: "t")))
        #expect(!text.isEmpty)
        #expect(text == script)
        #expect(Self.commands(text).runnable == Self.commands(script).runnable)
        #expect(Self.commands(text).held == Self.commands(script).held)

        // What the shared text says is what the plan does: runnable lines are exactly the steps --apply takes.
        let applied = plan.steps.compactMap(\.step.command).flatMap { $0.split(separator: "\n").map(String.init) }
        #expect(Self.commands(text).runnable == applied.filter { !$0.hasPrefix("#") && !$0.isEmpty })
        for finding in findings where finding.status == .fail || finding.status == .skipped {
            for step in finding.remediation?.steps ?? [] {
                guard let command = step.command else { continue }
                let runs = Self.commands(text).runnable.contains(command.split(separator: "\n").first.map(String.init) ?? "")
                if step.risk == .disruptive || finding.status == .skipped
                    || (step.scope == .initialNamespaceOnly && snapshot.host.netns.initial != true) {
                    #expect(!runs, "\(finding.id): held step printed as a command to run: \(command)")
                } else {
                    #expect(runs, "\(finding.id): \(command) is missing")
                }
            }
        }
        let decoded = try JSONDecoder().decode(Report.self, from: Data(try JSONReporter.render(report).utf8))
        #expect(decoded.plan == plan)
    }

    /// The allow-list `fix --apply` and `--undo` share lets through every step ctdoctor proposes, and its undo.
    @Test(arguments: cases + together)
    func everyProposedStepAndItsUndoAreAllowed(_ c: Case) {
        let findings = CheckEngine.run(Catalog.all, on: c.snapshot)
        let plan = FixPlan(findings: findings, includeDisruptive: true, initialNamespace: true)
        for item in plan.steps {
            #expect(ChangePolicy.refusal(item.step.action) == nil, "\(item.checkID): \(item.step.command ?? "")")
            let entry = Journal.Entry(checkID: item.checkID, purpose: "", action: item.step.action, previous: nil, existed: nil,
                                      undo: item.step.undo, state: .verified, message: nil)
            #expect(ChangePolicy.refusal(undoing: entry) == nil, "\(item.checkID): undo \(item.step.undo.map(ShellQuote.join) ?? "-")")
        }
    }

    /// The text report's command block: the lines after its title.
    static func commandBlock(_ text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let title = lines.firstIndex(of: TextReporter.commandsTitle) else { return [] }
        return Array(lines[(title + 1)...]).trimmingTrailingEmpty()
    }

    /// The script after its header, `set -eu` and warnings.
    static func scriptBody(_ script: String) -> [String] {
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let set = lines.firstIndex(of: "set -eu") else { return [] }
        let rest = lines[(set + 1)...].drop { $0.hasPrefix("# WARNING: ") || $0.isEmpty }
        return Array(rest).trimmingTrailingEmpty()
    }

    /// Lines a shell runs, and commands commented out (the line after a "left out" note).
    static func commands(_ lines: [String]) -> (runnable: [String], held: [String]) {
        var runnable: [String] = [], held: [String] = []
        for (i, line) in lines.enumerated() {
            if !line.hasPrefix("#") && !line.isEmpty { runnable.append(line) }
            if i > 0, lines[i - 1].hasPrefix("#   "), lines[i - 1].hasSuffix(":"), line.hasPrefix("# ") && !line.hasPrefix("#   ") {
                held.append(String(line.dropFirst(2)))
            }
        }
        return (runnable, held)
    }
}

extension Array where Element == String {
    func trimmingTrailingEmpty() -> [String] {
        var copy = self
        while copy.last?.isEmpty == true { copy.removeLast() }
        return copy
    }
}
