import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Runs `script` with sh; $CTDOCTOR is the binary, $ROOT the monolithic 6.18 fixture tree.
func shell(_ script: String, timeout: Double = 60) throws -> CommandResult {
    try Binary.run([], timeout: timeout, argv: [
        "env", "CTDOCTOR=\(Binary.path)", "ROOT=\(FixtureRootTests.root("monolithic-6.18"))", "sh", "-c", script,
    ])
}

/// A device like /dev/null (char 1:3) at `path`, in a temporary folder: tests never touch the real one.
func makeNullDevice(_ path: String) throws {
    let made = try Binary.run([], argv: ["mknod", "-m", "666", path, "c", "1", "3"])
    #expect(made.exitStatus == 0, "mknod: \(made.stderr)")
}

/// The file type bits of `path` itself (not following a link). Through Foundation's lstat rather than Glibc's:
/// `stat`'s fields are not visible in a file that does not import whichever module clang gave the header to.
func fileType(_ path: String) -> mode_t? {
    guard let type = try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType else { return nil }
    switch type {
    case .typeCharacterSpecial: return S_IFCHR
    case .typeSymbolicLink: return S_IFLNK
    case .typeRegular: return S_IFREG
    case .typeDirectory: return S_IFDIR
    case .typeBlockSpecial: return S_IFBLK
    case .typeSocket: return S_IFSOCK
    default: return S_IFIFO  // Foundation has no FIFO type: it says "unknown", the one kind left
    }
}

/// The main output that cannot be written is exit 2 with one line saying why, never a trap or a silent exit 0.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct StandardOutputFailureTests {
    static let commands = [
        "check --root $ROOT", "check --root $ROOT --format json", "check --root $ROOT --format markdown",
        "fix --root $ROOT", "snapshot --root $ROOT", "checks", "checks --format json", "explain tcp.loose", "--help",
    ]

    @Test(arguments: commands)
    func intoDevFullIsExit2WithOneLine(_ command: String) throws {
        let result = try shell("exec $CTDOCTOR \(command) >/dev/full")
        #expect(result.exitStatus == 2, "\(result.stderr)")
        #expect(result.stderr == "ctdoctor: standard output: cannot write: No space left on device\n")
    }

    @Test(.enabled(if: Binary.isRoot, "top needs root and a throwaway network namespace"))
    func topIntoDevFullToo() throws {
        let ns = try Namespace()
        let result = try ns.exec(["sh", "-c", "exec \(Binary.path) top >/dev/full"])
        #expect(result.exitStatus == 2, "\(result.stderr)")
        #expect(result.stderr == "ctdoctor: standard output: cannot write: No space left on device\n")
    }
}

/// `--output` writes to what the path is: a device or FIFO straight through, a link's target, a regular file whole.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct OutputPathTests {
    let dir: URL

    init() throws { dir = try Binary.temporaryDirectory() }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func check(_ output: String, _ extra: String = "") throws -> CommandResult {
        try shell("exec $CTDOCTOR check --root $ROOT --format json --output \(ShellQuote.quote(output)) \(extra)")
    }

    @Test(.enabled(if: Binary.isRoot, "mknod needs root"))
    func aCharacterDeviceStaysADevice() throws {
        let null = path("null")
        try makeNullDevice(null)
        let result = try check(null)
        #expect(result.exitStatus <= 1, "\(result.stderr)")
        #expect(fileType(null) == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["null"], "no temporary file left")
    }

    @Test func aFIFOIsWrittenThroughToItsReader() throws {
        let fifo = path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let result = try shell("""
            cat \(ShellQuote.quote(fifo)) > \(ShellQuote.quote(path("read"))) &
            $CTDOCTOR check --root $ROOT --format json --output \(ShellQuote.quote(fifo)); rc=$?; wait; exit $rc
            """)
        #expect(result.exitStatus <= 1, "\(result.stderr)")
        #expect(fileType(fifo) == S_IFIFO)
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: path("read"))))
        #expect(report.schema == Report.schemaID)
    }

    @Test func aLinkIsFollowedAndStays() throws {
        let target = path("target.json"), link = path("link.json")
        try "old".write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o640)
        #expect(symlink("target.json", link) == 0)
        let result = try check(link)
        #expect(result.exitStatus <= 1, "\(result.stderr)")
        #expect(fileType(link) == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "target.json")
        #expect(try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: target))).schema == Report.schemaID)
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o640, "the file keeps its mode")
        // A dangling link: its target is created.
        let dangling = path("dangling.json")
        #expect(symlink("new.json", dangling) == 0)
        #expect(try check(dangling).exitStatus <= 1)
        #expect(fileType(dangling) == S_IFLNK && fileType(path("new.json")) == S_IFREG)
    }

    @Test func aFolderIsRefused() throws {
        let result = try check(dir.path)
        #expect(result.exitStatus == 2)
        #expect(result.stderr == "ctdoctor: --output \(dir.path): is a folder\n")
    }

    /// /dev/stdout is the open descriptor: the report goes where standard output goes. In a private mount namespace
    /// with its own /dev, so a regression could only replace a throwaway /dev/stdout.
    @Test(.enabled(if: Binary.isRoot, "a private /dev needs root"))
    func devStdoutIsTheDescriptor() throws {
        let captured = path("captured.json")
        let result = try shell("""
            exec unshare -m sh -c 'mount -t tmpfs none /dev && ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr \
            && mknod -m 666 /dev/null c 1 3 && "$CTDOCTOR" check --root "$ROOT" --format json --output /dev/stdout > \(ShellQuote.quote(captured)); \
            rc=$?; test -L /dev/stdout || { echo "/dev/stdout was replaced" >&2; exit 9; }; exit $rc'
            """)
        #expect(result.exitStatus <= 1, "\(result.stderr)")
        #expect(try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: captured))).schema == Report.schemaID)
    }

    @Test(.enabled(if: Binary.isRoot, "mknod needs root"))
    func aJournalMustBeARegularFile() throws {
        let tree = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: FixtureRootTests.root("debian-12-persistence")), to: tree)
        let loose = tree.appendingPathComponent("proc/sys/net/netfilter/nf_conntrack_tcp_loose").path
        try "0\n".write(toFile: loose, atomically: true, encoding: .utf8)
        let null = path("null")
        try makeNullDevice(null)
        let result = try Binary.run(["fix", "--root", tree.path, "--apply", "--yes", "--journal", null])
        #expect(result.exitStatus == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("--journal \(null): not a regular file; --journal must name a regular file; nothing was changed"))
        #expect(try String(contentsOfFile: loose, encoding: .utf8) == "0\n")
        #expect(fileType(null) == S_IFCHR)
    }
}

/// `--snapshot`, `--policy`, `--baseline` and `--undo` read pipes, FIFOs and `-` (standard input).
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct PipeInputTests {
    @Test(arguments: ["--snapshot /dev/stdin", "--snapshot -"])
    func snapshotThroughAPipe(_ flag: String) throws {
        // The reader starts first and finds the pipe empty: it must wait for the writer, not fail with EAGAIN.
        let result = try shell("(sleep 1; exec $CTDOCTOR snapshot --root $ROOT) | $CTDOCTOR check \(flag) --format json")
        #expect(result.exitStatus <= 1, "\(result.stderr)")
        #expect(try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)).findings.count >= 26)
    }

    @Test func snapshotFromAFIFOPolicyAndBaselineFromStandardInput() throws {
        let dir = try Binary.temporaryDirectory()
        let fifo = dir.appendingPathComponent("snap").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let policy = try shell("""
            ($CTDOCTOR snapshot --root $ROOT > \(fifo) &)
            printf 'sysctls:\\n  net.netfilter.nf_conntrack_tcp_loose: 0\\n' | $CTDOCTOR check --snapshot \(fifo) --policy - --format json
            """)
        let report = try JSONDecoder().decode(Report.self, from: Data(policy.stdout.utf8))
        #expect(report.findings.contains { $0.id.hasPrefix("policy.sysctl.") }, "\(policy.stderr)")
        let baseline = try shell("$CTDOCTOR check --root $ROOT --format json | $CTDOCTOR check --root $ROOT --baseline - --format json")
        #expect(baseline.exitStatus == 0, "\(baseline.stderr)")
    }

    @Test func undoFromStandardInput() throws {
        let dir = try Binary.temporaryDirectory()
        let tree = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: FixtureRootTests.root("debian-12-persistence")), to: tree)
        let loose = tree.appendingPathComponent("proc/sys/net/netfilter/nf_conntrack_tcp_loose").path
        try "0\n".write(toFile: loose, atomically: true, encoding: .utf8)
        let journal = dir.appendingPathComponent("journal.json").path
        let applied = try Binary.run(["fix", "--root", tree.path, "--only", "tcp.loose", "--apply", "--yes", "--journal", journal])
        #expect(applied.exitStatus == 0, "\(applied.stdout)\(applied.stderr)")
        #expect(try String(contentsOfFile: loose, encoding: .utf8) == "1\n")
        let undone = try shell("exec $CTDOCTOR fix --root \(ShellQuote.quote(tree.path)) --undo - < \(ShellQuote.quote(journal))")
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(undone.stdout.contains("Undoing the journal on standard input"))
        #expect(try String(contentsOfFile: loose, encoding: .utf8) == "0\n")
    }
}

/// `fix --undo` with a forged journal, end to end: refused whole with one line, the tree untouched.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct ForgedJournalCLITests {
    @Test func aJournalAskingForAnotherKeyIsRefused() throws {
        let dir = try Binary.temporaryDirectory()
        let tree = dir.appendingPathComponent("root")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: FixtureRootTests.root("debian-12-persistence")), to: tree)
        let hostname = tree.appendingPathComponent("proc/sys/kernel/hostname")
        try FileManager.default.createDirectory(at: hostname.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "node1\n".write(to: hostname, atomically: true, encoding: .utf8)
        var forged = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        forged.entries = [Journal.Entry(checkID: "x", purpose: "p", action: .sysctl(key: "kernel.hostname", value: "node1"),
                                        previous: "pwned", existed: nil, undo: nil, state: .verified, message: nil)]
        let journal = dir.appendingPathComponent("forged.json").path
        try forged.save(to: journal)
        let result = try Binary.run(["fix", "--root", tree.path, "--undo", journal])
        #expect(result.exitStatus == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr == "ctdoctor: --undo: x: refusing to write kernel.hostname: ctdoctor only writes net.netfilter.* sysctls; nothing was changed\n")
        #expect(try String(contentsOf: hostname, encoding: .utf8) == "node1\n")
    }
}
