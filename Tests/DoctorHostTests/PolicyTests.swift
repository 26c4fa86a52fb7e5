import Foundation
import TestSupport
import PolicyFile
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct PolicyParserTests {
    let known: Set<String> = ["table.usage", "tcp.loose", "logging.backend", "rules.backend-mix"]

    func parse(_ yaml: String) throws -> Policy {
        try PolicyParser(file: "site.yaml", knownChecks: known).parse(yaml)
    }

    func failure(_ yaml: String) -> PolicyError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch let e as PolicyError {
            return e
        } catch {
            return nil
        }
    }

    static let example = """
        version: 1
        sysctls:
          net.netfilter.nf_conntrack_max: {min: 262144, max: 4194304}
          net.netfilter.nf_conntrack_tcp_loose: 0
          net.netfilter.nf_log.2:
            oneOf: [nf_log_ipv4, nf_log_syslog]
            severity: warning
            weight: 8
          net.netfilter.nf_conntrack_helper: {absent: true}
        modules:
          loaded: [nf_conntrack_netlink]
          notLoaded: [nf_conntrack_ftp]
        require: [table.usage]
        severity:
          tcp.loose: info
        waivers:
          - check: rules.backend-mix
            reason: "iptables-legacy goes away with the image rebuild, OPS-1234"
            expires: 2027-01-31
          - check: policy.require.table.usage
            reason: accepted forever
        """

    @Test func readsEveryPartOfTheFormat() throws {
        let p = try parse(Self.example)
        #expect(p.sysctls.count == 4)
        let max = try #require(p.sysctls.first)
        #expect(max.key == "net.netfilter.nf_conntrack_max" && max.min == 262144 && max.max == 4194304)
        #expect(max.severity == .error && max.weight == 5 && max.origin.line == 3)
        #expect(p.sysctls[1].equals == "0", "`key: value` is short for equals")
        #expect(p.sysctls[2].oneOf == ["nf_log_ipv4", "nf_log_syslog"] && p.sysctls[2].severity == .warning && p.sysctls[2].weight == 8)
        #expect(p.sysctls[3].absent == true)
        #expect(p.modules == [
            Policy.ModuleExpectation(module: "nf_conntrack_netlink", loaded: true, origin: .init(file: "site.yaml", line: 11)),
            Policy.ModuleExpectation(module: "nf_conntrack_ftp", loaded: false, origin: .init(file: "site.yaml", line: 12)),
        ])
        #expect(p.require.map(\.check) == ["table.usage"])
        #expect(p.severity.map(\.check) == ["tcp.loose"] && p.severity[0].severity == .info)
        #expect(p.waivers.count == 2)
        #expect(p.waivers[0].expires == "2027-01-31" && p.waivers[0].reason.hasSuffix("OPS-1234"))
        #expect(p.waivers[1].expires == nil)
    }

    @Test(arguments: [
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {minimum: 5}\n", 2, "unknown key 'minimum' in net.netfilter.nf_conntrack_max"),
        ("version: 1\nwaviers: []\n", 2, "unknown key 'waviers' in the policy"),
        ("sysctls:\n  net.ipv4.ip_forward: 1\n", 2, "'net.ipv4.ip_forward' is not a net.netfilter.* key"),
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {min: lots}\n", 2, "min must be a whole number, got 'lots'"),
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {min: 9, max: 1}\n", 2, "min 9 is above max 1"),
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {severity: high}\n", 2, "severity must be one of info, warning, error, critical, got 'high'"),
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {weight: 3}\n", 2, "no constraint"),
        ("modules:\n  loaded: [nf_tables_fancy]\n", 2, "ctdoctor does not probe module 'nf_tables_fancy'"),
        ("require:\n  - table.usage\n  - no.such\n", 3, "require: unknown check id 'no.such'"),
        ("severity:\n  tcp.loose: info\n  tcp.loose: warning\n", 3, "'tcp.loose' appears twice in severity"),
        ("waivers:\n  - check: tcp.loose\n", 2, "a waiver needs a reason"),
        ("waivers:\n  - check: tcp.loose\n    reason: \"  \"\n", 3, "the waiver's reason is empty"),
        ("waivers:\n  - check: tcp.loose\n    reason: ok\n    expires: 2027-02-30\n", 4, "expires must be a date as YYYY-MM-DD, got '2027-02-30'"),
        ("waivers:\n  - {check: tcp.loose, reason: ok, until: 2027-01-01}\n", 2, "unknown key 'until' in a waiver"),
        ("version: 2\n", 1, "version must be 1"),
        ("require: table.usage\n", 1, "require must be a list"),
        ("sysctls:\n  net.netfilter.nf_conntrack_max: {min: 1\n", 3, "not valid YAML"),
        ("sysctls:\n\tnet.netfilter.x: 1\n", 2, "not valid YAML"),
    ])
    func malformedPolicyNamesFileLineAndProblem(yaml: String, line: Int, words: String) throws {
        let e = try #require(failure(yaml), "should be refused: \(yaml)")
        #expect(e.file == "site.yaml")
        #expect(e.line == line, "\(e)")
        #expect(e.description.hasPrefix("site.yaml:\(line):"), "\(e)")
        #expect(e.problem.contains(words), "\(e)")
    }

    @Test func emptyOrUnreadableFileSaysSo() throws {
        #expect(failure("# only a comment\n")?.description.hasPrefix("site.yaml: empty") == true)
        do {
            _ = try InputFiles.read("/nonexistent/policy.yaml", flag: "--policy", limit: .policy)
            Issue.record("should fail")
        } catch {
            #expect(error.description.hasPrefix("--policy /nonexistent/policy.yaml: cannot read"), "\(error)")
        }
    }

    /// The README's example policy is a valid policy.
    @Test func readmeExampleParses() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.range(of: "## Policy file"))
        let start = try #require(text.range(of: "```yaml\n", range: section.upperBound..<text.endIndex))
        let end = try #require(text.range(of: "```\n", range: start.upperBound..<text.endIndex))
        let policy = try parse(String(text[start.upperBound..<end.lowerBound]))
        #expect(policy.sysctls.count == 4 && policy.modules.count == 3 && policy.require.count == 2)
        #expect(policy.waivers.first?.expires == "2027-01-31")
    }

    @Test func policyChecksCanBeRequiredOverriddenAndWaived() throws {
        let p = try parse("""
            sysctls:
              net.netfilter.nf_conntrack_max: {min: 1}
            modules:
              loaded: [nf_conntrack]
            require: [policy.module.nf_conntrack]
            severity: {policy.sysctl.net.netfilter.nf_conntrack_max: critical}
            waivers:
              - {check: policy.require.policy.module.nf_conntrack, reason: ticket 9}
            """)
        #expect(p.require.map(\.check) == ["policy.module.nf_conntrack"])
        #expect(p.severity.first?.check == "policy.sysctl.net.netfilter.nf_conntrack_max")
        #expect(p.waivers.first?.check == "policy.require.policy.module.nf_conntrack")
    }
}

@Suite struct PolicyEvaluatorTests {
    func snapshot(_ sysctls: [String: String], modules: [String: ModuleStatus.State] = [:]) -> HostSnapshot {
        var snap = HostSnapshot()
        snap.sysctls = SysctlTable(entries: .value(sysctls.mapValues { SysctlEntry(value: .value($0)) }))
        snap.modules = ModuleInventory(loadableModules: true, modules: modules.mapValues { ModuleStatus(state: $0, evidence: "/proc/modules") })
        return snap
    }

    func finding(_ id: String, _ status: CheckStatus, _ severity: Severity? = nil) -> Finding {
        Finding(id: id, status: status, severity: severity, title: id, observed: "seen", expected: "wanted", explanation: "because", weight: 10)
    }

    func byID(_ findings: [Finding]) -> [String: Finding] {
        Dictionary(uniqueKeysWithValues: findings.map { ($0.id, $0) })
    }

    @Test func sysctlExpectationsPassAndFailWithObservedAndExpected() {
        let policy = Policy(sysctls: [
            .init(key: "net.netfilter.nf_conntrack_max", min: 262144),
            .init(key: "net.netfilter.nf_conntrack_tcp_loose", equals: "0", severity: .warning),
            .init(key: "net.netfilter.nf_log.2", oneOf: ["nf_log_ipv4", "nf_log_syslog"]),
            .init(key: "net.netfilter.nf_conntrack_helper", absent: true),
            .init(key: "net.netfilter.nf_conntrack_acct", equals: "1"),
            .init(key: "net.netfilter.nf_conntrack_buckets", max: 1000),
        ])
        let snap = snapshot([
            "net.netfilter.nf_conntrack_max": "65536", "net.netfilter.nf_conntrack_tcp_loose": "0",
            "net.netfilter.nf_log.2": "NONE", "net.netfilter.nf_conntrack_buckets": "many",
        ])
        let out = byID(PolicyEvaluator.evaluate(policy, snapshot: snap, findings: [], today: "2026-11-23"))
        let max = out["policy.sysctl.net.netfilter.nf_conntrack_max"]!
        #expect(max.status == .fail && max.severity == .error)
        #expect(max.observed == "net.netfilter.nf_conntrack_max = 65536" && max.expected == "≥ 262144")
        #expect(max.explanation.contains("below 262144"))
        #expect(max.remediation?.steps.first?.argv == ["sysctl", "-w", "net.netfilter.nf_conntrack_max=262144"])
        #expect(max.remediation?.steps.first?.undo == ["sysctl", "-w", "net.netfilter.nf_conntrack_max=65536"])
        #expect(out["policy.sysctl.net.netfilter.nf_conntrack_tcp_loose"]?.status == .pass)
        let log = out["policy.sysctl.net.netfilter.nf_log.2"]!
        #expect(log.status == .fail && log.expected == "one of nf_log_ipv4, nf_log_syslog")
        #expect(log.remediation?.steps.first?.argv == ["sysctl", "-w", "net.netfilter.nf_log.2=nf_log_ipv4"])
        #expect(out["policy.sysctl.net.netfilter.nf_conntrack_helper"]?.status == .pass, "absent as expected")
        let acct = out["policy.sysctl.net.netfilter.nf_conntrack_acct"]!
        #expect(acct.status == .fail && acct.observed == "net.netfilter.nf_conntrack_acct is not present on this kernel")
        let buckets = out["policy.sysctl.net.netfilter.nf_conntrack_buckets"]!
        #expect(buckets.status == .fail && buckets.explanation.contains("not a number"))
    }

    @Test func unreadableSysctlsAreSkippedOrErrorNotFail() {
        let policy = Policy(sysctls: [.init(key: "net.netfilter.nf_conntrack_max", min: 1)])
        var snap = HostSnapshot()
        snap.sysctls = SysctlTable(entries: .denied("permission denied"))
        #expect(PolicyEvaluator.evaluate(policy, snapshot: snap, findings: [], today: "2026-11-23").first?.status == .skipped)
        snap.sysctls = SysctlTable(entries: .failed("I/O error"))
        #expect(PolicyEvaluator.evaluate(policy, snapshot: snap, findings: [], today: "2026-11-23").first?.status == .error)
    }

    @Test func moduleExpectations() {
        let policy = Policy(modules: [
            .init(module: "nf_conntrack_netlink", loaded: true), .init(module: "nf_conntrack_ftp", loaded: false),
            .init(module: "nf_log_syslog", loaded: true), .init(module: "nfnetlink_log", loaded: false),
        ])
        let snap = snapshot([:], modules: ["nf_conntrack_netlink": .builtIn, "nf_conntrack_ftp": .loaded, "nf_log_syslog": .available])
        let out = byID(PolicyEvaluator.evaluate(policy, snapshot: snap, findings: [], today: "2026-11-23"))
        #expect(out["policy.module.nf_conntrack_netlink"]?.status == .pass)
        let ftp = out["policy.module.nf_conntrack_ftp"]!
        #expect(ftp.status == .fail && ftp.observed == "nf_conntrack_ftp: loaded")
        #expect(ftp.remediation?.steps.first?.argv == ["modprobe", "-r", "nf_conntrack_ftp"])
        #expect(out["policy.module.nf_log_syslog"]?.remediation?.steps.first?.argv == ["modprobe", "nf_log_syslog"])
        #expect(out["policy.module.nfnetlink_log"]?.status == .skipped, "not probed: cannot tell")
    }

    @Test func requiredChecksMustPass() {
        let policy = Policy(require: [.init(check: "table.usage"), .init(check: "tcp.loose"), .init(check: "events.enabled")])
        let builtIn = [finding("table.usage", .pass), finding("tcp.loose", .fail, .warning), finding("events.enabled", .notApplicable)]
        let out = byID(PolicyEvaluator.evaluate(policy, snapshot: HostSnapshot(), findings: builtIn, today: "2026-11-23"))
        #expect(out["policy.require.table.usage"]?.status == .pass)
        let loose = out["policy.require.tcp.loose"]!
        #expect(loose.status == .fail && loose.severity == .error && loose.observed == "tcp.loose: fail (seen)")
        #expect(out["policy.require.events.enabled"]?.status == .fail, "not-applicable is not a pass")
    }

    @Test func severityOverridesApplyToFailuresOnly() {
        let policy = Policy(severity: [.init(check: "tcp.loose", severity: .info), .init(check: "table.usage", severity: .critical)])
        let out = byID(PolicyEvaluator.evaluate(
            policy, snapshot: HostSnapshot(), findings: [finding("tcp.loose", .fail, .warning), finding("table.usage", .pass)], today: "2026-11-23"))
        #expect(out["tcp.loose"]?.severity == .info)
        #expect(out["tcp.loose"]?.explanation.contains("Severity info set by the site policy") == true)
        #expect(out["table.usage"]?.severity == nil)
    }

    @Test func activeWaiverWaivesAFailure() {
        let policy = Policy(waivers: [.init(check: "rules.backend-mix", reason: "OPS-1234", expires: "2026-11-23")])
        let out = byID(PolicyEvaluator.evaluate(
            policy, snapshot: HostSnapshot(), findings: [finding("rules.backend-mix", .fail, .error)], today: "2026-11-23"))
        let mix = out["rules.backend-mix"]!
        #expect(mix.status == .waived && mix.severity == .error, "the last day still holds")
        #expect(mix.explanation.contains("Waived by the site policy (policy:0) until 2026-11-23: OPS-1234"))
        let waiver = out["policy.waiver.rules.backend-mix"]!
        #expect(waiver.status == .pass && waiver.weight == 0)
        #expect(waiver.observed == "rules.backend-mix waived until 2026-11-23: OPS-1234")
    }

    @Test func expiredWaiverFailsLoudly() {
        let policy = Policy(waivers: [.init(check: "tcp.loose", reason: "OPS-77", expires: "2026-11-22")])
        let out = byID(PolicyEvaluator.evaluate(
            policy, snapshot: HostSnapshot(), findings: [finding("tcp.loose", .fail, .warning)], today: "2026-11-23"))
        let loose = out["tcp.loose"]!
        #expect(loose.status == .fail && loose.severity == .warning)
        #expect(loose.explanation.contains("expired on 2026-11-22: OPS-77"))
        let waiver = out["policy.waiver.tcp.loose"]!
        #expect(waiver.status == .fail && waiver.severity == .error)
        #expect(waiver.observed == "waiver expired on 2026-11-22 (tcp.loose is fail)")
    }

    @Test func waiverOfAPassingCheckIsNotNeeded() {
        let policy = Policy(waivers: [.init(check: "tcp.loose", reason: "r")])
        let out = byID(PolicyEvaluator.evaluate(policy, snapshot: HostSnapshot(), findings: [finding("tcp.loose", .pass)], today: "2026-11-23"))
        #expect(out["tcp.loose"]?.status == .pass)
        #expect(out["policy.waiver.tcp.loose"]?.observed == "tcp.loose is pass; the waiver (with no expiry) is not needed")
    }

    @Test func policyChecksCountInTheScore() {
        let policy = Policy(sysctls: [.init(key: "net.netfilter.nf_conntrack_max", min: 100, severity: .critical, weight: 10)])
        let findings = PolicyEvaluator.evaluate(
            policy, snapshot: snapshot(["net.netfilter.nf_conntrack_max": "1"]), findings: [finding("table.usage", .pass)], today: "2026-11-23")
        let report = Report(snapshot: HostSnapshot(), findings: findings)
        #expect(report.score == 50)
        #expect(report.summary[.fail] == 1)
    }
}

@Suite struct WaiverAndBaselineGateTests {
    func report(_ findings: [Finding]) -> Report { Report(snapshot: HostSnapshot(), findings: findings) }

    func f(_ id: String, _ status: CheckStatus, _ severity: Severity? = nil) -> Finding {
        Finding(id: id, status: status, severity: severity, title: id, observed: "", expected: "", explanation: "", weight: 5)
    }

    @Test func waivedErrorDoesNotTrip() {
        let r = report([f("a", .pass), f("b", .waived, .critical)])
        #expect(Gate().outcome(for: r) == .ok)
        #expect(Gate(failOn: .info).outcome(for: r) == .ok)
    }

    @Test func baselineFailureDoesNotTripButANewOneDoes() {
        let gate = Gate(baseline: ["old"])
        #expect(gate.outcome(for: report([f("old", .fail, .critical), f("x", .pass)])) == .ok)
        #expect(gate.outcome(for: report([f("old", .fail, .critical), f("new", .fail, .error)])) == .thresholdReached)
        #expect(gate.tripping(report([f("old", .fail, .critical), f("new", .fail, .error)])).map(\.id) == ["new"])
        #expect(gate.excused(report([f("old", .fail, .critical), f("new", .fail, .error)])).map(\.id) == ["old"])
    }

    @Test func baselineIsReadFromAReportFile() throws {
        let dir = TestFolders.base.appendingPathComponent("ctd-baseline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("r.json").path
        try JSONReporter.render(report([f("old", .fail, .error), f("fine", .pass), f("w", .waived, .error)])).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Baseline.load(path) == ["old"])
        try "{\"schema\": \"ctdoctor.snapshot/1\"}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: InputError("--baseline \(path): not a ctdoctor report (its \"schema\" is not \"ctdoctor.report/1\")")) {
            try Baseline.load(path)
        }
    }
}
