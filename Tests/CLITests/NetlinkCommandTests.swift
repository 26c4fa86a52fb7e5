import ArgumentParser
import DoctorCore
import DoctorHost
import Foundation
import Testing
@testable import CTDoctorCLI

/// --sample, --deep and `top`: parsed in-process, and run through the built binary.
@Suite struct NetlinkCommandTests {
    @Test func sampleAndDeepReachCheckAndSnapshot() throws {
        let check = try #require(try CTDoctor.parseAsRoot(["check", "--sample", "2.5", "--deep"]) as? CheckCommand)
        #expect(check.collection.sample == 2.5)
        #expect(check.collection.deep)
        let snapshot = try #require(try CTDoctor.parseAsRoot(["snapshot", "--sample", "1"]) as? SnapshotCommand)
        #expect(snapshot.collection.sample == 1)
        let plain = try #require(try CTDoctor.parseAsRoot([]) as? CheckCommand)
        #expect(plain.collection.sample == 0)
        #expect(!plain.collection.deep)
    }

    @Test(arguments: [
        ["check", "--sample", "-1"], ["check", "--sample", "3601"], ["check", "--deep", "--root", "/"],
        ["check", "--sample", "1", "--snapshot", "s.json"], ["snapshot", "--deep", "--root", "/"],
        ["top", "--limit", "0"], ["top", "--limit", "65"],
    ])
    func impossibleCombinationsAreUsageErrors(arguments: [String]) {
        #expect(throws: (any Error).self) { try CTDoctor.parseAsRoot(arguments) }
    }

    @Test func helpDocumentsTheNewOptions() {
        let check = CTDoctor.helpMessage(for: CheckCommand.self, columns: 200)
        #expect(check.contains("--sample <seconds>"))
        #expect(check.contains("--deep"))
        let root = CTDoctor.helpMessage(columns: 200)
        #expect(root.contains("top"))
    }

    @Test(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
    func sampleWithRootExitsTwoNamingTheFlags() throws {
        let result = try Binary.run(["check", "--sample", "1", "--root", "/"])
        #expect(result.exitStatus == 2)
        #expect(result.stderr.contains("--sample cannot be used with --root: they need the running kernel, not a copy"))
    }

    /// issue 13 defect 10: a sosreport user is told about --sos, not --root.
    @Test(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
    func deepWithSosNamesSos() throws {
        let sos = try Binary.temporaryDirectory()
        try FileManager.default.createDirectory(at: sos.appendingPathComponent("sos_commands"), withIntermediateDirectories: true)
        let result = try Binary.run(["check", "--deep", "--sos", sos.path])
        #expect(result.exitStatus == 2)
        #expect(result.stderr.contains("--deep cannot be used with --sos: it reads the running kernel, not a copy"))
    }

    @Test(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
          .enabled(if: Binary.isRoot, "needs root to dump the table and to drop to an unprivileged user"))
    func topAsRootAndAsNobody() throws {
        let root = try Binary.run(["top", "--format", "json", "--limit", "3"])
        #expect(root.exitStatus == 0, "\(root.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(root.stdout.utf8)) as? [String: Any]
        #expect(report?["schema"] as? String == "ctdoctor.top/1")
        #expect((report?["summary"] as? [String: Any])?["entries"] is Int)

        let nobody = try Binary.run(["top"], asNobody: true)
        #expect(nobody.exitStatus == 3)
        #expect(nobody.stdout.isEmpty)
        #expect(nobody.stderr.hasPrefix("ctdoctor top: cannot dump the conntrack table: IPCTNL_MSG_CT_GET_STATS: EPERM"))
    }
}
