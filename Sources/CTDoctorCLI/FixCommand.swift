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
            restores what a journal recorded (by default the newest of this network namespace) and verifies it.

            Exit status: 0 done (or nothing to do), 1 a step failed and the changes were rolled back,
            2 usage or input error, 3 the rollback or undo could not put everything back.
            """)

    @OptionGroup(title: "Source") var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("Plan from a snapshot file instead of this host (script only).", valueName: "file"))
    var snapshot: String?

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Fix only these checks.", valueName: "id"))
    var only: [String] = []

    @OptionGroup var policy: PolicyOption

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

    @Argument(help: ArgumentHelp("With --undo: the journal to restore (default: this network namespace's newest in /var/lib/ctdoctor).", valueName: "journal"))
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
        let opened = try source.open()
        let session = FixSession(source: opened, log: { say("  " + $0) })
        // One changer per namespace: taken before the snapshot, so a run that waited plans from what the other left.
        let lock = apply || undo
            ? try session.lock(fallbackFolder: (journal ?? undoJournal).flatMap { $0 == "-" ? nil : OutputFile.folder(of: $0) },
                               waiting: { CTDoctorCLI.printError("ctdoctor: \($0)") })
            : nil
        defer { lock?.release() }
        if undo { return try runUndo(session) }
        let loadedPolicy = try policy.load(knownChecks: Catalog.all)
        let ids = SelectionOptions.split(only)
        let known = Set(Catalog.all.map(\.info.id) + (loadedPolicy.map(PolicyEvaluator.checkInfos) ?? []).map(\.id))
        if let unknown = ids.first(where: { !known.contains($0) }) {
            throw InputError("--only: unknown check id '\(unknown)' (`ctdoctor checks` lists them)")
        }
        let snap = try snapshot.map { path throws(InputError) in try SnapshotFile.load(path) } ?? opened.takeSnapshot()
        let findings = Self.findings(snap, policy: loadedPolicy)
        let inScope = findings.filter { ids.isEmpty || ids.contains($0.id) }
        // A check that could not read its data may need fixing too: the plan cannot say, so `fix` says so.
        let unjudged = inScope.filter { $0.status == .skipped || $0.status == .error }
        let unjudgedNote = unjudged.isEmpty ? nil : Self.describe(unjudged: unjudged)
        let nothingJudged = !Gate.reachedAVerdict(inScope)
        let (plan, warnings) = try FixSession.plan(
            findings: findings, snapshot: snap, only: ids.isEmpty ? nil : Set(ids),
            includeDisruptive: includeDisruptive, persist: persist)
        guard apply else {
            let header = FixScript.Header(
                hostname: snap.host.hostname.value ?? "?", kernel: snap.host.kernelRelease.value ?? "?",
                netns: FixSession.describe(snap.host.netns), time: snap.takenAt)
            let script = Neutralise.text(FixScript.render(plan, header: header, warnings: warnings + [unjudgedNote].compactMap { $0 }))
            if let output { try OutputFile.write(script, to: output) } else { try StandardOutput.write(script) }
            if let unjudgedNote { CTDoctorCLI.printError("ctdoctor: \(unjudgedNote)") }
            if nothingJudged { throw ExitCode(Gate.Outcome.couldNotRun.rawValue) }
            return
        }
        if let unjudgedNote { CTDoctorCLI.printError("ctdoctor: \(unjudgedNote)") }
        if nothingJudged && plan.steps.isEmpty { throw ExitCode(Gate.Outcome.couldNotRun.rawValue) }
        for warning in warnings { CTDoctorCLI.printError("warning: \(warning)") }
        try runApply(plan, snapshot: snap, session: session, source: opened, policy: loadedPolicy)
    }

    static func describe(unjudged: [Finding]) -> String {
        "\(unjudged.count) check(s) could not be judged, so this plan cannot fix them: "
            + unjudged.map { "\($0.id) (\($0.status.rawValue): \($0.observed))" }.joined(separator: "; ")
    }

    /// The built-in findings, and with --policy the policy's own checks (with their fixes) on top.
    static func findings(_ snap: HostSnapshot, policy: Policy?) -> [Finding] {
        let builtIn = CheckEngine.run(Catalog.all, on: snap)
        guard let policy else { return builtIn }
        return PolicyEvaluator.evaluate(policy, snapshot: snap, findings: builtIn, today: Clock.todayUTC())
    }

    private func runApply(_ plan: FixPlan, snapshot snap: HostSnapshot, session: FixSession, source opened: HostSource, policy: Policy?) throws {
        guard yes || isatty(STDIN_FILENO) == 1 else {
            throw InputError("--apply: no terminal to confirm each step on; add --yes to apply without asking")
        }
        try session.guardApply(snap)
        if plan.steps.isEmpty {
            say("Nothing to apply." + (plan.held.isEmpty ? "" : " \(plan.held.count) step(s) held back: see `ctdoctor fix`."))
            return
        }
        let path = try journal ?? session.defaultJournalPath(netns: snap.host.netns.inode.value, time: snap.takenAt)
        say("Journal: \(path)")
        let outcome = try session.apply(plan, snapshot: snap, journalPath: path) { item, index, total in
            say("\nStep \(index)/\(total) [\(item.checkID)] \(item.step.purpose)")
            say("  " + FixScript.line(for: item.step))
            guard !yes else { return .yes }
            return Self.ask()
        }
        say("")
        if let failure = outcome.failure {
            say("FAILED: \(failure)")
            if let problem = outcome.journalProblem { say("The journal could not be brought up to date: \(problem)") }
            if outcome.rolledBack == true {
                say("Every change made before it was put back (journal: \(path)).")
                throw ExitCode(1)
            }
            say("Some changes could NOT be put back; see the journal: \(path)")
            throw ExitCode(3)
        }
        say("Applied \(outcome.applied) step(s)\(outcome.declined > 0 ? ", declined \(outcome.declined)" : ""). Undo with: ctdoctor fix --undo \(ShellQuote.quote(path))")
        let after = Self.findings(opened.takeSnapshot(), policy: policy)
        for (id, status) in FixSession.recheck(plan, findings: after) {
            say("  \(id): \(status?.rawValue ?? "?") now")
        }
    }

    private func runUndo(_ session: FixSession) throws {
        let path = try session.undoJournalPath(undoJournal ?? journal)
        var record = try session.loadForUndo(path)
        say("Undoing \(path == "-" ? "the journal on standard input" : path)")
        guard try session.undo(&record, journalPath: path) else {
            say("Some changes could NOT be put back; see the journal.")
            throw ExitCode(3)
        }
        say("Everything the journal recorded is back and verified.")
    }

    static func ask() -> Applier.Decision {
        while true {
            say("Apply? [y]es / [n]o / [a]ll / [q]uit: ", terminator: "")
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
}

/// Every line `fix` prints goes through here: host text in a step's purpose, a value put back or a failure message
/// reaches the terminal neutralised (controls and bidi overrides shown as escapes).
private func say(_ text: String, terminator: String = "\n") {
    print(Neutralise.text(text), terminator: terminator)
}
