import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `fix --persist` against a copied tree: exactly ctdoctor's own files (and the values fixed) change, and undo puts it all back.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct PersistTests {
    let root: URL
    let journal: String

    init() throws {
        let dir = try Binary.temporaryDirectory()
        root = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: FixtureRootTests.root("debian-12-persistence")), to: root)
        try "0\n".write(to: root.appendingPathComponent("proc/sys/net/netfilter/nf_conntrack_tcp_loose"), atomically: true, encoding: .utf8)
        journal = dir.appendingPathComponent("journal.json").path
    }

    /// Every file in the tree with its contents.
    func tree() throws -> [String: String] {
        var files: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root.path)!
        while let relative = enumerator.nextObject() as? String {
            let path = root.appendingPathComponent(relative).path
            let type = try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType
            if type == .typeSymbolicLink {
                files[relative] = "-> " + (try FileManager.default.destinationOfSymbolicLink(atPath: path))
            } else if type == .typeRegular {
                files[relative] = try String(contentsOfFile: path, encoding: .utf8)
            }
        }
        return files
    }

    @Test func writesOnlyItsOwnFilesAndUndoRestoresTheTree() throws {
        let before = try tree()
        let applied = try Binary.run(["fix", "--root", root.path, "--persist", "--apply", "--yes", "--journal", journal])
        #expect(applied.exitStatus == 0, "\(applied.stdout)\(applied.stderr)")
        let after = try tree()
        let changed = Set(after.keys).union(before.keys).filter { after[$0] != before[$0] }
        #expect(changed == ["proc/sys/net/netfilter/nf_conntrack_tcp_loose", "etc/sysctl.d/90-ctdoctor.conf", "etc/modules-load.d/ctdoctor.conf"])
        #expect(after["proc/sys/net/netfilter/nf_conntrack_tcp_loose"] == "1\n")
        #expect(after["etc/sysctl.d/90-ctdoctor.conf"]?.hasPrefix("# Written by ctdoctor") == true)
        #expect(after["etc/sysctl.d/90-ctdoctor.conf"]?.hasSuffix("\nnet.netfilter.nf_conntrack_tcp_loose = 1\n") == true)
        #expect(after["etc/modules-load.d/ctdoctor.conf"]?.hasSuffix("\nnf_conntrack\n") == true)

        let undone = try Binary.run(["fix", "--root", root.path, "--undo", journal])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try tree() == before)
    }

    @Test func keepsWhatItWroteBeforeAndWarnsAboutLaterFiles() throws {
        let own = root.appendingPathComponent("etc/sysctl.d/90-ctdoctor.conf")
        try "# Written by ctdoctor\nnet.netfilter.nf_conntrack_events = 1\n".write(to: own, atomically: true, encoding: .utf8)
        try "net.netfilter.nf_conntrack_tcp_loose = 0\n".write(
            to: root.appendingPathComponent("etc/sysctl.d/95-hardening.conf"), atomically: true, encoding: .utf8)
        let script = try Binary.run(["fix", "--root", root.path, "--persist"])
        #expect(script.exitStatus == 0)
        #expect(script.stdout.contains("net.netfilter.nf_conntrack_events = 1\nnet.netfilter.nf_conntrack_tcp_loose = 1\nCTDOCTOR_EOF"))
        #expect(script.stdout.contains("# WARNING: /etc/sysctl.d/95-hardening.conf:1 sets net.netfilter.nf_conntrack_tcp_loose = 0 and is applied after /etc/sysctl.d/90-ctdoctor.conf"))
    }

    @Test func refusesANonInitialNamespace() throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent("proc/sys/net/netfilter/nf_log_all_netns"))
        let refused = try Binary.run(["fix", "--root", root.path, "--persist"])
        #expect(refused.exitStatus == 2)
        #expect(refused.stderr.contains("--persist: sysctl.d is applied to the initial network namespace"))
    }
}
