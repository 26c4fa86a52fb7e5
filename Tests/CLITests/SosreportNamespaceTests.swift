import DoctorCore
import DoctorHost
import Foundation
import Testing

/// issue 13: a sosreport's per-namespace outputs (`ip netns exec NS …`, see Fixtures/sosreport-netns/README.md) are
/// checked as namespaces of their own under `check --sos DIR --all-netns`: what was collected is judged, what was not
/// is skipped as "not collected", never passed; names from file names are neutralised and never a way out of the tree.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct SosreportNamespaceTests {
    /// The Kubernetes node's sosreport with the per-namespace overlay copied in.
    func tree() throws -> String {
        let root = try Binary.temporaryDirectory().appendingPathComponent("sos").path
        for source in [SosFixture.path("ubuntu-5.4-kubernetes-node") + "/.", SosFixture.path("../sosreport-netns/sos_commands")] {
            let target = source.hasSuffix("sos_commands") ? root + "/" : root
            let result = try Binary.run([], argv: ["/bin/cp", "-a", source, target])
            #expect(result.exitStatus == 0, "\(result.stderr)")
        }
        return root
    }

    func reports(_ root: String) throws -> [Report] {
        let result = try Binary.run(["check", "--sos", root, "--all-netns", "--format", "json"])
        #expect(result.exitStatus == 0 || result.exitStatus == 1, "\(result.stderr)")
        return try JSONDecoder().decode(NamespaceReports.self, from: Data(result.stdout.utf8)).reports
    }

    static func byID(_ report: Report) -> [String: Finding] {
        Dictionary(uniqueKeysWithValues: report.findings.map { ($0.id, $0) })
    }

    @Test func eachCollectedNamespaceIsAReport() throws {
        let reports = try reports(try tree())
        #expect(reports.map { $0.host.netns.found } == ["the sosreport's host", "sosreport: ip netns exec blue", "sosreport: ip netns exec red"])
        #expect(reports.dropFirst().allSatisfy { $0.host.netns.initial == false })

        // blue: sysctl -a, iptables-save, conntrack -S and -L were collected (recorded in a real namespace).
        let blue = Self.byID(reports[1])
        let loose = try #require(blue["tcp.loose"])
        #expect(loose.status == .fail)
        #expect(loose.evidence.first?.source == "sos_commands/networking/namespaces/blue/ip_netns_exec_blue_sysctl_-a:741")
        #expect(blue["table.usage"]?.observed.hasPrefix("3 of 262144 entries") == true)
        #expect(blue["table.tunnel-traffic"]?.observed == "3 entries, none for an overlay tunnel port")
        // Its DNAT rule was read, but nft's ruleset is never collected per namespace: no "no INVALID drop" verdict.
        let invalidDrop = try #require(blue["rules.invalid-drop"])
        #expect(invalidDrop.status == .skipped)
        #expect(invalidDrop.observed.contains("1 NAT rule (dnat)"))
        // Per-namespace facts sos does not keep: skipped, "not collected".
        for id in ["logging.module", "helpers.expectations"] {
            #expect(blue[id]?.status == .skipped, "\(id)")
            #expect(blue[id]?.observed.contains("not collected") == true, "\(id)")
        }
        #expect(reports[1].unfilled?.contains { $0.hasPrefix("nf_log registry: not collected") } == true)

        // red: only conntrack -S. Every check that needs a sysctl skips; the counters are judged.
        let red = Self.byID(reports[2])
        for id in ["conntrack.present", "logging.log-invalid", "logging.all-netns", "tcp.loose", "tcp.be-liberal",
                   "events.enabled", "table.usage", "timeouts.tcp-established", "rules.invalid-drop", "helpers.expectations"] {
            #expect(red[id]?.status == .skipped, "\(id): \(red[id]?.observed ?? "missing")")
        }
        // What passes rests on what was read: the counters of its conntrack -S (0 drops, 0 INVALID) and the host-wide
        // dynamic debug sites.
        #expect(Set(red.values.filter { $0.status == .pass }.map(\.id)) == ["table.drops", "table.invalid", "debug.dynamic-debug"])
        #expect(red["table.drops"]?.evidence.first?.source == "conntrack -S (sos_commands/conntrack/ip_netns_exec_red_conntrack_-S)")
        #expect(reports[2].unfilled?.contains("netfilter sysctls: not collected: the sosreport holds no `ip netns exec red sysctl -a`") == true)
    }

    /// issue 13 item 9: insert_failed piled on one CPU in a namespace's `conntrack -S` names the CPU and its share.
    @Test func perCPUSkewInANamespacesConntrackS() throws {
        let red = Self.byID(try reports(try tree())[2])
        let f = try #require(red["table.insert-failed"])
        #expect(f.status == .fail)
        #expect(f.evidence.contains(Evidence(
            "conntrack -S (sos_commands/conntrack/ip_netns_exec_red_conntrack_-S), per CPU",
            "cpu 1 counted 196 of 200 insert_failed (98%, 2 CPUs)")))
        #expect(f.explanation.contains("RSS, IRQ affinity"))
        // blue's counters are all 0 on both CPUs: passes, no CPU named.
        let blue = Self.byID(try reports(try tree())[1])
        #expect(blue["table.insert-failed"]?.status == .pass)
        #expect(blue["table.insert-failed"]?.evidence.contains { $0.source.hasSuffix("per CPU") } == false)
    }

    /// Without --all-netns the host's report says the namespaces are there and how to check them.
    @Test func plainSosCheckPointsAtAllNetns() throws {
        let result = try Binary.run(["check", "--sos", try tree(), "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(report.notes?.contains { $0.contains("collected 2 network namespaces with `ip netns exec` (blue, red): `--all-netns` checks each") } == true)
    }

    /// A hostile name (escape sequences) is shown neutralised; a file linking out of the tree reads nothing outside it.
    @Test func hostileNamesAndLinks() throws {
        let root = try tree()
        let conntrack = root + "/sos_commands/conntrack/"
        try "cpu=0 \tinsert_failed=1\n".write(toFile: conntrack + "ip_netns_exec_\u{1b}]0;owned\u{07}\u{1b}[31mevil_conntrack_-S", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: conntrack + "ip_netns_exec_leak_conntrack_-S", withDestinationPath: "/proc/net/stat/nf_conntrack")
        try FileManager.default.createSymbolicLink(atPath: root + "/sos_commands/networking/namespaces/up", withDestinationPath: "../../../../..")
        let text = try Binary.run(["check", "--sos", root, "--all-netns", "--no-color"])
        #expect(!text.stdout.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
        let reports = try reports(root)
        let names = reports.compactMap(\.host.netns.name)
        #expect(names.contains { $0.contains("evil") })
        #expect(!names.contains { $0.unicodeScalars.contains { $0.value < 0x20 } })
        // The link is taken inside the sosreport, which holds no proc/net/stat/nf_conntrack: not collected, not the host's.
        let leak = try #require(reports.first { $0.host.netns.name == "leak" })
        #expect(Self.byID(leak)["table.insert-failed"]?.status == .skipped)
    }
}
