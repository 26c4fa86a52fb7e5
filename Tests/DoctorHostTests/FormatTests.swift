import Foundation
import TestSupport
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// A fixed, hand-built report with one finding of every status and host text that tries to break every format.
enum GoldenReport {
    static var snapshot: HostSnapshot {
        var snap = HostSnapshot(takenAt: "2026-11-23T16:00:00Z", toolVersion: "0.1.0", root: "/")
        snap.host.hostname = .value("node-1")
        snap.host.kernelRelease = .value("6.18.44")
        snap.host.netns = NetnsIdentity(inode: .value(4026531840), initial: true, basis: "test")
        snap.sysctls = SysctlTable(entries: .value([
            "net.netfilter.nf_conntrack_count": SysctlEntry(value: .value("240000")),
            "net.netfilter.nf_conntrack_max": SysctlEntry(value: .value("262144")),
            "net.netfilter.nf_conntrack_buckets": SysctlEntry(value: .value("65536")),
            "net.netfilter.nf_conntrack_expect_max": SysctlEntry(value: .value("1024")),
        ]))
        snap.stats = .value(ConntrackStats(
            source: "/proc/net/stat/nf_conntrack", cpus: 2,
            counters: ["drop": 12, "early_drop": 3, "insert_failed": 7, "invalid": 26, "found": 0]))
        snap.ctnetlink.expectations = .value(ExpectationFacts(count: 2, counters: [:]))
        return snap
    }

    static var findings: [Finding] {
        let hostile = "rule comment \"a|b\" <x> & 'y' # not a directive\nsecond line `tick`"
        let usage = CheckInfo(id: "table.usage", title: "The table has room", weight: 12, rationale: "")
        let backend = CheckInfo(id: "logging.backend", title: "A logger is bound", weight: 8, rationale: "")
        let mix = CheckInfo(id: "rules.backend-mix", title: "Rules live in one backend", weight: 6, rationale: "")
        return [
            CheckInfo(id: "conntrack.present", title: "Connection tracking is available", weight: 15, rationale: "")
                .pass(observed: "nf_conntrack is active", expected: "nf_conntrack loaded", explanation: "fine"),
            usage.fail(
                .error, observed: "240000 of 262144 entries (92%)", expected: "below 90%",
                explanation: "New flows are dropped when the table is full.",
                evidence: [Evidence("/proc/sys/net/netfilter/nf_conntrack_count", "240000")],
                remediation: Remediation(summary: "Raise the limit.", steps: [
                    .sysctl("net.netfilter.nf_conntrack_max", "524288", previous: "262144", purpose: "double the limit"),
                    .advice("Find what opens so many flows."),
                ])),
            backend.fail(
                .warning, observed: hostile, expected: "nf_log_ipv4 bound", explanation: "Lines are lost: \(hostile)",
                remediation: Remediation(summary: "Bind it.", steps: [
                    RemediationStep(purpose: "print it", argv: ["echo", "```", hostile], scope: .runtime),
                ])),
            CheckInfo(id: "helpers.auto-assign", title: "Helpers are not assigned automatically", weight: 4, rationale: "")
                .notApplicable("no nf_conntrack_helper sysctl on this kernel"),
            CheckInfo(id: "ctnetlink.available", title: "ctnetlink answers", weight: 5, rationale: "")
                .skipped("not permitted: EPERM"),
            CheckInfo(id: "lists.unconfirmed-dying", title: "Lists drain", weight: 3, rationale: "")
                .error("ctnetlink dump failed: ENOBUFS"),
            {
                var f = mix.fail(.error, observed: "iptables-legacy 3 rules, nftables 10 rules", expected: "one backend",
                                 explanation: "Both are evaluated.", remediation: nil)
                f.status = .waived
                f.explanation += " Waived by the site policy (site.yaml:20) until 2027-01-31: OPS-1234"
                return f
            }(),
        ]
    }

    static var report: Report { Report(snapshot: snapshot, findings: findings) }

    static func golden(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/golden/\(name)")
    }

    /// Compares with the golden file; CTDOCTOR_UPDATE_GOLDEN=1 rewrites it instead.
    static func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = golden(name)
        if ProcessInfo.processInfo.environment["CTDOCTOR_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "differs from Fixtures/golden/\(name) (CTDOCTOR_UPDATE_GOLDEN=1 rewrites it)", sourceLocation: sourceLocation)
    }

    /// Writes `text` to a temporary file and returns its path.
    static func temporaryFile(_ text: String, _ name: String) throws -> String {
        let dir = TestFolders.base.appendingPathComponent("ctd-format-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// External validators, each used only where it is installed (scripts/install-deps installs them).
enum Validator {
    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func run(_ argv: [String]) -> (status: Int32, output: String) {
        switch SystemCommandRunner().run(argv, timeout: 60) {
        case .success(let r): return (r.exitStatus, r.stdout + r.stderr)
        case .failure(let f): return (-1, "\(f)")
        }
    }

    static func python(has module: String) -> Bool {
        guard which("python3") != nil else { return false }
        return run(["python3", "-c", "import \(module)"]).status == 0
    }

    static let xmllint = which("xmllint") != nil
    static let junitparser = python(has: "junitparser")
    static let promtool = which("promtool") != nil
    static let prometheusClient = python(has: "prometheus_client")
}

@Suite struct JUnitFormatTests {
    let xml = JUnitReporter.render(GoldenReport.report)

    @Test func matchesGolden() throws { try GoldenReport.expectGolden(xml, "report.junit.xml") }

    @Test func oneTestcasePerCheckWithTheRightElement() {
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 7)
        #expect(xml.contains("tests=\"7\" failures=\"2\" errors=\"1\" skipped=\"3\""))
        #expect(xml.contains("<failure message=\"[error] observed: 240000 of 262144 entries (92%); expected: below 90%\" type=\"error\">"))
        #expect(xml.contains("<skipped message=\"waived [error]:"))
        #expect(xml.contains("<error message=\"ctnetlink dump failed: ENOBUFS\" type=\"error\">"))
        #expect(!xml.contains("<x>") && xml.contains("&lt;x&gt; &amp; &apos;y&apos;"))
    }

    @Test(.enabled(if: Validator.xmllint, "xmllint is not installed (Debian: libxml2-utils; scripts/install-deps installs it)"))
    func wellFormedForXmllint() throws {
        let path = try GoldenReport.temporaryFile(xml, "report.xml")
        let result = Validator.run(["xmllint", "--noout", path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Validator.junitparser, "the junitparser Python package is not installed (pip install junitparser; scripts/install-deps tries)"))
    func junitparserReadsIt() throws {
        let path = try GoldenReport.temporaryFile(xml, "report.xml")
        let script = """
            import sys
            from junitparser import JUnitXml, Failure, Skipped, Error
            xml = JUnitXml.fromfile(sys.argv[1])
            kinds = {}
            for suite in xml:
                for case in suite:
                    kind = type(case.result[0]).__name__ if case.result else "Passed"
                    kinds[kind] = kinds.get(kind, 0) + 1
            print(xml.tests, xml.failures, xml.errors, xml.skipped, sorted(kinds.items()))
            """
        let result = Validator.run(["python3", "-c", script, path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines)
                == "7 2 1 3 [('Error', 1), ('Failure', 2), ('Passed', 1), ('Skipped', 3)]", "\(result.output)")
    }
}

@Suite struct SARIFFormatTests {
    @Test func matchesGolden() throws { try GoldenReport.expectGolden(try SARIFReporter.render(GoldenReport.report), "report.sarif.json") }

    /// The schema marks logicalLocations uniqueItems; a finding citing one file twice must still list it once.
    @Test func logicalLocationsAreUnique() throws {
        var finding = try #require(GoldenReport.findings.first { $0.status == .fail })
        finding.evidence = [Evidence("/proc/net/netfilter/nf_log", "2 NONE"), Evidence("/proc/sys/net/netfilter/nf_log/2", "NONE"),
                            Evidence("/proc/net/netfilter/nf_log", "10 nf_log_ipv6")]
        let names = SARIFReporter.evidenceLocations(finding)?.first?.logicalLocations.map(\.name)
        #expect(names == ["/proc/net/netfilter/nf_log", "/proc/sys/net/netfilter/nf_log/2"])
    }

    /// The properties SARIF 2.1.0 requires, and the ones code-scanning readers rely on.
    @Test func hasTheRequiredStructure() throws {
        let text = try SARIFReporter.render(GoldenReport.report)
        let log = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        #expect((log["$schema"] as? String)?.hasSuffix("sarif-schema-2.1.0.json") == true)
        let runs = try #require(log["runs"] as? [[String: Any]])
        #expect(runs.count == 1)
        let driver = try #require((runs[0]["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "ctdoctor")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        let ruleIDs = rules.compactMap { $0["id"] as? String }
        #expect(ruleIDs == GoldenReport.findings.map(\.id), "every check is a rule")
        #expect(Set(ruleIDs).count == ruleIDs.count)
        let results = try #require(runs[0]["results"] as? [[String: Any]])
        #expect(results.compactMap { $0["ruleId"] as? String } == ["table.usage", "logging.backend", "rules.backend-mix"])
        #expect(results.compactMap { $0["level"] as? String } == ["error", "warning", "error"])
        for r in results {
            let ruleIndex = try #require(r["ruleIndex"] as? Int)
            #expect(ruleIDs[ruleIndex] == r["ruleId"] as? String)
            #expect(((r["message"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            #expect(["none", "note", "warning", "error"].contains(r["level"] as? String ?? ""))
        }
        let suppressions = try #require(results[2]["suppressions"] as? [[String: Any]])
        #expect(suppressions.first?["kind"] as? String == "external")
        #expect((suppressions.first?["justification"] as? String)?.contains("OPS-1234") == true)
        #expect(results[0]["suppressions"] == nil)
    }

    @Test(arguments: [(Severity.info, "note"), (.warning, "warning"), (.error, "error"), (.critical, "error")])
    func levelFromSeverity(severity: Severity, level: String) {
        #expect(SARIFReporter.level(severity) == level)
    }
}

@Suite struct TAPFormatTests {
    let tap = TAPReporter.render(GoldenReport.report)

    @Test func matchesGolden() throws { try GoldenReport.expectGolden(tap, "report.tap") }

    @Test func versionPlanAndOnePointPerCheck() {
        let lines = tap.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "TAP version 14")
        #expect(lines[1] == "1..7")
        let points = lines.filter { $0.hasPrefix("ok ") || $0.hasPrefix("not ok ") }
        #expect(points.count == 7)
        for (n, line) in points.enumerated() {
            #expect(line.hasPrefix("ok \(n + 1) - ") || line.hasPrefix("not ok \(n + 1) - "), "\(line)")
        }
        #expect(points.filter { $0.contains(" # SKIP ") }.count == 3)
        #expect(points.filter { $0.hasPrefix("not ok") }.count == 3, "two failures and an error")
        #expect(TAPReporter.escape("a # b \\ c\nd") == "a \\# b \\\\ c d", "# and \\ escaped, one line")
    }

    /// Every failure is followed by a YAML block that a YAML parser reads back.
    @Test func diagnosticsBlocksAreYAML() throws {
        let lines = tap.split(separator: "\n").map(String.init)
        var i = 0, blocks = 0
        while i < lines.count {
            if lines[i].hasPrefix("not ok") {
                #expect(lines[i + 1] == "  ---")
                let end = try #require(lines[(i + 1)...].firstIndex(of: "  ..."))
                let yaml = lines[(i + 2)..<end].map { String($0.dropFirst(2)) }.joined(separator: "\n")
                #expect(yaml.contains("observed: \""), "\(yaml)")
                blocks += 1
                i = end
            }
            i += 1
        }
        #expect(blocks == 3)
    }

    @Test(.enabled(if: Validator.python(has: "yaml"), "PyYAML is not installed"))
    func pyyamlReadsTheDiagnostics() throws {
        let path = try GoldenReport.temporaryFile(tap, "report.tap")
        let script = """
            import sys, yaml
            lines = open(sys.argv[1]).read().split("\\n")
            blocks, cur = [], None
            for l in lines:
                if l == "  ---": cur = []
                elif l == "  ..." and cur is not None: blocks.append(yaml.safe_load("\\n".join(x[2:] for x in cur))); cur = None
                elif cur is not None: cur.append(l)
            print(len(blocks), blocks[1]["observed"].splitlines()[1], blocks[0]["commands"][0])
            """
        let result = Validator.run(["python3", "-c", script, path])
        #expect(result.output == "3 second line `tick` sysctl -w net.netfilter.nf_conntrack_max=524288\n", "\(result.output)")
    }
}

@Suite struct PrometheusFormatTests {
    let text = PrometheusReporter.render(GoldenReport.report, snapshot: GoldenReport.snapshot)

    @Test func matchesGolden() throws { try GoldenReport.expectGolden(text, "report.prom") }

    @Test func scoreStatusesAndRawReadings() {
        #expect(text.contains("\nctdoctor_score 68\n"))
        #expect(text.contains("ctdoctor_check_status{id=\"table.usage\",status=\"fail\"} 1\n"))
        #expect(text.contains("ctdoctor_check_status{id=\"table.usage\",status=\"pass\"} 0\n"))
        #expect(text.contains("ctdoctor_check_severity{id=\"rules.backend-mix\",severity=\"error\"} 1\n"))
        #expect(text.contains("# TYPE ctdoctor_conntrack_stat_total counter\n"))
        #expect(text.contains("ctdoctor_conntrack_stat_total{counter=\"insert_failed\"} 7\n"))
        for gauge in ["entries 240000", "max 262144", "buckets 65536", "expectations 2", "expect_max 1024"] {
            #expect(text.contains("\nctdoctor_conntrack_\(gauge)\n"), "\(gauge)")
        }
    }

    @Test func labelValuesAreEscaped() {
        var report = GoldenReport.report
        report.host.hostname = "a\"b\\c\nd"
        let out = PrometheusReporter.render(report, snapshot: GoldenReport.snapshot)
        #expect(out.contains("hostname=\"a\\\"b\\\\c\\nd\""))
    }

    @Test func unreadReadingsAreLeftOut() {
        let out = PrometheusReporter.render(GoldenReport.report, snapshot: HostSnapshot())
        #expect(!out.contains("ctdoctor_conntrack_"))
        #expect(out.contains("ctdoctor_score "))
    }

    @Test(.enabled(if: Validator.promtool, "promtool is not installed (Debian: prometheus); the prometheus_client parser test covers the format"))
    func promtoolChecksIt() throws {
        let path = try GoldenReport.temporaryFile(text, "ctdoctor.prom")
        let result = Validator.run(["sh", "-c", "promtool check metrics < \"$1\"", "sh", path])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test(.enabled(if: Validator.prometheusClient, "the prometheus-client Python package is not installed (pip install prometheus-client; scripts/install-deps tries)"))
    func prometheusClientParsesIt() throws {
        let path = try GoldenReport.temporaryFile(text, "ctdoctor.prom")
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
            stat = fams["ctdoctor_conntrack_stat"]
            print(fams["ctdoctor_score"].type, stat.type, len(stat.samples), fams["ctdoctor_check_status"].samples[0].labels["id"], int(fams["ctdoctor_conntrack_max"].samples[0].value))
            """
        let result = Validator.run(["python3", "-c", script, path])
        #expect(result.output == "gauge counter 5 conntrack.present 262144\n", "\(result.output)")
    }
}

@Suite struct MarkdownFormatTests {
    let md = MarkdownReporter.render(GoldenReport.report)

    @Test func matchesGolden() throws { try GoldenReport.expectGolden(md, "report.md") }

    @Test func tableRowPerCheckAndFailingChecksWithCommands() {
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| status") }
        #expect(rows.count == 7)
        for row in rows { #expect(row.filter { $0 == "|" }.count - row.components(separatedBy: "\\|").count + 1 == 6, "\(row)") }
        #expect(md.contains("## Failing checks"))
        #expect(md.contains("### `table.usage` (error): The table has room"))
        #expect(md.contains("```sh\nsysctl -w net.netfilter.nf_conntrack_max=524288\n```"))
        #expect(md.contains("````sh\n"), "a command holding ``` gets a longer fence")
        #expect(md.contains("### `lists.unconfirmed-dying` (error: the check could not run)"))
        #expect(!md.contains("### `rules.backend-mix`"), "waived is not failing")
    }
}
