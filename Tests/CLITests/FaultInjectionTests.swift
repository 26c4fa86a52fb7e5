import DoctorCore
import DoctorHost
import Foundation
import Testing

/// The system calls that matter fail — the journal's folder full, read-only or failing with EIO, a /proc/sys write
/// failing, the output's disk full — and nothing is left half-changed: a namespace's values are as before, an
/// output file is whole or untouched. Tiny filesystems are tmpfs mounts in a private mount namespace (`unshare -m`),
/// errno injection is strace's; everything runs in a throwaway network namespace.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "fault injection needs root: network and mount namespaces, tmpfs mounts, ptrace"))
struct FaultInjectionTests {
    static let broken = ["net.netfilter.nf_conntrack_tcp_loose=0", "net.netfilter.nf_conntrack_events=0"]
    static let keys = ["net.netfilter.nf_conntrack_tcp_loose", "net.netfilter.nf_conntrack_events"]
    static let fix = "\"$CTDOCTOR\" fix --only tcp.loose,events.enabled --apply --yes --journal \"$DIR/journal.json\""

    /// Runs `script` in the namespace with $CTDOCTOR and $DIR (an empty folder) set.
    func run(_ ns: Namespace, _ dir: URL, _ script: String) throws -> CommandResult {
        try ns.exec(["env", "CTDOCTOR=\(Binary.path)", "DIR=\(dir.path)", "sh", "-c", script])
    }

    /// A tmpfs of 64 KiB on $DIR in a private mount namespace, filled so that `keep` pages stay free, then `command`;
    /// the journal is printed after a line `--- journal`, since the tmpfs goes away with the mount namespace.
    func onTinyTmpfs(_ ns: Namespace, keep: Int, readOnly: Bool = false, _ command: String) throws -> (CommandResult, Journal?) {
        let dir = try Binary.temporaryDirectory()
        let script = """
            exec unshare -m sh -c 'mount -t tmpfs -o size=64k none "$DIR" || exit 90
            free=$(stat -f -c %a "$DIR"); count=$((free - \(keep)))
            [ "$count" -gt 0 ] && { dd if=/dev/zero of="$DIR/fill" bs=4096 count="$count" 2>/dev/null || true; }
            \(readOnly ? "mount -o remount,ro \"$DIR\" || exit 91" : "")
            \(command); rc=$?
            echo "--- journal"; cat "$DIR/journal.json" 2>/dev/null; exit $rc'
            """
        let result = try run(ns, dir, script)
        let parts = result.stdout.components(separatedBy: "--- journal\n")
        let journal = parts.count == 2 && !parts[1].isEmpty ? try? JSONDecoder().decode(Journal.self, from: Data(parts[1].utf8)) : nil
        return (CommandResult(exitStatus: result.exitStatus, stdout: parts[0], stderr: result.stderr), journal)
    }

    /// The journal's folder is full, or read-only: the first entry cannot be written, so nothing changes.
    @Test(arguments: [(false, "No space left on device"), (true, "Read-only file system")])
    func journalThatCannotBeWrittenChangesNothing(_ readOnly: Bool, _ reason: String) throws {
        let ns = try Namespace()
        try ns.set(Self.broken)
        let (result, journal) = try onTinyTmpfs(ns, keep: readOnly ? 16 : 0, readOnly: readOnly, Self.fix)
        #expect(result.exitStatus == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("FAILED: tcp.loose: --journal"))
        #expect(result.stdout.contains("cannot write: \(reason); nothing was changed for this step"))
        #expect(try ns.values(Self.keys) == ["0", "0"])
        #expect(journal == nil)
    }

    /// Room for the journal once: the entry is written, the change made, and recording that it was made fails. The
    /// change is put back, and the journal on disk still says "pending", never "verified".
    @Test func journalFolderFullAfterTheChangePutsItBack() throws {
        let ns = try Namespace()
        try ns.set(Self.broken)
        let (result, journal) = try onTinyTmpfs(ns, keep: 1, Self.fix)
        #expect(result.exitStatus == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("FAILED: tcp.loose: applied, but --journal"), "\(result.stdout)")
        #expect(result.stdout.contains("put back: net.netfilter.nf_conntrack_tcp_loose = 0 (had been set to 1)"))
        #expect(result.stdout.contains("The journal could not be brought up to date"))
        #expect(try ns.values(Self.keys) == ["0", "0"])
        #expect(journal?.entries.map(\.state) == [.pending])
    }

    /// EIO when the journal is renamed into place after the first change: that change is put back.
    @Test func journalEIOAfterTheChangePutsItBack() throws {
        let ns = try Namespace()
        try ns.set(Self.broken)
        let dir = try Binary.temporaryDirectory()
        let result = try run(ns, dir, "exec strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 "
            + "-e inject=rename,renameat,renameat2:error=EIO:when=2 " + Self.fix)
        #expect(result.exitStatus == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("FAILED: tcp.loose: applied, but --journal \(dir.path)/journal.json: cannot write: Input/output error"))
        #expect(try ns.values(Self.keys) == ["0", "0"])
        #expect(try Journal.load(dir.appendingPathComponent("journal.json").path).entries.map(\.state) == [.rolledBack])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["journal.json"], "no temporary journal left")
    }

    /// The second step's /proc/sys write fails with EIO or ENOSPC: the first step is put back.
    @Test(arguments: ["EIO", "ENOSPC"])
    func procSysWriteFailingRollsBack(_ errnoName: String) throws {
        let ns = try Namespace()
        try ns.set(Self.broken)
        let dir = try Binary.temporaryDirectory()
        let result = try run(ns, dir, "exec strace -f -qq -o /dev/null -P /proc/sys/net/netfilter/nf_conntrack_events "
            + "-e trace=write -e inject=write:error=\(errnoName) " + Self.fix)
        #expect(result.exitStatus == 1, "\(result.stdout)\(result.stderr)")
        let message = errnoName == "EIO" ? "Input/output error" : "No space left on device"
        #expect(result.stdout.contains("FAILED: events.enabled: /proc/sys/net/netfilter/nf_conntrack_events: \(message)"), "\(result.stdout)")
        #expect(result.stdout.contains("put back: net.netfilter.nf_conntrack_tcp_loose = 0"))
        #expect(try ns.values(Self.keys) == ["0", "0"])
        #expect(try Journal.load(dir.appendingPathComponent("journal.json").path).entries.map(\.state) == [.rolledBack, .failed])
    }

    /// The report cannot be written (disk full, read-only, EIO at fsync): exit 2 with the reason, the old file whole,
    /// no temporary file left.
    @Test(arguments: ["full", "read-only", "EIO"])
    func outputThatCannotBeWrittenLeavesTheOldFile(_ fault: String) throws {
        let dir = try Binary.temporaryDirectory()
        let write = "\"$CTDOCTOR\" check --root \"$ROOT\" --output \"$DIR/report.json\""
        let command: String
        switch fault {
        case "EIO": command = "strace -f -qq -o /dev/null -e trace=fsync -e inject=fsync:error=EIO \(write)"
        default: command = write
        }
        let script = """
            exec unshare -m sh -c 'mount -t tmpfs -o size=64k none "$DIR" || exit 90
            echo old > "$DIR/report.json"
            free=$(stat -f -c %a "$DIR"); [ "$free" -gt 0 ] && { dd if=/dev/zero of="$DIR/fill" bs=4096 count="$free" 2>/dev/null || true; }
            \(fault == "full" ? "" : "rm \"$DIR/fill\"")
            \(fault == "read-only" ? "mount -o remount,ro \"$DIR\" || exit 91" : "")
            \(command); rc=$?
            echo "--- files"; ls -A "$DIR"; echo "--- report"; cat "$DIR/report.json"; exit $rc'
            """
        let result = try Binary.run([], argv: [
            "env", "CTDOCTOR=\(Binary.path)", "ROOT=\(FixtureRootTests.root("monolithic-6.18"))", "DIR=\(dir.path)", "sh", "-c", script,
        ])
        let reason = ["full": "No space left on device", "read-only": "Read-only file system", "EIO": "Input/output error"][fault]!
        #expect(result.exitStatus == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.hasSuffix("ctdoctor: --output \(dir.path)/report.json: cannot write: \(reason)\n"), "\(result.stderr)")
        let files = result.stdout.components(separatedBy: "--- files\n").last?.components(separatedBy: "--- report\n") ?? []
        #expect(files.first?.split(separator: "\n").filter { $0 != "fill" } == ["report.json"], "\(result.stdout)")
        #expect(files.last == "old\n")
    }
}

/// One changer per namespace: parallel applies do not both record "previous" values, and a run that cannot get the
/// lock says who holds it.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "these tests need root to create network namespaces"))
struct ConcurrentApplyTests {
    @Test func parallelAppliesInOneNamespaceApplyOnce() throws {
        let ns = try Namespace()
        try ns.set(FaultInjectionTests.broken)
        let dir = try Binary.temporaryDirectory()
        let runs = 4
        let script = (1...runs).map { "\"$CTDOCTOR\" fix --only tcp.loose,events.enabled --apply --yes --journal \"$DIR/j\($0).json\" > \"$DIR/out\($0)\" 2>&1 &" }
            .joined(separator: "\n") + "\nwait"
        _ = try ns.exec(["env", "CTDOCTOR=\(Binary.path)", "DIR=\(dir.path)", "sh", "-c", script])
        let outputs = try (1...runs).map { try String(contentsOf: dir.appendingPathComponent("out\($0)"), encoding: .utf8) }
        #expect(outputs.filter { $0.contains("Applied 2 step(s).") }.count == 1, "\(outputs)")
        for output in outputs where !output.contains("Applied 2 step(s).") {
            #expect(output.contains("Nothing to apply.") || output.contains("is changing network namespace"), "\(output)")
        }
        let journals = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
        #expect(journals.count == 1, "only the run that changed something has a journal")
        let journal = try #require(journals.first)
        #expect(try Journal.load(dir.appendingPathComponent(journal).path).entries.map(\.previous) == ["0", "0"])
        let undone = try ns.ctdoctor(["fix", "--undo", dir.appendingPathComponent(journal).path])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try ns.values(FaultInjectionTests.keys) == ["0", "0"], "the journal is truthful: undo restores the values from before")
    }

    /// A run waits at its prompt (on a pty) holding the lock; another gives up after a few seconds, naming its pid.
    @Test func aRunThatCannotGetTheLockSaysWhoHoldsIt() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_tcp_loose=0"])
        let dir = try Binary.temporaryDirectory()
        let holder = "\(Binary.path) fix --apply --journal \(dir.path)/held.json"
        let script = """
            (sleep 9; printf 'q\\n') | script -qec '\(holder)' /dev/null > "\(dir.path)/holder.out" 2>&1 &
            sleep 2
            echo "holder $(pgrep -f "^\(Binary.path) fix --apply --journal \(dir.path)/held.json")"
            start=$(date +%s)
            "\(Binary.path)" fix --apply --yes --journal "\(dir.path)/second.json"; rc=$?
            echo "waited $(( $(date +%s) - start ))"
            wait; exit $rc
            """
        let result = try ns.exec(["sh", "-c", script])
        #expect(result.exitStatus == 2, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("waiting for another ctdoctor (pid "), "\(result.stderr)")
        let holderPid = result.stdout.split(separator: "\n").first { $0.hasPrefix("holder ") }.map { String($0.dropFirst(7)) } ?? "?"
        #expect(result.stderr.contains("another ctdoctor (pid \(holderPid)) is changing network namespace "), "holder \(holderPid): \(result.stderr)")
        #expect(result.stderr.contains(/holds \S+\/netns-\d+\.lock; waited 5 s: try again when it has finished/), "\(result.stderr)")
        let waited = Int(result.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(waited >= 4, "\(result.stdout)")
        #expect(try ns.values(["net.netfilter.nf_conntrack_tcp_loose"]) == ["0"])
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("second.json").path))
    }
}
