import Foundation
import TestSupport
import Testing
@testable import DoctorCore
@testable import DoctorHost

private func failing(_ id: String, _ steps: [RemediationStep]) -> Finding {
    Finding(id: id, status: .fail, severity: .warning, title: id, observed: "o", expected: "e", explanation: "x",
            weight: 1, remediation: Remediation(summary: "fix \(id)", steps: steps))
}

private let bind = RemediationStep.sysctl("net.netfilter.nf_log.2", "nf_log_ipv4", previous: "NONE", purpose: "bind")
private let loose = RemediationStep.sysctl("net.netfilter.nf_conntrack_tcp_loose", "1", previous: "0", purpose: "loose")
private let liberal = RemediationStep.sysctl("net.netfilter.nf_conntrack_tcp_be_liberal", "0", previous: "1", purpose: "strict", risk: .disruptive)
private let hostOnly = RemediationStep.sysctl("net.netfilter.nf_log_all_netns", "1", previous: "0", purpose: "host", scope: .initialNamespaceOnly)

@Suite struct FixPlanTests {
    @Test func failingStepsInOrderOnceEach() {
        let findings = [failing("a", [bind, loose]), failing("b", [bind]),
                        Finding(id: "c", status: .pass, title: "c", observed: "", expected: "", explanation: "", weight: 1,
                                remediation: Remediation(summary: "s", steps: [liberal]))]
        let plan = FixPlan(findings: findings, includeDisruptive: false, initialNamespace: true)
        #expect(plan.steps.map(\.step) == [bind, loose])
        #expect(plan.steps.map(\.checkID) == ["a", "a"])
        #expect(plan.held.isEmpty)
    }

    @Test func disruptiveHostOnlyAndAdviceAreHeldWithTheReason() {
        let findings = [failing("a", [liberal, hostOnly, .advice("talk to the network team")])]
        let plan = FixPlan(findings: findings, includeDisruptive: false, initialNamespace: false)
        #expect(plan.steps.isEmpty)
        #expect(plan.held.map(\.reason) == [.disruptive, .initialNamespaceOnly, .advice])
        let withDisruptive = FixPlan(findings: findings, includeDisruptive: true, initialNamespace: true)
        #expect(withDisruptive.steps.map(\.step) == [liberal, hostOnly])
    }

    @Test func onlyNarrowsToThoseChecks() {
        let plan = FixPlan(findings: [failing("a", [bind]), failing("b", [loose])], only: ["b"], includeDisruptive: false, initialNamespace: nil)
        #expect(plan.steps.map(\.checkID) == ["b"])
    }
}

@Suite struct FixScriptTests {
    static let hostile = "$(touch /tmp/ctdoctor-pwned)'\"`x`\nrm -rf /"

    func render(_ steps: [RemediationStep], initial: Bool = true, disruptive: Bool = false) -> String {
        let plan = FixPlan(findings: [failing("rules.trace-leftover", steps)], includeDisruptive: disruptive, initialNamespace: initial)
        return FixScript.render(plan, header: .init(hostname: "h\(Self.hostile)", kernel: "6.18", netns: "1 (initial)", time: "t"))
    }

    @Test func headerSetEuAndEachStepAfterItsComment() {
        let lines = render([bind, loose]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "#!/bin/sh")
        #expect(lines.contains("set -eu"))
        let i = try! #require(lines.firstIndex(of: "sysctl -w net.netfilter.nf_log.2=nf_log_ipv4"))
        #expect(lines[i - 2].hasPrefix("# rules.trace-leftover: "))
        #expect(lines[i - 1] == "#   bind")
    }

    /// Runs the whole script with stand-ins for nft and sysctl on PATH that write down the arguments they get.
    @Test func hostileTextStaysInCommentsAndQuotes() throws {
        let step = RemediationStep(purpose: "delete \(Self.hostile)", argv: ["nft", "delete", "rule", "inet", "t", "chain\(Self.hostile)", "handle", "7"],
                                   scope: .runtime)
        let dir = TestFolders.base.appendingPathComponent("ctd-stub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for program in ["nft", "sysctl"] {
            let stub = dir.appendingPathComponent(program).path
            try "#!/bin/sh\nfor a in \"$(basename \"$0\")\" \"$@\"; do printf '%s\\0' \"$a\"; done >> \(dir.path)/calls\n"
                .write(toFile: stub, atomically: true, encoding: .utf8)
            chmod(stub, 0o755)
        }
        let script = dir.appendingPathComponent("fix.sh").path
        try render([bind, step]).write(toFile: script, atomically: true, encoding: .utf8)
        let result = try SystemCommandRunner().run(["env", "PATH=\(dir.path):/usr/bin:/bin", "sh", script], timeout: 10).get()
        #expect(result.exitStatus == 0, "\(result.stderr)")
        let calls = try String(contentsOfFile: dir.appendingPathComponent("calls").path, encoding: .utf8)
        let words = calls.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(words == bind.argv! + step.argv!)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ctdoctor-pwned"))
    }

    @Test func scriptPassesShNAndShellcheck() throws {
        let step = RemediationStep(purpose: Self.hostile, argv: ["iptables", "-t", "raw", "-D", "PREROUTING", "-m", "comment", "--comment", Self.hostile, "-j", "TRACE"],
                                   scope: .runtime)
        let dir = TestFolders.base.appendingPathComponent("ctd-fix-\(UUID().uuidString).sh")
        try render([bind, step, liberal, hostOnly], initial: false).write(to: dir, atomically: true, encoding: .utf8)
        let syntax = try SystemCommandRunner().run(["sh", "-n", dir.path], timeout: 10).get()
        #expect(syntax.exitStatus == 0, "\(syntax.stderr)")
        if SystemCommandRunner().locate("shellcheck") != nil {
            let lint = try SystemCommandRunner().run(["shellcheck", "-S", "info", dir.path], timeout: 30).get()
            #expect(lint.exitStatus == 0, "\(lint.stdout)")
        }
    }

    @Test func heldStepsAreCommentedOut() {
        let script = render([liberal, hostOnly], initial: false)
        #expect(script.contains("#   DISRUPTIVE, left out"))
        #expect(script.contains("# sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=0"))
        #expect(script.contains("#   Only from the initial network namespace"))
        #expect(!script.split(separator: "\n").contains("sysctl -w net.netfilter.nf_log_all_netns=1"))
    }
}

/// The applier against a copied tree: /proc/sys files are plain files there.
@Suite struct ApplierTests {
    let root: URL
    let journal: String

    init() throws {
        root = TestFolders.base.appendingPathComponent("ctd-apply-\(UUID().uuidString)")
        let sys = root.appendingPathComponent("proc/sys/net/netfilter/nf_log")
        try FileManager.default.createDirectory(at: sys, withIntermediateDirectories: true)
        try "NONE\n".write(to: sys.appendingPathComponent("2"), atomically: true, encoding: .utf8)
        try "0\n".write(to: sys.deletingLastPathComponent().appendingPathComponent("nf_conntrack_tcp_loose"), atomically: true, encoding: .utf8)
        journal = root.appendingPathComponent("journal.json").path
    }

    func value(_ key: String) -> String? { HostRoot(root.path).readTrimmed(SysctlTable.path(of: key)).value }

    func applier(_ runner: any CommandRunner = RecordedCommandRunner()) -> Applier {
        Applier(host: HostRoot(root.path), runner: runner, journalPath: journal, log: { _ in })
    }

    func plan(_ steps: [RemediationStep]) -> FixPlan {
        FixPlan(findings: [failing("x", steps)], includeDisruptive: true, initialNamespace: true)
    }

    @Test func appliesVerifiesAndUndoes() throws {
        var record = Journal(createdAt: "t", hostname: "h", netnsInode: 1)
        let outcome = try applier().apply(plan([bind, loose]), journal: &record) { _, _, _ in .yes }
        #expect(outcome == .init(applied: 2, declined: 0, failure: nil, rolledBack: nil))
        #expect(value("net.netfilter.nf_log.2") == "nf_log_ipv4")
        #expect(value("net.netfilter.nf_conntrack_tcp_loose") == "1")
        var saved = try Journal.load(journal)
        #expect(saved.entries.map(\.state) == [.verified, .verified])
        #expect(saved.entries.map(\.previous) == ["NONE", "0"])
        #expect(try applier().undo(&saved))
        #expect(value("net.netfilter.nf_log.2") == "NONE")
        #expect(value("net.netfilter.nf_conntrack_tcp_loose") == "0")
        #expect(try Journal.load(journal).entries.map(\.state) == [.undone, .undone])
    }

    @Test func firstFailureRollsBackWhatWasChanged() throws {
        // A key whose /proc/sys file is a folder cannot be written: the step fails after `bind` was applied.
        let broken = RemediationStep.sysctl("net.netfilter.nf_log", "x", previous: "y", purpose: "cannot work")
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        let outcome = try applier().apply(plan([bind, broken, loose]), journal: &record) { _, _, _ in .yes }
        #expect(outcome.applied == 1)
        #expect(outcome.failure?.contains("net.netfilter.nf_log") == true)
        #expect(outcome.rolledBack == true)
        #expect(value("net.netfilter.nf_log.2") == "NONE")
        #expect(value("net.netfilter.nf_conntrack_tcp_loose") == "0", "the step after the failure never ran")
        #expect(try Journal.load(journal).entries.map(\.state) == [.rolledBack])
    }

    @Test func declinedAndQuitStepsAreNotApplied() throws {
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        let outcome = try applier().apply(plan([bind, loose]), journal: &record) { _, index, _ in index == 1 ? .no : .quit }
        #expect(outcome.applied == 0 && outcome.declined == 2)
        #expect(value("net.netfilter.nf_log.2") == "NONE")
    }

    @Test func refusesAnythingOutsideItsRemit() throws {
        let panic = RemediationStep.sysctl("kernel.panic", "1", previous: "0", purpose: "no")
        let rm = RemediationStep(purpose: "no", argv: ["rm", "-rf", "/"], scope: .runtime)
        for step in [panic, rm] {
            var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
            let outcome = try applier().apply(plan([step]), journal: &record) { _, _, _ in .yes }
            #expect(outcome.failure?.contains("refusing") == true)
            #expect(record.entries.isEmpty)
        }
    }

    /// Checks, while the command runs, that its journal entry is already on disk.
    struct JournalWitness: CommandRunner {
        let journal: String
        let sawPending: LockedFlag

        func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
            if let saved = try? Journal.load(journal), saved.entries.last?.state == .pending { sawPending.set() }
            return .success(CommandResult(exitStatus: 0, stdout: ""))
        }
    }

    final class LockedFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }

    @Test func journalIsWrittenBeforeTheChange() throws {
        let flag = LockedFlag()
        let modprobe = RemediationStep.modprobe("nf_log_syslog", purpose: "load")
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        _ = try applier(JournalWitness(journal: journal, sawPending: flag)).apply(plan([modprobe]), journal: &record) { _, _, _ in .yes }
        #expect(flag.isSet)
        #expect(try Journal.load(journal).entries.map(\.undo) == [["modprobe", "-r", "nf_log_syslog"]])
    }

    @Test func dynamicDebugQueryIsWrittenAndReversed() throws {
        let control = root.appendingPathComponent("proc/dynamic_debug")
        try FileManager.default.createDirectory(at: control, withIntermediateDirectories: true)
        try "".write(to: control.appendingPathComponent("control"), atomically: true, encoding: .utf8)
        let step = RemediationStep(
            purpose: "off",
            action: .controlWrite(path: "/proc/dynamic_debug/control", text: "file *netfilter/* -p",
                                  undoText: "file net/netfilter/nf_conntrack_ftp.c line 412 +p"),
            scope: .runtime)
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        #expect(try applier().apply(plan([step]), journal: &record) { _, _, _ in .yes }.applied == 1)
        #expect(HostRoot(root.path).read("/proc/dynamic_debug/control").value == "file *netfilter/* -p\n")
        #expect(try applier().undo(&record))
        #expect(HostRoot(root.path).read("/proc/dynamic_debug/control").value == "file net/netfilter/nf_conntrack_ftp.c line 412 +p\n")
        let elsewhere = RemediationStep(purpose: "no", action: .controlWrite(path: "/etc/passwd", text: "x", undoText: nil), scope: .runtime)
        var other = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        #expect(try applier().apply(plan([elsewhere]), journal: &other) { _, _, _ in .yes }.failure?.contains("refusing") == true)
    }

    @Test func undoOfAPendingEntryRestoresToo() throws {
        // As if the process was killed after recording the step and writing the value, before verifying.
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        record.entries = [.init(checkID: "x", purpose: "p", action: bind.action, previous: "NONE", existed: nil, undo: nil, state: .pending, message: nil)]
        _ = HostRoot(root.path).write("/proc/sys/net/netfilter/nf_log/2", "nf_log_ipv4\n")
        #expect(try applier().undo(&record))
        #expect(value("net.netfilter.nf_log.2") == "NONE")
    }
}
