import ArgumentParser
import Checks
import DoctorCore
import DoctorHost
import Foundation

struct FixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fix",
        abstract: "Print the fix for failing checks as a shell script; --apply runs it step by step, verifies, and can undo.",
        discussion: """
            Without --apply nothing is changed: the script goes to standard output (or --output) to be read first.
            --apply asks before each step on a terminal (y = yes, n = no, a = all, q = quit) and refuses without one
            unless --yes is given. Before each change it writes a journal (JSON, default /var/lib/ctdoctor/), reads
            the value back, and on the first failure puts back everything it changed. `ctdoctor fix --undo [JOURNAL]`
            restores what a journal recorded (the newest one by default) and verifies it.

            Exit status: 0 done (or nothing to do), 1 a step failed and the changes were rolled back,
            2 usage or input error, 3 the rollback or undo could not put everything back.
            """)

    @OptionGroup(title: "Source") var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Plan from a snapshot file instead of this host (script only).", valueName: "file"))
    var snapshot: String?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Fix only these checks.", valueName: "id"))
    var only: [String] = []

    @Flag(name: .long, help: "Include steps marked disruptive (otherwise they are left commented out).")
    var includeDisruptive = false

    @Flag(name: .long, help: ArgumentHelp("Also write the boot-time form: \(OwnFiles.sysctl) and \(OwnFiles.modulesLoad), keeping what ctdoctor wrote there before."))
    var persist = false

    @Flag(name: .long, help: "Apply the steps to this host, asking before each one.")
    var apply = false

    @Flag(name: .long, help: "With --apply: do not ask (needed when there is no terminal).")
    var yes = false

    @Flag(name: .long, help: "Put back what a journal recorded.")
    var undo = false

    @Argument(help: ArgumentHelp("With --undo: the journal to restore (default: the newest in /var/lib/ctdoctor).", valueName: "journal"))
    var undoJournal: String?

    @Option(name: .long, help: ArgumentHelp("Where --apply writes its journal.", valueName: "file"))
    var journal: String?

    @Option(name: .long, help: ArgumentHelp("Write the script to this file instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        if undoJournal != nil && !undo { throw ValidationError("a journal argument goes with --undo") }
        if undo && apply { throw ValidationError("--undo and --apply cannot be used together") }
        if snapshot != nil && (apply || undo) { throw ValidationError("--snapshot plans only: it cannot be used with --apply or --undo") }
        if snapshot != nil && source.isCopy { throw ValidationError("--snapshot and --root cannot be used together") }
        if yes && !apply { throw ValidationError("--yes goes with --apply") }
    }

    func run() throws {
        let host = try source.hostRoot()
        if undo { return try runUndo(host) }
        let ids = SelectionOptions.split(only)
        if let unknown = CheckEngine.unknownIDs(ids, in: Catalog.all).first {
            throw InputError("--only: unknown check id '\(unknown)' (`ctdoctor checks` lists them)")
        }
        let snap = try snapshot.map { path throws(InputError) in try SnapshotFile.load(path) } ?? source.takeSnapshot()
        let findings = CheckEngine.run(Catalog.all, on: snap)
        let inScope = findings.filter { ids.isEmpty || ids.contains($0.id) }
        // A check that could not read its data may need fixing too: the plan cannot say, so `fix` says so.
        let unjudged = inScope.filter { $0.status == .skipped || $0.status == .error }
        let unjudgedNote = unjudged.isEmpty ? nil : Self.describe(unjudged: unjudged)
        let nothingJudged = !Gate.reachedAVerdict(inScope)
        var plan = FixPlan(findings: findings, only: ids.isEmpty ? nil : Set(ids),
                           includeDisruptive: includeDisruptive, initialNamespace: snap.host.netns.initial)
        var warnings: [String] = []
        if persist {
            guard snap.host.netns.initial != false else {
                throw InputError("""
                    --persist: sysctl.d is applied to the initial network namespace at boot, and this is another one \
                    (\(Self.describe(snap.host.netns))); set this namespace's values through its container runtime
                    """)
            }
            let boot = PersistPlan(for: plan, snapshot: snap)
            for item in boot.steps where !plan.steps.contains(where: { $0.step.action == item.step.action }) {
                plan.steps.append(item)
            }
            warnings = boot.warnings
        }
        guard apply else {
            let header = FixScript.Header(
                hostname: snap.host.hostname.value ?? "?", kernel: snap.host.kernelRelease.value ?? "?",
                netns: Self.describe(snap.host.netns), time: snap.takenAt)
            let script = Neutralise.text(FixScript.render(plan, header: header, warnings: warnings + [unjudgedNote].compactMap { $0 }))
            if let output { try OutputFile.write(script, to: output) } else { say(script, terminator: "") }
            if let unjudgedNote { CTDoctorCLI.printError("ctdoctor: \(unjudgedNote)") }
            if nothingJudged { throw ExitCode(Gate.Outcome.couldNotRun.rawValue) }
            return
        }
        if let unjudgedNote { CTDoctorCLI.printError("ctdoctor: \(unjudgedNote)") }
        if nothingJudged && plan.steps.isEmpty { throw ExitCode(Gate.Outcome.couldNotRun.rawValue) }
        for warning in warnings { CTDoctorCLI.printError("warning: \(warning)") }
        try runApply(plan, snapshot: snap, host: host)
    }

    private func runApply(_ plan: FixPlan, snapshot snap: HostSnapshot, host: HostRoot) throws {
        let interactive = isatty(STDIN_FILENO) == 1
        guard yes || interactive else {
            throw InputError("--apply: no terminal to confirm each step on; add --yes to apply without asking")
        }
        if host.isLive, let checked = snap.host.netns.inode.value, let now = HostIdentityProbe.currentNetnsInode(), checked != now {
            throw InputError("--apply: this process is in network namespace \(now), but the check read \(checked); refusing")
        }
        if plan.steps.isEmpty {
            say("Nothing to apply." + (plan.held.isEmpty ? "" : " \(plan.held.count) step(s) held back: see `ctdoctor fix`."))
            return
        }
        let path = try journal ?? Self.defaultJournalPath(host: host, netns: snap.host.netns.inode.value, time: snap.takenAt)
        var record = Journal(createdAt: snap.takenAt, hostname: snap.host.hostname.value, netnsInode: snap.host.netns.inode.value)
        let runner: any CommandRunner = host.isLive ? SystemCommandRunner() : RecordedCommandRunner()
        let applier = Applier(host: host, runner: runner, journalPath: path, log: { say("  " + $0) })
        say("Journal: \(path)")
        let outcome = try applier.apply(plan, journal: &record) { item, index, total in
            say("\nStep \(index)/\(total) [\(item.checkID)] \(item.step.purpose)")
            say("  " + FixScript.line(for: item.step))
            guard !yes else { return .yes }
            return Self.ask()
        }
        say("")
        if let failure = outcome.failure {
            say("FAILED: \(failure)")
            if outcome.rolledBack == true {
                say("Every change made before it was put back (journal: \(path)).")
                throw ExitCode(1)
            }
            say("Some changes could NOT be put back; see the journal: \(path)")
            throw ExitCode(3)
        }
        say("Applied \(outcome.applied) step(s)\(outcome.declined > 0 ? ", declined \(outcome.declined)" : ""). Undo with: ctdoctor fix --undo \(ShellQuote.quote(path))")
        let after = CheckEngine.run(Catalog.all, on: try source.takeSnapshot())
        let fixed = Set(plan.steps.map(\.checkID)).sorted()
        for id in fixed {
            say("  \(id): \(after.first { $0.id == id }?.status.rawValue ?? "?") now")
        }
    }

    private func runUndo(_ host: HostRoot) throws {
        let folder = Self.journalFolder(host)
        guard let path = undoJournal ?? journal ?? Journal.newest(in: folder) else {
            throw InputError("--undo: no journal given and none in \(folder)")
        }
        var record = try Journal.load(path)
        if host.isLive, let recorded = record.netnsInode, let now = HostIdentityProbe.currentNetnsInode(), recorded != now {
            throw InputError("--undo \(path): recorded in network namespace \(recorded), this is \(now); run it there (ip netns exec …)")
        }
        let runner: any CommandRunner = host.isLive ? SystemCommandRunner() : RecordedCommandRunner()
        let applier = Applier(host: host, runner: runner, journalPath: path, log: { say("  " + $0) })
        say("Undoing \(path)")
        guard try applier.undo(&record) else {
            say("Some changes could NOT be put back; see the journal.")
            throw ExitCode(3)
        }
        say("Everything the journal recorded is back and verified.")
    }

    static func ask() -> Applier.Decision {
        while true {
            print("Apply? [y]es / [n]o / [a]ll / [q]uit: ", terminator: "")
            FileHandle.standardOutput.synchronizeFile()
            guard let line = readLine() else { return .quit }
            switch line.trimmingWhitespace().lowercased() {
            case "y", "yes": return .yes
            case "n", "no": return .no
            case "a", "all": return .all
            case "q", "quit": return .quit
            default: continue
            }
        }
    }

    static func journalFolder(_ host: HostRoot) -> String { host.resolve("/var/lib/ctdoctor") }

    static func defaultJournalPath(host: HostRoot, netns: UInt64?, time: String) throws(InputError) -> String {
        let folder = journalFolder(host)
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw InputError("journal folder \(folder): cannot create: \(String(cString: strerror(errno))); give --journal FILE")
        }
        let stamp = time.filter { $0.isNumber }
        return "\(folder)/journal-\(stamp)-\(netns.map(String.init) ?? "netns").json"
    }

    /// "2 check(s) could not be judged, so this plan cannot fix them: ctnetlink.available (skipped: …); …".
    static func describe(unjudged: [Finding]) -> String {
        "\(unjudged.count) check(s) could not be judged, so this plan cannot fix them: "
            + unjudged.map { "\($0.id) (\($0.status.rawValue): \($0.observed))" }.joined(separator: "; ")
    }

    static func describe(_ ns: NetnsIdentity) -> String {
        let inode = ns.inode.value.map(String.init) ?? "unknown"
        switch ns.initial {
        case true?: return "\(inode) (initial)"
        case false?: return "\(inode) (not initial\(ns.name.map { ", /run/netns/\($0)" } ?? ""))"
        case nil: return inode
        }
    }
}

/// Every line `fix` prints goes through here: host text in a step's purpose, a value put back or a failure message
/// reaches the terminal neutralised (controls and bidi overrides shown as escapes).
private func say(_ text: String, terminator: String = "\n") {
    print(Neutralise.text(text), terminator: terminator)
}
