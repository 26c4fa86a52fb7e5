import ArgumentParser
import Checks
import DoctorCore
import DoctorHost
import Foundation
import Watch
import WatchHost

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Conntrack live: statistics as rates, events and kernel log lines, every interval.",
        discussion: """
            Every interval: entries and fill, expectations, the per-CPU counters as rates (summed, and the CPU \
            that took most of one), conntrack events per second with the top flows, new conntrack lines of the \
            kernel log, and the checks whose thresholds the rates cross. On a terminal the screen is redrawn in \
            place and Ctrl-C prints a summary; otherwise one line per interval. --format json writes one \
            ctdoctor.watch/1 object per line. Without root it shows what it can (counters from \
            /proc/net/stat/nf_conntrack) and says what it cannot. Exits 0.
            """)

    @Option(name: .long, help: ArgumentHelp("Seconds between readings (0.1-3600).", valueName: "seconds"))
    var interval = 1.0

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds (default: at Ctrl-C).", valueName: "seconds"))
    var duration: Double?

    @Option(name: .long, help: ArgumentHelp(
        "Watch another network namespace: a name under /run/netns, or a process id. Needs CAP_SYS_ADMIN for setns.",
        valueName: "name|pid"))
    var netns: String?

    @Option(name: .long, help: "Output format.")
    var format: OutputFormat = .text

    @Flag(name: .long, help: "No colour (also when NO_COLOR is set or the output is not a terminal).")
    var noColor = false

    func validate() throws {
        guard interval.isFinite, (0.1...3600).contains(interval) else {
            throw ValidationError("--interval must be between 0.1 and 3600 seconds, got \(interval)")
        }
        if let duration, !(duration.isFinite && duration > 0) {
            throw ValidationError("--duration must be a positive number of seconds, got \(duration)")
        }
    }

    func run() throws {
        let source = try HostSource.open(root: nil, sos: nil, netns: netns)
        let context = ProbeContext(
            host: source.host, runner: source.runner, toolVersion: CTDoctorVersion.current, now: Clock.nowISO8601())
        var base = SnapshotTaker.take(context)
        if let found = source.namespace?.found { base.host.netns.found = found }
        let session = WatchSession(host: source.host, base: base, catalog: Catalog.all, now: Clock.nowISO8601)
        let terminal = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        let mode: WatchPresenter.Mode = format == .json ? .json : terminal ? .screen : .lines
        let colour = Palette.decide(noColorFlag: noColor, isTerminal: terminal, environment: ProcessInfo.processInfo.environment)
        let text = WatchText(palette: Palette(enabled: colour), header: WatchText.header(base.host.netns))
        var presenter = WatchPresenter(mode: mode, text: text, interval: interval)
        Self.write(presenter.start(notes: session.notes))
        let summary = session.run(interval: interval, duration: duration) { Self.write(presenter.render($0)) }
        Self.write(presenter.finish(summary))
    }

    /// Straight to the descriptor: each interval is out as soon as it is written (`| jq` sees it at once).
    static func write(_ text: String) {
        guard !text.isEmpty else { return }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
