import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `--netns NAME|PID` and `--all-netns` on the real kernel, with throwaway namespaces whose values differ from the
/// initial one's (tcp_loose 0 there, 1 by default).
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "namespace tests need root to create network namespaces and setns into them"))
struct NetnsTests {
    static func report(_ result: CommandResult) throws -> Report {
        try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    }

    static func inode(_ path: String) -> UInt64? { HostRoot().inode(path) }

    /// A namespace whose tcp_loose is 0.
    static func changedNamespace() throws -> Namespace {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_tcp_loose=0"])
        return ns
    }

    @Test func netnsNameReadsThatNamespacesSysctl() throws {
        let ns = try Self.changedNamespace()
        let result = try Binary.run(["check", "--netns", ns.name, "--only", "tcp.loose", "--format", "json"])
        let report = try Self.report(result)
        #expect(report.host.netns.name == ns.name)
        #expect(report.host.netns.initial == false)
        #expect(report.host.netns.inode == Self.inode("/run/netns/" + ns.name))
        #expect(report.findings.first { $0.id == "tcp.loose" }?.observed.contains("= 0") == true)
    }

    /// A namespace kept by a bind mount (`ip netns add`) is dated from when it was made, on the kernel log's clock;
    /// one nothing keeps (`unshare -n`) gets a new nsfs inode at every look and is not dated.
    @Test func aKeptNamespaceIsDatedAndAnUnkeptOneIsNot() throws {
        // CLOCK_MONOTONIC through Foundation: a timespec here depends on which clang module first declared it
        // (MemberImportVisibility), and a clean build saw a different one than an incremental build.
        func monotonic() -> Double { ProcessInfo.processInfo.systemUptime }
        func datedSince(_ result: CommandResult) throws -> Double? {
            let snapshot = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let netns = try #require((snapshot?["host"] as? [String: Any])?["netns"] as? [String: Any], "\(result.stderr)")
            return netns["datedSince"] as? Double
        }
        let before = monotonic()
        let ns = try Namespace()
        let after = monotonic()
        Thread.sleep(forTimeInterval: 3)
        let dated = try #require(try datedSince(try ns.ctdoctor(["snapshot"])))
        #expect(dated >= before - 0.5 && dated <= after + 0.5, "made between \(before) and \(after), dated \(dated)")
        #expect(try datedSince(try Binary.run([], argv: ["unshare", "-n", Binary.path, "snapshot"])) == nil)
    }

    @Test func netnsPIDReadsTheNamespaceOfThatProcess() throws {
        let ns = try Self.changedNamespace()
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sleeper.arguments = ["ip", "netns", "exec", ns.name, "sleep", "30"]
        try sleeper.run()
        defer { kill(sleeper.processIdentifier, SIGKILL); sleeper.waitUntilExit() }
        // `ip netns exec` enters the namespace, then becomes sleep: wait until the pid is in there.
        let target = try #require(Self.inode("/run/netns/" + ns.name))
        let pid = sleeper.processIdentifier
        for _ in 0..<100 where Self.inode("/proc/\(pid)/ns/net") != target { usleep(20_000) }
        let result = try Binary.run(["check", "--netns", String(pid), "--only", "tcp.loose", "--format", "json"])
        let report = try Self.report(result)
        #expect(report.host.netns.inode == target)
        #expect(report.host.netns.found?.hasPrefix("pid \(pid)") == true)
        #expect(report.findings.first { $0.id == "tcp.loose" }?.observed.contains("= 0") == true)
    }

    @Test func allNetnsListsTheInitialAndEveryNamedNamespace() throws {
        let a = try Self.changedNamespace(), b = try Namespace()
        // Every namespace on the machine is snapshotted: with other test runs' namespaces that takes more than a minute.
        let result = try Binary.run(["check", "--all-netns", "--only", "tcp.loose", "--format", "json", "--fail-on", "warning"], timeout: 300)
        let all = try JSONDecoder().decode(NamespaceReports.self, from: Data(result.stdout.utf8))
        #expect(all.schema == NamespaceReports.schemaID)
        let inodes = all.reports.compactMap(\.host.netns.inode)
        #expect(Set(inodes).count == inodes.count, "each namespace once")
        #expect(all.reports.first?.host.netns.initial == true)
        #expect(inodes.first == Self.inode("/proc/self/ns/net"))
        let byName = Dictionary(all.reports.compactMap { r in r.host.netns.name.map { ($0, r) } }, uniquingKeysWith: { a, _ in a })
        #expect(byName[a.name]?.findings.first { $0.id == "tcp.loose" }?.status == .fail)
        #expect(byName[b.name]?.findings.first { $0.id == "tcp.loose" }?.status == .pass)
        #expect(result.exitStatus == 1, "the warning in \(a.name) trips --fail-on warning; exit \(result.exitStatus)")
    }

    @Test func allNetnsTextHasOneSectionPerNamespace() throws {
        let ns = try Namespace()
        let result = try Binary.run(["check", "--all-netns", "--only", "tcp.loose", "--no-color"], timeout: 300)
        let headers = result.stdout.split(separator: "\n").filter { $0.hasPrefix("=== network namespace ") }
        #expect(headers.first?.contains("(ctdoctor's own)") == true)
        #expect(headers.contains { $0.contains("/run/netns/\(ns.name)") })
    }

    /// The fix lands in the namespace named, not in ctdoctor's own (whose tcp_loose is 1 already, so a wrong
    /// target would change nothing there either).
    @Test func fixApplyWithNetnsChangesThatNamespace() throws {
        let ns = try Self.changedNamespace()
        let journal = try Binary.temporaryDirectory().appendingPathComponent("j.json").path
        let result = try Binary.run(["fix", "--netns", ns.name, "--only", "tcp.loose", "--apply", "--yes", "--journal", journal])
        #expect(result.exitStatus == 0, "\(result.stdout)\(result.stderr)")
        #expect(try ns.values(["net.netfilter.nf_conntrack_tcp_loose"]) == ["1"])
    }

    @Test(arguments: ["ctd-no-such-namespace", "999999999"])
    func badNetnsExitsTwoWithOneLine(_ spec: String) throws {
        let result = try Binary.run(["check", "--netns", spec])
        #expect(result.exitStatus == 2)
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("ctdoctor: --netns \(spec): no such") == true)
    }

    @Test func tableUsageEvidenceLabelsGlobalAndPerNamespaceKeys() throws {
        let ns = try Namespace()
        let result = try Binary.run(["check", "--netns", ns.name, "--only", "table.usage", "--format", "json"])
        let evidence = try #require(try Self.report(result).findings.first { $0.id == "table.usage" }).evidence
        #expect(evidence.contains(Evidence("/proc/sys/net/netfilter/nf_conntrack_count", "0 (this network namespace)")))
        #expect(evidence.contains { $0.source.hasSuffix("nf_conntrack_max") && $0.value.hasSuffix("(global: one value for every network namespace)") })
    }
}
