import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Issue 15: endless and huge inputs end in one clear line (items 6), and runs that judged nothing say so with
/// exit 3 (item 12).
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct BadInputTests {
    /// Each flag's file read from /dev/zero: an endless stream, cut at the limit for its kind within seconds.
    @Test(arguments: [
        (["check", "--snapshot", "/dev/zero"], "--snapshot /dev/zero", "64 MiB limit for a snapshot"),
        (["check", "--policy", "/dev/zero", "--root", "/nonexistent"], "--policy /dev/zero", "1 MiB limit for a policy file"),
        (["check", "--baseline", "/dev/zero", "--root", "/nonexistent"], "--baseline /dev/zero", "64 MiB limit for a report"),
    ])
    func endlessInputFileIsCutAtItsLimit(arguments: [String], names: String, limit: String) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try Binary.run(arguments, timeout: 30)
        #expect(clock.now - start < .seconds(20))
        #expect(result.exitStatus == 2, "\(result.stderr)")
        #expect(result.stderr.contains(names) && result.stderr.contains(limit), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
    }

    @Test func endlessJournalIsRefused() throws {
        let result = try Binary.run(["fix", "--undo", "/dev/zero"], timeout: 30)
        #expect(result.exitStatus == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("/dev/zero"), "\(result.stderr)")
    }

    /// A 1 GiB file (sparse: it costs no disk) where a sysctl value should be, and one where the kernel log should be.
    @Test func hugeFilesUnderRootAreErrorsNamingTheLimit() throws {
        let dir = try Binary.temporaryDirectory()
        let root = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: FixtureRootTests.root("monolithic-6.18")), to: root)
        for path in ["proc/sys/net/netfilter/nf_conntrack_tcp_loose", "var/log/kern.log"] {
            let file = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            try handle.truncate(atOffset: 1 << 30)
            try handle.close()
        }
        let clock = ContinuousClock()
        let start = clock.now
        let result = try Binary.run(["check", "--root", root.path, "--format", "json"], timeout: 60)
        #expect(clock.now - start < .seconds(20))
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        let loose = try #require(report.findings.first { $0.id == "tcp.loose" })
        #expect(loose.status == .error)
        #expect(loose.observed.contains("nf_conntrack_tcp_loose") && loose.observed.contains("64 KiB limit for a sysctl value"), "\(loose.observed)")
        let snapshot = try Binary.run(["snapshot", "--root", root.path], timeout: 60)
        #expect(snapshot.stdout.contains("var/log/kern.log: larger than the 64 MiB limit for a kernel log"))
    }

    /// An empty tree: every selected check is not-applicable, which judges nothing.
    @Test func emptyRootJudgesNothing() throws {
        let root = try Binary.temporaryDirectory().path
        let result = try Binary.run(["check", "--root", root, "--only", "tcp.loose,table.usage"])
        #expect(result.exitStatus == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Score: none") && !result.stdout.contains("Score 100/100"), "\(result.stdout)")
    }

    @Test func skippingEveryCheckJudgesNothing() throws {
        let all = try Binary.run(["checks"]).stdout.components(separatedBy: "\n\n")[0].split(separator: "\n").map { String($0.prefix { $0 != " " }) }.filter { !$0.isEmpty }
        #expect(all.count > 20)
        let root = FixtureRootTests.root("monolithic-6.18")
        let result = try Binary.run(["check", "--root", root, "--skip", all.joined(separator: ",")])
        #expect(result.exitStatus == 3, "\(result.stdout)\(result.stderr)")
        #expect(try Binary.run(["check", "--root", root, "--skip", all.dropFirst().joined(separator: ",")]).exitStatus != 3)
    }

    /// As nobody, the checks that need root are skipped: `fix` must not pretend there is nothing to fix.
    @Test(.enabled(if: Binary.isRoot, "needs root to drop to an unprivileged user"))
    func fixAsNobodySaysWhatItCouldNotJudge() throws {
        let result = try Binary.run(["fix"], asNobody: true)
        #expect(result.stderr.contains("could not be judged, so this plan cannot fix them"), "\(result.stderr)")
        #expect(result.stdout.contains("# WARNING:") && result.stdout.contains("could not be judged"), "\(result.stdout)")
        let sealed = try Binary.temporaryDirectory().appendingPathComponent("sealed")
        try FileManager.default.createDirectory(at: sealed, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: sealed.deletingLastPathComponent().path)
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: sealed.path)
        let nothing = try Binary.run(["fix", "--root", sealed.path], asNobody: true)
        #expect(nothing.exitStatus == 3, "\(nothing.stdout)\(nothing.stderr)")
    }
}

/// Issue 15, item 7: a sosreport whose files link out of it shows the tree's own files, never the analysing host's.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct HostileTreeTests {
    @Test func sosreportLinksToHostFilesAreReadInsideTheTree() throws {
        let dir = try Binary.temporaryDirectory()
        let secret = dir.appendingPathComponent("secret").path
        try "root:SECRET-HASH:19000:0:99999:7:::\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let sos = dir.appendingPathComponent("sos")
        let fm = FileManager.default
        for folder in ["sos_commands/host", "sos_commands/kernel", "proc/sys/kernel"] {
            try fm.createDirectory(at: sos.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try fm.createSymbolicLink(atPath: sos.appendingPathComponent("sos_commands/host/hostname").path, withDestinationPath: secret)
        let up = String(repeating: "../", count: 12) + secret.dropFirst()
        try fm.createSymbolicLink(atPath: sos.appendingPathComponent("proc/sys/kernel/osrelease").path, withDestinationPath: up)
        try fm.createSymbolicLink(atPath: sos.appendingPathComponent("sos_commands/kernel/dmesg").path, withDestinationPath: "dmesg")
        for format in ["text", "json", "markdown"] {
            let result = try Binary.run(["check", "--sos", sos.path, "--format", format])
            #expect(!result.stdout.contains("SECRET") && !result.stderr.contains("SECRET"), "\(format): \(result.stdout)")
        }
        let snapshot = try Binary.run(["snapshot", "--sos", sos.path])
        #expect(snapshot.stdout.contains("Too many levels of symbolic links"), "the dmesg link loop is an error, not a hang")
    }
}
