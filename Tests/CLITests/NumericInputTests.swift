import DoctorCore
import DoctorHost
import Foundation
import Testing

/// issue 15 item 2, end to end: numbers from a copied root or a snapshot file that no kernel holds end as a finding
/// with status `error` and the reason (or are worded as they are), and the binary exits 0 or 1, never with a trap.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct NumericInputTests {
    func root(_ files: [String: String]) throws -> String {
        let target = try Binary.temporaryDirectory().appendingPathComponent("root").path
        let copied = try Binary.run([], argv: ["/bin/cp", "-a", FixtureRootTests.root("monolithic-6.18"), target])
        #expect(copied.exitStatus == 0)
        for (path, text) in files { try (text + "\n").write(toFile: target + path, atomically: false, encoding: .utf8) }
        return target
    }

    func findings(_ arguments: [String]) throws -> [String: Finding] {
        let result = try Binary.run(arguments + ["--format", "json"])
        #expect([0, 1].contains(result.exitStatus), "exit \(result.exitStatus): \(result.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        return Dictionary(uniqueKeysWithValues: report.findings.map { ($0.id, $0) })
    }

    static let netfilter = "/proc/sys/net/netfilter/"

    @Test func sysctlsBeyondAnyKernelValue() throws {
        let path = try root([
            Self.netfilter + "nf_conntrack_tcp_timeout_established": "9223372036854775807",
            Self.netfilter + "nf_conntrack_max": "9223372036854775807",
            Self.netfilter + "nf_conntrack_expect_max": "-9223372036854775808",
        ])
        let all = try findings(["check", "--root", path])
        for id in ["timeouts.tcp-established", "table.usage", "table.buckets", "helpers.expectations"] {
            #expect(all[id]?.status == .error, "\(id): \(all[id]?.observed ?? "-")")
        }
        #expect(all["timeouts.tcp-established"]?.observed == "net.netfilter.nf_conntrack_tcp_timeout_established = 9223372036854775807 is outside the values the kernel holds for it (0…2147483647)")
    }

    @Test func minusOneIsNotNoLimit() throws {
        let path = try root([Self.netfilter + "nf_conntrack_max": "-1"])
        let usage = try #require(try findings(["check", "--root", path])["table.usage"])
        #expect(usage.status == .error)
        #expect(!usage.observed.contains("no limit"))
    }

    @Test(arguments: ["nan 0.00", "inf 1.0", "1e308 2.0", "-5 1"])
    func uptimeThatIsNoTime(text: String) throws {
        let path = try root(["/proc/uptime": text])
        let snapshot = try JSONDecoder().decode(HostSnapshot.self, from: Data(Binary.run(["snapshot", "--root", path]).stdout.utf8))
        #expect(snapshot.host.uptimeSeconds.problem?.contains("no number of seconds since boot") == true)
        _ = try findings(["check", "--root", path])
    }

    @Test func snapshotWithAResampleBeyondAnyInt() throws {
        let dir = try Binary.temporaryDirectory()
        let taken = try Binary.run(["snapshot", "--root", FixtureRootTests.root("monolithic-6.18")])
        var json = try #require(try JSONSerialization.jsonObject(with: Data(taken.stdout.utf8)) as? [String: Any])
        var ctnetlink = try #require(json["ctnetlink"] as? [String: Any])
        ctnetlink["lists"] = ["value": ["unconfirmed": ["first": 0], "dying": ["first": 3, "second": 3, "stillListed": 3], "resampleSeconds": 1e19]]
        json["ctnetlink"] = ctnetlink
        var host = try #require(json["host"] as? [String: Any])
        host["uptimeSeconds"] = ["value": 1e308]
        json["host"] = host
        let file = dir.appendingPathComponent("snap.json")
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        let lists = try #require(try findings(["check", "--snapshot", file.path])["lists.unconfirmed-dying"])
        #expect(lists.status == .fail)
        #expect(lists.observed.contains("after 1e+19 s"))
    }
}
