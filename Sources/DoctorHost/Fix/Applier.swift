import DoctorCore
/// Carries out a fix plan on the host: one step at a time, journal first, each change read back,
/// and on the first failure everything already changed is put back.
public struct Applier: Sendable {
    public enum Decision: Sendable { case yes, no, all, quit }

    public struct Outcome: Sendable, Equatable {
        public var applied: Int
        public var declined: Int
        /// The step that failed, with why; nil when every accepted step was applied and verified.
        public var failure: String?
        /// Nil unless a failure led to a rollback; then, whether every earlier change was put back.
        public var rolledBack: Bool?
        /// Set when the journal could not be brought up to date during a rollback: the changes are back, the file
        /// still shows an earlier state.
        public var journalProblem: String? = nil
    }

    public var host: HostRoot
    public var runner: any CommandRunner
    /// Where the journal is kept up to date; nil when it cannot be (an undo read from standard input).
    public var journalPath: String?
    public var log: @Sendable (String) -> Void

    public init(host: HostRoot, runner: any CommandRunner, journalPath: String?, log: @escaping @Sendable (String) -> Void) {
        self.host = host
        self.runner = runner
        self.journalPath = journalPath
        self.log = log
    }

    /// Applies the plan's steps in order. Each step is recorded in the journal, written and fsynced with its folder,
    /// before anything changes; a step that cannot be recorded is not taken. The first failure (the change, its check,
    /// or recording its outcome) puts back every change already made, this one included.
    public func apply(
        _ plan: FixPlan, journal: inout Journal,
        decide: (FixPlan.Item, Int, Int) -> Decision
    ) throws(InputError) -> Outcome {
        var outcome = Outcome(applied: 0, declined: 0, failure: nil, rolledBack: nil)
        var acceptAll = false
        for (index, item) in plan.steps.enumerated() {
            if !acceptAll {
                switch decide(item, index + 1, plan.steps.count) {
                case .yes: break
                case .all: acceptAll = true
                case .no:
                    outcome.declined += 1
                    continue
                case .quit:
                    outcome.declined += plan.steps.count - index
                    return outcome
                }
            }
            if let refusal = ChangePolicy.refusal(item.step.action) {
                outcome.failure = "\(item.checkID): \(refusal)"
                break
            }
            let recorded = record(item)
            guard case .success(let entry) = recorded else {
                if case .failure(let why) = recorded { outcome.failure = "\(item.checkID): \(why.message)" }
                break
            }
            journal.entries.append(entry)
            if let problem = save(journal) {
                journal.entries.removeLast()
                outcome.failure = "\(item.checkID): \(problem); nothing was changed for this step"
                break
            }
            let failedToApply = perform(item.step.action)
            let problem = failedToApply ?? verify(item.step)
            let last = journal.entries.count - 1
            journal.entries[last].state = failedToApply != nil ? .failed : problem != nil ? .unverified : .verified
            journal.entries[last].message = problem
            let unsaved = save(journal)
            if let problem {
                outcome.failure = "\(item.checkID): \(problem)"
                break
            }
            if let unsaved {
                // The change is made but its journal entry does not say so: put it back rather than leave it unrecorded.
                outcome.failure = "\(item.checkID): applied, but \(unsaved)"
                break
            }
            outcome.applied += 1
            log("applied and verified: \(describe(item.step.action))")
        }
        if outcome.failure != nil {
            let (back, problem) = putBack(&journal, as: .rolledBack)
            outcome.rolledBack = back
            outcome.journalProblem = problem
        }
        return outcome
    }

    /// The journal entry for a step, with what it is about to replace, read now.
    private func record(_ item: FixPlan.Item) -> Result<Journal.Entry, ChangePolicy.Refusal> {
        var entry = Journal.Entry(
            checkID: item.checkID, purpose: item.step.purpose, action: item.step.action,
            previous: nil, existed: nil, undo: item.step.undo, state: .pending, message: nil)
        switch item.step.action {
        case .sysctl(let key, _):
            let before = host.readTrimmed(SysctlTable.path(of: key))
            guard let value = before.value else {
                return .failure(.init(message: "cannot read \(key) before changing it: \(before.problem ?? "")"))
            }
            entry.previous = value
        case .writeFile(let path, _):
            switch host.read(path) {
            case .value(let text): entry.previous = text; entry.existed = true
            case .absent: entry.existed = false
            case let other: return .failure(.init(message: "cannot read \(path) before replacing it: \(other.problem ?? "")"))
            }
        case .controlWrite(_, _, let undoText):
            entry.previous = undoText
        case .command, .advice:
            break
        }
        return .success(entry)
    }

    /// Writes the journal (whole, fsynced with its folder); nil when it is on disk, or why not.
    private func save(_ journal: Journal) -> String? {
        guard let journalPath else { return nil }
        do {
            try journal.save(to: journalPath)
            return nil
        } catch {
            return error.message
        }
    }

    /// Restores every verified (or possibly applied) entry of a journal, newest first. True when all came back.
    /// Every entry is checked against what ctdoctor may change before anything runs: a journal that asks for
    /// anything else (a forged one) is refused whole.
    public func undo(_ journal: inout Journal) throws(InputError) -> Bool {
        for entry in journal.entries {
            if let refusal = ChangePolicy.refusal(undoing: entry) {
                throw InputError("--undo: \(entry.checkID): \(refusal); nothing was changed")
            }
        }
        let (back, problem) = putBack(&journal, as: .undone)
        if let problem { log("the journal could not be updated (\(problem)): it still shows the changes as made") }
        return back
    }

    /// Puts back, newest first; keeps going when one entry or a journal write fails, so as much as possible is back.
    /// Logs exactly what it writes or runs.
    private func putBack(_ journal: inout Journal, as state: Journal.State) -> (allBack: Bool, journalProblem: String?) {
        var allBack = true
        var journalProblem: String?
        for i in journal.entries.indices.reversed() {
            let entry = journal.entries[i]
            guard [.verified, .unverified, .pending].contains(entry.state) else { continue }
            let (problem, done) = restore(entry)
            if let problem {
                allBack = false
                journal.entries[i].message = "could not put back: \(problem)"
                log("NOT put back: \(describe(entry.action)): \(problem)")
            } else {
                journal.entries[i].state = state
                log("put back: \(done)")
            }
            if let unsaved = save(journal), journalProblem == nil { journalProblem = unsaved }
        }
        return (allBack, journalProblem)
    }

    /// Reverses one entry; returns why it could not, or what it wrote or ran.
    private func restore(_ entry: Journal.Entry) -> (problem: String?, done: String) {
        switch entry.action {
        case .sysctl(let key, let value):
            guard let previous = entry.previous else { return ("no previous value recorded", "") }
            let problem = host.write(SysctlTable.path(of: key), previous + "\n") ?? readBack(key, expecting: previous)
            return (problem, "\(key) = \(previous) (had been set to \(value))")
        case .command(let argv):
            guard let undo = entry.undo else { return ("no undo command for \(ShellQuote.join(argv)); reverse it by hand", "") }
            // An empty undo: the step declares there is nothing to put back.
            if undo.isEmpty { return (nil, "nothing to reverse for \(ShellQuote.join(argv))") }
            return (ChangePolicy.refusal(.command(undo)) ?? run(undo), "ran \(ShellQuote.join(undo))")
        case .writeFile(let path, _):
            if entry.existed == true, let previous = entry.previous {
                let problem = host.write(path, previous) ?? (host.read(path).value == previous ? nil : "\(path) does not read back as before")
                return (problem, "wrote \(path) as it was")
            }
            if entry.existed == false { return (host.remove(path), "removed \(path), which did not exist before") }
            return ("nothing recorded about \(path) before it was written", "")
        case .controlWrite(let path, _, _):
            guard let previous = entry.previous else { return ("no reverse query recorded for \(path)", "") }
            return (host.write(path, previous + "\n"), "wrote \(previous) > \(path)")
        case .advice:
            return (nil, "advice: nothing to reverse")
        }
    }

    static func refusal(_ action: RemediationStep.Action) -> String? { ChangePolicy.refusal(action) }

    private func perform(_ action: RemediationStep.Action) -> String? {
        switch action {
        case .sysctl(let key, let value): host.write(SysctlTable.path(of: key), value + "\n")
        case .command(let argv): run(argv)
        case .writeFile(let path, let contents):
            host.makeDirectories(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])) ?? host.write(path, contents, create: true)
        case .controlWrite(let path, let text, _): host.write(path, text + "\n")
        case .advice: nil
        }
    }

    /// Re-reads what the step promised to change.
    private func verify(_ step: RemediationStep) -> String? {
        if case .sysctl(let key, let value) = step.action { return readBack(key, expecting: value) }
        if case .writeFile(let path, let contents) = step.action {
            return host.read(path).value == contents ? nil : "\(path) does not read back as written"
        }
        if let check = step.verify { return readBack(check.sysctl, expecting: check.equals) }
        return nil
    }

    private func readBack(_ key: String, expecting value: String) -> String? {
        let now = host.readTrimmed(SysctlTable.path(of: key))
        guard let read = now.value else { return "cannot read \(key) back: \(now.problem ?? "")" }
        return read == value ? nil : "\(key) reads \(read) after writing \(value)"
    }

    private func run(_ argv: [String]) -> String? {
        switch runner.run(argv, timeout: 30) {
        case .success(let result) where result.exitStatus == 0: return nil
        case .success(let result):
            return "\(ShellQuote.join(argv)) exited \(result.exitStatus): \(result.stderr.trimmingWhitespace())"
        case .failure(let failure): return failure.description
        }
    }

    func describe(_ action: RemediationStep.Action) -> String {
        switch action {
        case .sysctl(let key, let value): "\(key) = \(value)"
        case .command(let argv): ShellQuote.join(argv)
        case .writeFile(let path, _): "wrote \(path)"
        case .controlWrite(let path, let text, _): "\(text) > \(path)"
        case .advice: "advice"
        }
    }
}
