import ArgumentParser
import DoctorCore
import DoctorHost
import Foundation

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Stream the conntrack table once: protocols, states, zones, marks, helpers, top talkers, timeouts.",
        discussion: """
            Reads this network namespace's table over ctnetlink one entry at a time, so memory stays flat whatever \
            the table size. Needs root (CAP_NET_ADMIN). Shows progress on standard error when it is a terminal and \
            the table is large.
            """)

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    @Option(name: .long, help: ArgumentHelp("Write the report to this file (whole or not at all) instead of standard output.", valueName: "file"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Lines in each top list (1-64).", valueName: "n"))
    var limit = 10

    @Flag(name: .long, help: "No colour (also when NO_COLOR is set or the output is not a terminal).")
    var noColor = false

    func validate() throws {
        guard (1...64).contains(limit) else { throw ValidationError("--limit must be between 1 and 64, got \(limit)") }
    }

    func run() throws {
        let context = ProbeContext(
            host: HostRoot("/"), runner: SystemCommandRunner(), toolVersion: CTDoctorVersion.current,
            now: Clock.nowISO8601(), deep: true, dumpProgress: Progress.reporter())
        var snapshot = SnapshotTaker.take(context, probes: [HostIdentityProbe(), SysctlProbe()])
        let timeout = snapshot.sysctl(.tcpTimeoutEstablished).value
        snapshot.tableSummary = TableScan.run(topK: limit, establishedTimeout: timeout, progress: context.dumpProgress)
        Progress.clear()
        guard let summary = snapshot.tableSummary.value else {
            CTDoctorCLI.printError("ctdoctor top: cannot dump the conntrack table: \(snapshot.tableSummary.problem ?? "unknown")")
            throw ExitCode(Gate.Outcome.couldNotRun.rawValue)
        }
        let report = TopReport(snapshot: snapshot, summary: summary)
        let text: String
        switch format {
        case .json: text = try JSONReporter.encode(report)
        case .text:
            text = TableReporter(palette: Palette.forStandardOutput(noColorFlag: noColor || output != nil)).render(report)
        }
        if let output { try OutputFile.write(text, to: output) } else { try StandardOutput.write(text) }
    }
}

/// "dumping the conntrack table: 120000 / 200000 entries" on standard error, rewritten in place; only on a terminal
/// and only for tables large enough to take a noticeable time.
enum Progress {
    static let threshold = 50_000

    static var enabled: Bool { isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }

    static func reporter() -> (@Sendable (Int, Int?) -> Void)? {
        guard enabled else { return nil }
        return { done, total in
            guard let total, total >= threshold else { return }
            write("\rdumping the conntrack table: \(done) / \(total) entries")
        }
    }

    static func clear() {
        if enabled { write("\r\u{1B}[K") }
    }

    private static func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
