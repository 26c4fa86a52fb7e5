import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Fixture roots built from the real sosreports for the edge cases of issue 13: each test copies one into a temporary
/// folder and changes only what its case is about.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct SosreportEdgeCaseTests {
    /// A writable copy of a sosreport fixture.
    func copy(_ name: String) throws -> String {
        let target = try Binary.temporaryDirectory().appendingPathComponent(name).path
        let result = try Binary.run([], argv: ["/bin/cp", "-a", SosFixture.path(name), target])
        #expect(result.exitStatus == 0, "\(result.stderr)")
        return target
    }

    func write(_ root: String, _ path: String, _ text: String) throws {
        let url = URL(fileURLWithPath: root + "/" + path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }

    func findings(_ root: String) throws -> [String: Finding] {
        let result = try Binary.run(["check", "--sos", root, "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        return Dictionary(uniqueKeysWithValues: report.findings.map { ($0.id, $0) })
    }

    /// issue 13 defect 1: `net.nf_conntrack_max` (the legacy name of the global limit) in sysctl.d exists on the kernel:
    /// sysctl -a lists it (sos_commands/kernel/sysctl_-a:1065), even without a proc/sys copy of it.
    @Test func legacyConntrackMaxInSysctlDAndSysctlA() throws {
        let root = try copy("ubuntu-5.4-kubernetes-node")
        try FileManager.default.removeItem(atPath: root + "/proc/sys/net/nf_conntrack_max")
        try write(root, "etc/sysctl.d/50-conntrack-charm.conf", "# managed by a charm\nnet.nf_conntrack_max = 131072\n")
        let snapshot = try JSONDecoder().decode(HostSnapshot.self, from: Data(Binary.run(["snapshot", "--sos", root]).stdout.utf8))
        #expect(snapshot.sysctls.entry("net.nf_conntrack_max")?.source == "sos_commands/kernel/sysctl_-a:1065")
        // It exists, and equals the running value; what is wrong is that nothing loads nf_conntrack before
        // systemd-sysctl (etc/modules lists only br_netfilter), and the key comes with the module.
        var f = try #require(try findings(root)["sysctl.persistence"])
        #expect(f.status == .fail, "\(f.observed)")
        #expect(f.observed == "nf_conntrack is a module not loaded at boot, so net.nf_conntrack_max from sysctl.d will not apply")
        #expect(!f.explanation.contains("does not exist"))
        #expect(f.evidence.contains(Evidence("/etc/sysctl.d/50-conntrack-charm.conf:2", "net.nf_conntrack_max = 131072")))

        // A different value in sysctl.d is drift, with the file and line, never "remove the line".
        try write(root, "etc/sysctl.d/50-conntrack-charm.conf", "# managed by a charm\nnet.nf_conntrack_max = 1000000\n")
        f = try #require(try findings(root)["sysctl.persistence"])
        #expect(f.status == .fail)
        #expect(f.observed.hasPrefix("net.nf_conntrack_max = 131072 running, 1000000 in /etc/sysctl.d/50-conntrack-charm.conf:2"))
        #expect(f.remediation?.steps.allSatisfy { !$0.purpose.contains("Remove line") } == true)
    }

    /// issue 13 defect 8: "table full" lines only in var/log/kern.log (not in the sosreport's dmesg) still count, and on
    /// 5.4 (no namespace in the line) they are the host's, unattributed.
    @Test func tableFullOnlyInKernLog() throws {
        let root = try copy("ubuntu-5.4-kubernetes-node")
        let kernLog = try String(contentsOfFile: root + "/var/log/kern.log", encoding: .utf8)
        try write(root, "var/log/kern.log", kernLog + """
            Feb 11 19:24:01 juju-110cc2-k8stest-4 kernel: [ 1533.100000] nf_conntrack: nf_conntrack: table full, dropping packet
            Feb 11 19:24:02 juju-110cc2-k8stest-4 kernel: [ 1534.200000] nf_conntrack: nf_conntrack: table full, dropping packet

            """)
        let dmesg = try String(contentsOfFile: root + "/sos_commands/kernel/dmesg", encoding: .utf8)
        #expect(!dmesg.contains("table full"))
        let f = try #require(try findings(root)["table.drops"])
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.hasPrefix("the drop counter (not collected: neither proc/net/stat/nf_conntrack"))
        #expect(f.observed.contains("the kernel log has 2 \"table full, dropping packet\" lines that name no namespace"))
        #expect(f.evidence.contains { $0.source == "var/log/kern.log + sos_commands/kernel/dmesg" && $0.value.contains("2 unattributed") })
    }

    /// issue 13 defects 5 and 10: without any firewall output the rule checks skip, saying the sosreport holds none,
    /// never "no NAT rules" and never "live commands are not run".
    @Test func treeWithoutFirewallOutput() throws {
        let root = try copy("ubuntu-5.4-kubernetes-node")
        try FileManager.default.removeItem(atPath: root + "/sos_commands/firewall_tables")
        let all = try findings(root)
        for id in ["rules.invalid-drop", "rules.trace-leftover", "rules.notrack", "rules.backend-mix", "helpers.broad"] {
            let f = try #require(all[id])
            #expect(f.status == .skipped, "\(id): \(f.observed)")
            #expect(f.observed.hasPrefix("no firewall rules were collected: no `iptables -t TABLE -nvL` listing in this sosreport (sos_commands/firewall_tables)"), "\(id)")
            #expect(!f.observed.contains("live commands"), "\(id)")
            #expect(!f.observed.contains("no NAT rules"), "\(id)")
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(Binary.run(["check", "--sos", root, "--format", "json"]).stdout.utf8))
        #expect(report.unfilled?.contains { $0.contains("firewall_tables") } == true)
    }

    /// A container tree whose sysctl -a still lists the keys that proc/sys hides: values read there are judged,
    /// with sysctl -a named as their source.
    @Test func containerTreeWithSysctlAValues() throws {
        let root = try copy("ubuntu-5.4-lxd-container-rabbitmq")
        let sysctlA = try String(contentsOfFile: root + "/sos_commands/kernel/sysctl_-a", encoding: .utf8)
        try write(root, "sos_commands/kernel/sysctl_-a", sysctlA + "net.netfilter.nf_conntrack_tcp_loose = 0\n")
        let all = try findings(root)
        let loose = try #require(all["tcp.loose"])
        #expect(loose.status == .fail)
        #expect(loose.evidence.first?.source.hasPrefix("sos_commands/kernel/sysctl_-a:") == true)
        // The other keys stay hidden: skipped, not passed on a made-up default.
        #expect(all["tcp.be-liberal"]?.status == .skipped)
        #expect(all["logging.log-invalid"]?.status == .skipped)
    }
}

/// issue 13: a check inside a fresh unprivileged user and network namespace (`unshare -Urn`), where the host's keys
/// (nf_log_all_netns, and on kernels before 5.7 every nf_conntrack key) are hidden: no check passes on a value it
/// could not read.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare"), "needs unshare(1) from util-linux"))
struct UnprivilegedNamespaceTests {
    static let unreadable = ["(denied: ", "(not visible: ", "(error: ", "(failed: ", "(not collected: "]

    @Test func noPassRestsOnAValueThatWasNotRead() throws {
        let result = try Binary.run([], argv: ["/usr/bin/unshare", "-Urn", Binary.path, "check", "--format", "json"])
        guard result.exitStatus != 2 || !result.stderr.contains("unshare") else {
            Issue.record("unshare -Urn failed: \(result.stderr)")
            return
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.host.netns.initial == false)
        for f in report.findings where f.status == .pass {
            #expect(!Self.unreadable.contains { f.observed.contains($0) }, "\(f.id): \(f.observed)")
            let blind = f.evidence.filter { e in Self.unreadable.contains { e.value.hasPrefix($0) } }
            if f.id == "logging.all-netns" {
                // It passes on this namespace's own nf_conntrack_log_invalid, and says the host's key does not matter.
                #expect(blind.map(\.source) == ["/proc/sys/net/netfilter/nf_log_all_netns"])
                #expect(f.observed.contains("does not matter here"))
            } else {
                #expect(blind.isEmpty, "\(f.id) passes on \(blind)")
            }
        }
        // The host-only key is reported as not visible here, not as absent from the kernel.
        let allNetns = report.findings.first { $0.id == "logging.all-netns" }
        #expect(allNetns?.evidence.first?.value.hasPrefix("(not visible: net.netfilter.nf_log_all_netns exists only in the initial network namespace") == true)
    }
}
