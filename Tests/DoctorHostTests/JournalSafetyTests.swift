import Foundation
import TestSupport
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// Commands a test runner was asked to run, in order; every one succeeds. `sabotage` runs on the first call.
final class CommandLog: CommandRunner, @unchecked Sendable {
    private let lock = NSLock()
    private var argvs: [[String]] = []
    private var sabotage: (() -> Void)?

    init(sabotage: (() -> Void)? = nil) { self.sabotage = sabotage }

    var calls: [[String]] { lock.withLock { argvs } }

    func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
        let hook = lock.withLock { () -> (() -> Void)? in
            argvs.append(argv)
            defer { sabotage = nil }
            return sabotage
        }
        hook?()
        return .success(CommandResult(exitStatus: 0, stdout: ""))
    }
}

/// A copied tree holding only these /proc/sys/net/netfilter values (key → file text).
func netfilterTree(_ name: String, _ values: [String: String]) throws -> URL {
    let root = TestFolders.base.appendingPathComponent("ctd-\(name)-\(UUID().uuidString)")
    for (key, text) in values {
        let file = root.appendingPathComponent(String(SysctlTable.path(of: key).dropFirst()))
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
    }
    return root
}

final class Lines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// A journal is a file, and a file can be forged: undo runs only the inverse of what ctdoctor itself records.
@Suite struct JournalSafetyTests {
    let root: URL
    let journal: String

    init() throws {
        root = try netfilterTree("journal", ["net.netfilter.nf_log.2": "nf_log_ipv4\n"])
        journal = root.appendingPathComponent("journal.json").path
    }

    func value(_ key: String) -> String? { HostRoot(root.path).readTrimmed(SysctlTable.path(of: key)).value }

    static func entry(_ action: RemediationStep.Action, undo: [String]? = nil, previous: String? = nil) -> Journal.Entry {
        Journal.Entry(checkID: "forged", purpose: "p", action: action, previous: previous, existed: previous == nil ? nil : true,
                      undo: undo, state: .verified, message: nil)
    }

    /// A real entry (nf_log.2 was NONE, set to nf_log_ipv4) beside each forged one.
    static let bind = Journal.Entry(
        checkID: "logging.backend", purpose: "bind", action: .sysctl(key: "net.netfilter.nf_log.2", value: "nf_log_ipv4"),
        previous: "NONE", existed: nil, undo: nil, state: .verified, message: nil)

    static let forged: [(String, Journal.Entry)] = [
        ("modprobe with a config file", entry(.command(["modprobe", "-C", "EVIL.conf", "x"]), undo: ["modprobe", "-r", "x"])),
        ("modprobe of an unknown module", entry(.command(["modprobe", "evil"]), undo: ["modprobe", "-r", "evil"])),
        ("undo that loads with options", entry(.command(["modprobe", "nf_log_syslog"]), undo: ["modprobe", "-C", "/tmp/evil", "nf_log_syslog"])),
        ("undo that is not the inverse", entry(.command(["modprobe", "nf_log_syslog"]), undo: ["modprobe", "-r", "nf_conntrack"])),
        ("nft reading a file", entry(.command(["nft", "-f", "/tmp/rules"]), undo: [])),
        ("nft flushing the ruleset", entry(.command(["nft", "add", "table", "inet", "ctdoctor"]), undo: ["nft", "flush", "ruleset"])),
        ("nft with a second command", entry(.command(["nft", "add", "chain", "inet", "ctdoctor", "c", "{ type filter hook input priority 0; }"]),
                                            undo: ["nft", "delete", "chain", "inet", "ctdoctor", "c;", "flush", "ruleset"])),
        ("nft include", entry(.command(["nft", "add", "rule", "inet", "ctdoctor", "c", "include", "\"/tmp/x\""]), undo: ["nft", "flush", "chain", "inet", "ctdoctor", "c"])),
        ("nft on another table without a handle", entry(.command(["nft", "add", "rule", "inet", "filter", "input", "drop"]), undo: [])),
        ("nft transaction flushing the ruleset", entry(.command(["nft", "add table inet ctdoctor_trace; flush ruleset"]),
                                                       undo: ["nft", "delete", "table", "inet", "ctdoctor_trace"])),
        ("nft transaction reaching another table", entry(.command(["nft", "add table inet ctdoctor_trace; add rule inet filter input drop"]),
                                                         undo: ["nft", "delete", "table", "inet", "ctdoctor_trace"])),
        ("nft with a comment hiding the rest", entry(.command(["nft", "add", "table", "inet", "ctdoctor", "#", "x"]), undo: [])),
        ("nft JSON flushing the ruleset", entry(.command(["nft", "-j", #"{"nftables":[{"flush":{"ruleset":null}}]}"#]), undo: [])),
        ("iptables --modprobe", entry(.command(["iptables", "-t", "raw", "-D", "PREROUTING", "-j", "TRACE"]),
                                      undo: ["iptables", "-t", "raw", "-I", "PREROUTING", "1", "--modprobe=/tmp/evil", "-j", "TRACE"])),
        ("iptables -M", entry(.command(["iptables", "-I", "INPUT", "-M", "/tmp/evil", "-j", "DROP"]), undo: ["iptables", "-D", "INPUT", "-M", "/tmp/evil", "-j", "DROP"])),
        ("iptables flushing a chain", entry(.command(["iptables", "-F", "INPUT"]), undo: [])),
        ("a program of its own", entry(.command(["sh", "-c", "touch /tmp/pwned"]), undo: [])),
        ("a sysctl outside net.netfilter", entry(.sysctl(key: "kernel.hostname", value: "x"), previous: "evil")),
        ("a sysctl path escaping net.netfilter", entry(.sysctl(key: "net.netfilter.../../kernel/hostname", value: "x"), previous: "evil")),
        ("a value of two lines", entry(.sysctl(key: "net.netfilter.nf_conntrack_max", value: "1"), previous: "1\nkernel.core_pattern=|/tmp/x")),
        ("a boot file setting kernel keys", entry(.writeFile(path: OwnFiles.sysctl, contents: "net.netfilter.nf_conntrack_max = 1\n"),
                                                  previous: "kernel.core_pattern = |/tmp/evil\n")),
        ("a file that is not its own", entry(.writeFile(path: "/etc/cron.d/x", contents: "x"), previous: "* * * * * root sh")),
        ("a control write elsewhere", entry(.controlWrite(path: "/etc/passwd", text: "file x -p", undoText: nil), previous: "x")),
        ("a control query of two lines", entry(.controlWrite(path: "/proc/dynamic_debug/control", text: "file *netfilter/* -p", undoText: nil),
                                               previous: "file a.c line 1 +p\nmodule evil +p")),
    ]

    @Test(arguments: 0..<forged.count)
    func aForgedJournalIsRefusedWholeBeforeAnythingRuns(_ index: Int) throws {
        let (name, entry) = Self.forged[index]
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        record.entries = [Self.bind, entry]
        try record.save(to: journal)
        var loaded = try Journal.load(journal)
        let runner = CommandLog()
        let applier = Applier(host: HostRoot(root.path), runner: runner, journalPath: journal, log: { _ in })
        #expect(throws: InputError.self, "\(name)") { try applier.undo(&loaded) }
        do {
            _ = try applier.undo(&loaded)
        } catch {
            #expect(error.message.contains("refusing") && error.message.contains("nothing was changed"), "\(name): \(error.message)")
        }
        #expect(runner.calls.isEmpty, "\(name)")
        #expect(value("net.netfilter.nf_log.2") == "nf_log_ipv4", "\(name): the real entry was not put back either")
        #expect(try Journal.load(journal).entries.map(\.state) == [.verified, .verified])
    }

    /// The steps ctdoctor writes itself pass, and undo prints exactly what it runs.
    @Test func undoRunsTheRecordedInverseAndSaysSo() throws {
        let steps: [(RemediationStep.Action, [String]?)] = [
            (.command(["modprobe", "nf_log_syslog"]), ["modprobe", "-r", "nf_log_syslog"]),
            (.command(["nft", "add", "table", "inet", "ctdoctor"]), []),
            (.command(["nft", "add", "table", "inet", "ctdoctor"]), ["nft", "delete", "table", "inet", "ctdoctor"]),
            // The wizard's trace table: one transaction, undone by deleting the table.
            (.command(["nft", "add table inet ctdoctor_trace; add chain inet ctdoctor_trace pre { type filter hook prerouting priority -300; }; "
                       + "add rule inet ctdoctor_trace pre iifname \"eth0\" ip daddr 10.0.0.1 tcp dport 8080 meta nftrace set 1"]),
             ["nft", "delete", "table", "inet", "ctdoctor_trace"]),
            (.command(["nft", "add", "chain", "inet", "ctdoctor", "invalid-input", "{ type filter hook input priority 0; policy accept; }"]),
             ["nft", "delete", "chain", "inet", "ctdoctor", "invalid-input"]),
            (.command(["nft", "add", "rule", "inet", "ctdoctor", "invalid-input", "ct", "state", "invalid", "drop"]),
             ["nft", "flush", "chain", "inet", "ctdoctor", "invalid-input"]),
            (.command(["nft", "delete", "rule", "inet", "dbg", "pre", "handle", "2"]),
             ["nft", "-j", #"{"nftables":[{"add":{"rule":{"chain":"pre","expr":[],"family":"inet","table":"dbg"}}}]}"#]),
            (.command(["iptables-nft", "-t", "raw", "-D", "PREROUTING", "-p", "tcp", "-j", "TRACE"]),
             ["iptables-nft", "-t", "raw", "-I", "PREROUTING", "3", "-p", "tcp", "-j", "TRACE"]),
        ]
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        record.entries = [Self.bind] + steps.map { Self.entry($0.0, undo: $0.1) }
        let runner = CommandLog()
        let log = Lines()
        let applier = Applier(host: HostRoot(root.path), runner: runner, journalPath: journal, log: { log.add($0) })
        #expect(try applier.undo(&record))
        let run = steps.reversed().compactMap(\.1).filter { !$0.isEmpty }
        #expect(runner.calls == run)
        for argv in run { #expect(log.all.contains("put back: ran \(ShellQuote.join(argv))"), "\(log.all)") }
        #expect(log.all.last == "put back: net.netfilter.nf_log.2 = NONE (had been set to nf_log_ipv4)")
        #expect(value("net.netfilter.nf_log.2") == "NONE")
    }

    @Test(.enabled(if: getuid() == 0, "changing a file's owner needs root"))
    func aJournalSomeoneElseCouldHaveWrittenIsRefused() throws {
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        record.entries = [Self.bind]
        try record.save(to: journal)
        #expect(try FileManager.default.attributesOfItem(atPath: journal)[.posixPermissions] as? Int == 0o600)
        chmod(journal, 0o620)
        #expect(throws: InputError("--undo \(journal): refusing a journal that others may write (mode 620)")) { try Journal.load(journal) }
        chmod(journal, 0o600)
        chown(journal, 65534, 65534)
        #expect(throws: InputError("--undo \(journal): refusing a journal owned by uid 65534: a journal must be owned by root")) {
            try Journal.load(journal)
        }
    }
}

/// Nothing changes unless its journal entry is on disk first; a journal write failing after a change puts it back.
@Suite struct JournalFirstTests {
    let root: URL

    init() throws {
        root = try netfilterTree("first", ["net.netfilter.nf_log.2": "NONE\n"])
    }

    func plan(_ steps: [RemediationStep]) -> FixPlan {
        FixPlan(findings: [Finding(id: "x", status: .fail, severity: .warning, title: "x", observed: "o", expected: "e", explanation: "x",
                                   weight: 1, remediation: Remediation(summary: "fix", steps: steps))],
                includeDisruptive: true, initialNamespace: true)
    }

    @Test func aJournalThatCannotBeWrittenChangesNothing() throws {
        let bind = RemediationStep.sysctl("net.netfilter.nf_log.2", "nf_log_ipv4", previous: "NONE", purpose: "bind")
        let runner = CommandLog()
        let applier = Applier(host: HostRoot(root.path), runner: runner, journalPath: root.path + "/missing/journal.json", log: { _ in })
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        let outcome = try applier.apply(plan([.modprobe("nf_log_syslog", purpose: "load"), bind]), journal: &record) { _, _, _ in .yes }
        #expect(outcome.applied == 0)
        #expect(outcome.failure?.contains("cannot write: No such file or directory; nothing was changed for this step") == true, "\(outcome)")
        #expect(runner.calls.isEmpty)
        #expect(HostRoot(root.path).readTrimmed("/proc/sys/net/netfilter/nf_log/2").value == "NONE")
    }

    /// The journal's folder disappears while the change runs: the change cannot be recorded, so it is put back.
    @Test func aJournalWriteFailingAfterTheChangePutsItBack() throws {
        let folder = root.appendingPathComponent("journals")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let journal = folder.appendingPathComponent("journal.json").path
        let runner = CommandLog(sabotage: { _ = rename(folder.path, folder.path + "-gone") })
        let applier = Applier(host: HostRoot(root.path), runner: runner, journalPath: journal, log: { _ in })
        var record = Journal(createdAt: "t", hostname: nil, netnsInode: nil)
        let outcome = try applier.apply(plan([.modprobe("nf_log_syslog", purpose: "load")]), journal: &record) { _, _, _ in .yes }
        #expect(outcome.applied == 0)
        #expect(outcome.failure?.hasPrefix("x: applied, but --journal \(journal): cannot write") == true, "\(outcome)")
        #expect(outcome.rolledBack == true)
        #expect(outcome.journalProblem != nil)
        #expect(runner.calls == [["modprobe", "nf_log_syslog"], ["modprobe", "-r", "nf_log_syslog"]])
        #expect(try Journal.load(folder.path + "-gone/journal.json").entries.map(\.state) == [.pending])
    }
}
