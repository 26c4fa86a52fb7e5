import Foundation
import TestSupport
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct ReportTests {
    func sampleReport() -> Report {
        var snap = HostSnapshot(takenAt: "2026-11-23T16:00:00Z", toolVersion: "0.1.0")
        snap.host.hostname = .value("node-1")
        snap.host.kernelRelease = .value("6.18.44")
        snap.host.netns = NetnsIdentity(inode: .value(4026532177), initial: false, basis: "nf_log_all_netns absent", name: "blue")
        let step = RemediationStep.sysctl("net.netfilter.nf_log.2", "nf_log_ipv4", previous: "NONE", purpose: "bind the IPv4 logger")
        let hostStep = RemediationStep.sysctl("net.netfilter.nf_log_all_netns", "1", previous: "0", purpose: "let namespaces log", scope: .initialNamespaceOnly)
        let checks: [any Check] = [
            passing("conntrack.present", 15),
            failing("logging.backend", 10, .warning, steps: [step]),
            FixedCheck("logging.all-netns", weight: 6) {
                $0.skipped("not readable here", remediation: Remediation(summary: "set it on the host", steps: [hostStep]))
            },
        ]
        return Report(snapshot: snap, findings: CheckEngine.run(checks, on: snap))
    }

    @Test func jsonFollowsTheContract() throws {
        let json = try JSONReporter.render(sampleReport())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["schema"] as? String == "ctdoctor.report/1")
        let tool = try #require(object["tool"] as? [String: Any])
        #expect(tool["name"] as? String == "ctdoctor")
        let host = try #require(object["host"] as? [String: Any])
        #expect(host["kernel"] as? String == "6.18.44")
        let netns = try #require(host["netns"] as? [String: Any])
        #expect(netns["inode"] as? Int == 4026532177)
        #expect(netns["initial"] as? Bool == false)
        let summary = try #require(object["summary"] as? [String: Int])
        #expect(summary == ["pass": 1, "fail": 1, "not-applicable": 0, "skipped": 1, "error": 0, "waived": 0])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.count == 3)
        let backend = try #require(findings.first { $0["id"] as? String == "logging.backend" })
        #expect(backend["status"] as? String == "fail")
        #expect(backend["severity"] as? String == "warning")
        #expect(backend["weight"] as? Int == 10)
        let remediation = try #require(backend["remediation"] as? [String: Any])
        let steps = try #require(remediation["steps"] as? [[String: Any]])
        #expect(steps[0]["argv"] as? [String] == ["sysctl", "-w", "net.netfilter.nf_log.2=nf_log_ipv4"])
        #expect(steps[0]["command"] as? String == "sysctl -w net.netfilter.nf_log.2=nf_log_ipv4")
        #expect(steps[0]["scope"] as? String == "runtime")
        #expect(steps[0]["undo"] as? [String] == ["sysctl", "-w", "net.netfilter.nf_log.2=NONE"])
        let present = try #require(findings.first { $0["id"] as? String == "conntrack.present" })
        #expect(present["severity"] is NSNull)
    }

    @Test func jsonRoundTrips() throws {
        let report = sampleReport()
        let decoded = try JSONDecoder().decode(Report.self, from: Data(try JSONReporter.render(report).utf8))
        #expect(decoded == report)
    }

    @Test func textGroupsByAreaAndGathersCommandsAtTheEnd() {
        let text = TextReporter().render(sampleReport())
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("kernel 6.18.44"))
        #expect(lines[0].contains("not the initial namespace, /run/netns/blue"))
        #expect(lines.contains("conntrack"))
        #expect(lines.contains("logging"))
        #expect(text.contains("FAIL   logging.backend [warning]"))
        #expect(text.contains("observed bad"))
        #expect(!text.contains("\u{1B}["), "no colour unless asked")
        let block = try! #require(lines.firstIndex { $0.hasPrefix("Commands") })
        #expect(lines[block...].contains("sysctl -w net.netfilter.nf_log.2=nf_log_ipv4"))
        // A host-only step is commented out when the namespace checked is not the initial one.
        #expect(lines[block...].contains("# sysctl -w net.netfilter.nf_log_all_netns=1"))
        #expect(text.contains("Score 80/100  (100 − logging.backend 20)"))
        #expect(text.contains("3 checks: 1 pass, 1 fail, 0 not-applicable, 1 skipped, 0 error, 0 waived"))
    }

    /// A purpose or summary may quote host data (a rule comment) with a line break: pasted into a shell, the
    /// command block must run only its commands.
    @Test func hostTextWithLineBreaksStaysInComments() throws {
        let snap = HostSnapshot()
        let hostile = "rule comment \"two\ntouch /tmp/ctd-pwned\" end"
        let steps = [
            RemediationStep(purpose: "Delete " + hostile, argv: ["iptables", "-D", "INPUT", "-m", "comment", "--comment", "two\nlines"], scope: .runtime),
            RemediationStep.advice("advice about " + hostile),
        ]
        let check = FixedCheck("rules.trace-leftover", weight: 4) {
            $0.fail(.warning, observed: "x", expected: "y", explanation: "z", remediation: Remediation(summary: hostile, steps: steps))
        }
        let text = TextReporter().render(Report(snapshot: snap, findings: CheckEngine.run([check], on: snap)))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let block = try #require(lines.firstIndex { $0.hasPrefix("Commands") })
        let commands = lines[(block + 1)...].filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(commands == ["iptables -D INPUT -m comment --comment 'two", "lines'"])
        #expect(!lines.contains("touch /tmp/ctd-pwned\" end"))
    }

    @Test func quietShowsOnlyFailures() {
        let text = TextReporter(detail: .quiet).render(sampleReport())
        #expect(text.contains("logging.backend"))
        #expect(!text.contains("PASS"))
        let clean = Report(snapshot: HostSnapshot(), findings: CheckEngine.run([passing("a", 1)], on: HostSnapshot()))
        #expect(TextReporter(detail: .quiet).render(clean).contains("  no failing checks\n"))
    }

    @Test func colourFollowsTerminalAndNoColor() {
        #expect(Palette.decide(noColorFlag: false, isTerminal: true, environment: [:]))
        #expect(!Palette.decide(noColorFlag: false, isTerminal: false, environment: [:]))
        #expect(!Palette.decide(noColorFlag: false, isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(!Palette.decide(noColorFlag: true, isTerminal: true, environment: [:]))
        #expect(!Palette.decide(noColorFlag: false, isTerminal: true, environment: ["TERM": "dumb"]))
        let coloured = TextReporter(palette: Palette(enabled: true)).render(sampleReport())
        #expect(coloured.contains("\u{1B}[33mFAIL"))
    }
}

@Suite struct SnapshotFileTests {
    func write(_ text: String) throws -> String {
        let path = TestFolders.base.appendingPathComponent("ctd-\(UUID().uuidString).json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func roundTripsASnapshot() throws {
        var snap = HostSnapshot(takenAt: "t", toolVersion: "v")
        snap.sysctls = SysctlTable(entries: .value(["net.netfilter.nf_log.2": SysctlEntry(value: .value("NONE"), mode: 0o644)]))
        snap.stats = .absent("no procfs")
        let path = try write(try JSONReporter.encode(snap))
        #expect(try SnapshotFile.load(path) == snap)
    }

    @Test(arguments: [
        ("{\"schema\": \"ctdoctor.snapshot/1\", \"takenAt\": ", "not valid JSON"),
        ("{\"hello\": 1}", "not a ctdoctor snapshot"),
        ("[1, 2]", "not a ctdoctor snapshot"),
        ("{\"schema\": \"ctdoctor.report/1\"}", "schema is \"ctdoctor.report/1\""),
        ("{\"schema\": \"ctdoctor.snapshot/1\"}", "missing \"toolVersion\""),
    ])
    func badFilesGiveOneLineNamingTheFile(text: String, expected: String) throws {
        let path = try write(text)
        let error = #expect(throws: InputError.self) { try SnapshotFile.load(path) }
        #expect(error?.message.contains(path) == true)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
    }

    @Test func anOlderSnapshotWithoutLaterSectionsStillLoads() throws {
        var snap = HostSnapshot(takenAt: "t", toolVersion: "0.0.1")
        snap.stats = .value(ConntrackStats(source: "/proc/net/stat/nf_conntrack", cpus: 2, counters: ["invalid": 3]))
        var object = try #require(try JSONSerialization.jsonObject(with: Data(try JSONReporter.encode(snap).utf8)) as? [String: Any])
        for later in ["kernelLog", "dynamicDebug", "persisted"] { object.removeValue(forKey: later) }
        let path = try write(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        let loaded = try SnapshotFile.load(path)
        #expect(loaded.stats == snap.stats)
        #expect(loaded.persisted == .absent(HostSnapshot.notInSnapshot(takenBy: "0.0.1")))
    }

    @Test func missingFileSaysSo() {
        let error = #expect(throws: InputError.self) { try SnapshotFile.load("/nonexistent/snap.json") }
        #expect(error?.message == "--snapshot /nonexistent/snap.json: cannot read: No such file or directory")
    }

    @Test func outputIsWrittenWholeOrNotAtAll() throws {
        let dir = TestFolders.base.appendingPathComponent("ctd-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appendingPathComponent("report.json").path
        try OutputFile.write("first\n", to: target)
        try OutputFile.write("second\n", to: target)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "second\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["report.json"])
        #expect(throws: InputError.self) { try OutputFile.write("x", to: "/nonexistent-dir/report.json") }
    }
}

@Suite struct ModelTests {
    @Test func readingEncodesAsOneKeyObject() throws {
        #expect(try JSONReporter.encode(Reading<Int>.value(3)) == "{\n  \"value\" : 3\n}\n")
        #expect(try JSONReporter.encode(Reading<Int>.denied("EACCES")) == "{\n  \"denied\" : \"EACCES\"\n}\n")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Reading<Int>.self, from: Data("{}".utf8)) }
    }

    @Test(arguments: [("6.18.44-fc-v782", "6.18.44"), ("5.4.0-99-generic", "5.4.0"), ("6.1", "6.1.0")])
    func kernelVersionParsesReleases(release: String, expected: String) {
        #expect(KernelVersion(release: release)?.description == expected)
    }

    @Test func kernelVersionOrders() {
        #expect(KernelVersion(5, 13) < KernelVersion(6, 1))
        #expect(KernelVersion(release: "garbage") == nil)
    }

    @Test func sysctlTableSaysAbsentForUnknownKeys() {
        let table = SysctlTable(entries: .value(["net.netfilter.nf_conntrack_max": SysctlEntry(value: .value("262144"), mode: 0o444)]))
        #expect(table.int("net.netfilter.nf_conntrack_max") == .value(262144))
        #expect(table.entry("net.netfilter.nf_conntrack_max")?.writable == false)
        guard case .absent = table.value("net.netfilter.nf_conntrack_helper") else {
            Issue.record("expected absent"); return
        }
        #expect(SysctlTable.path(of: "net.netfilter.nf_log.2") == "/proc/sys/net/netfilter/nf_log/2")
    }
}
