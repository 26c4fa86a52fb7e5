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
    }

    /// Programs a command step may run: the tools that change conntrack settings, modules and rules.
    public static let allowedPrograms: Set<String> = [
        "modprobe", "nft", "iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft",
    ]

    public var host: HostRoot
    public var runner: any CommandRunner
    public var journalPath: String
    public var log: @Sendable (String) -> Void

    public init(host: HostRoot, runner: any CommandRunner, journalPath: String, log: @escaping @Sendable (String) -> Void) {
        self.host = host
        self.runner = runner
        self.journalPath = journalPath
        self.log = log
    }

    /// Sysctls a fix may write: conntrack's own keys, nothing else.
    public static func mayWrite(sysctl key: String) -> Bool {
        key.hasPrefix("net.netfilter.") && !key.contains("/") && !key.contains("..")
    }

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
            if let refusal = Self.refusal(item.step.action) {
                outcome.failure = "\(item.checkID): \(refusal)"
                break
            }
            var entry = Journal.Entry(
                checkID: item.checkID, purpose: item.step.purpose, action: item.step.action,
                previous: nil, existed: nil, undo: item.step.undo, state: .pending, message: nil)
            if case .sysctl(let key, _) = item.step.action {
                let before = host.readTrimmed(SysctlTable.path(of: key))
                guard let value = before.value else {
                    outcome.failure = "\(item.checkID): cannot read \(key) before changing it: \(before.problem ?? "")"
                    break
                }
                entry.previous = value
            }
            if case .writeFile(let path, _) = item.step.action {
                switch host.read(path) {
                case .value(let text): entry.previous = text; entry.existed = true
                case .absent: entry.existed = false
                case let other:
                    outcome.failure = "\(item.checkID): cannot read \(path) before replacing it: \(other.problem ?? "")"
                }
                if outcome.failure != nil { break }
            }
            if case .controlWrite(_, _, let undoText) = item.step.action { entry.previous = undoText }
            journal.entries.append(entry)
            try journal.save(to: journalPath)
            let failedToApply = perform(item.step.action)
            let problem = failedToApply ?? verify(item.step)
            journal.entries[journal.entries.count - 1].state = failedToApply != nil ? .failed : problem != nil ? .unverified : .verified
            journal.entries[journal.entries.count - 1].message = problem
            try journal.save(to: journalPath)
            if let problem {
                outcome.failure = "\(item.checkID): \(problem)"
                break
            }
            outcome.applied += 1
            log("applied and verified: \(describe(item.step.action))")
        }
        if outcome.failure != nil {
            outcome.rolledBack = try putBack(&journal, as: .rolledBack)
        }
        return outcome
    }

    /// Restores every verified (or possibly applied) entry of a journal, newest first. True when all came back.
    public func undo(_ journal: inout Journal) throws(InputError) -> Bool {
        try putBack(&journal, as: .undone)
    }

    private func putBack(_ journal: inout Journal, as state: Journal.State) throws(InputError) -> Bool {
        var allBack = true
        for i in journal.entries.indices.reversed() {
            let entry = journal.entries[i]
            guard [.verified, .unverified, .pending].contains(entry.state) else { continue }
            let problem: String?
            switch entry.action {
            case .sysctl(let key, _):
                if let previous = entry.previous {
                    problem = host.write(SysctlTable.path(of: key), previous + "\n")
                        ?? readBack(key, expecting: previous)
                } else {
                    problem = "no previous value recorded"
                }
            case .command(let argv):
                if let undo = entry.undo, undo.isEmpty {
                    problem = nil  // the step declares there is nothing to put back
                } else if let undo = entry.undo {
                    problem = Self.refusal(.command(undo)) ?? run(undo)
                } else {
                    problem = "no undo command for \(ShellQuote.join(argv)); reverse it by hand"
                }
            case .writeFile(let path, _):
                if entry.existed == true, let previous = entry.previous {
                    problem = host.write(path, previous) ?? (host.read(path).value == previous ? nil : "\(path) does not read back as before")
                } else if entry.existed == false {
                    problem = host.remove(path)
                } else {
                    problem = "nothing recorded about \(path) before it was written"
                }
            case .controlWrite(let path, _, _):
                problem = entry.previous.map { host.write(path, $0 + "\n") } ?? "no reverse query recorded for \(path)"
            case .advice:
                problem = nil
            }
            if let problem {
                allBack = false
                journal.entries[i].message = "could not put back: \(problem)"
                log("NOT put back: \(describe(entry.action)): \(problem)")
            } else {
                journal.entries[i].state = state
                if case .sysctl(let key, let value) = entry.action, let previous = entry.previous {
                    log("put back: \(key) = \(previous) (had been set to \(value))")
                } else {
                    log("put back: \(describe(entry.action))")
                }
            }
            try journal.save(to: journalPath)
        }
        return allBack
    }

    static func refusal(_ action: RemediationStep.Action) -> String? {
        switch action {
        case .sysctl(let key, _):
            return mayWrite(sysctl: key) ? nil : "refusing to write \(key): ctdoctor only writes net.netfilter.* sysctls"
        case .command(let argv):
            guard let program = argv.first, allowedPrograms.contains(program) else {
                return "refusing to run \(argv.first ?? "an empty command"): not one of \(allowedPrograms.sorted().joined(separator: ", "))"
            }
            return nil
        case .writeFile(let path, _):
            return OwnFiles.all.contains(path) ? nil : "refusing to write \(path): ctdoctor only writes \(OwnFiles.all.sorted().joined(separator: " and "))"
        case .controlWrite(let path, _, _):
            let known = path.hasSuffix("/dynamic_debug/control") && (path.hasPrefix("/proc/") || path.hasPrefix("/sys/kernel/debug/"))
            return known ? nil : "refusing to write \(path): not a dynamic debug control file"
        case .advice:
            return "advice has nothing to run"
        }
    }

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
