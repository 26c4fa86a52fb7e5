import ArgumentParser
import DoctorCore
import DoctorHost
import Foundation
import Netfilter
import Wizard
import WizardHost

struct WizardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wizard",
        abstract: "Walk through a symptom step by step: trace a port forward, read the kernel's INVALID reasons, and more; every temporary change is put back.",
        discussion: """
            Symptoms: \(Symptom.allCases.map(\.rawValue).joined(separator: ", ")). Without one, a menu on a terminal.
            Keys at each step: r run, s skip, e explain, q quit. Every question has a flag, so a flow can run
            unattended with --yes. Without a terminal and without --yes, the steps are printed and nothing changes.
            Every change (trace table, log_invalid, logger binding, a fix you ran) is journaled before it is made and
            put back at the end, on q, and on Ctrl-C/SIGTERM/SIGHUP; after a kill, `ctdoctor fix --undo JOURNAL`.

            Exit status: 0 done (also a dry run or a quit), 2 usage error or a flag --yes needed, 3 something could
            not be put back (the journal says what), 128+N interrupted by signal N (after putting everything back).
            """)

    @Argument(help: ArgumentHelp("The symptom to start from.", valueName: "symptom"))
    var symptom: String?

    @Option(name: .long, help: "Protocol of the flow: tcp, udp or icmp.") var proto: String?
    @Option(name: .long, help: ArgumentHelp("Source address of the flow.", valueName: "addr")) var src: String?
    @Option(name: .long, help: ArgumentHelp("Destination address the client connects to (before DNAT).", valueName: "addr")) var dst: String?
    @Option(name: .long, help: ArgumentHelp("Destination port the client connects to (before DNAT).", valueName: "port")) var dport: String?
    @Option(name: .long, help: ArgumentHelp("Interface the packets arrive on.", valueName: "name")) var iface: String?
    @Option(name: .long, help: ArgumentHelp("How long to trace or listen.", valueName: "seconds")) var duration: Int = 10
    @Option(name: .long, help: ArgumentHelp("Stop after this many traced packets or INVALID reasons.", valueName: "n")) var packets: Int = 50
    @Flag(name: .long, help: "Take every proposed step without asking (needed without a terminal).") var yes = false
    @Flag(name: .long, help: "Keep the fixes you ran (temporary diagnostics are put back anyway).") var keepFixes = false
    @Option(name: .long, help: ArgumentHelp("Write what was shown and run to this file, as plain text.", valueName: "file")) var transcript: String?
    @Option(name: .long, help: "text, or json: the flow's result as one JSON document on standard output.") var format: OutputFormat = .text
    @Option(name: .long, help: ArgumentHelp("Where the journal goes (default: /var/lib/ctdoctor/journal-….json).", valueName: "file")) var journal: String?
    @Option(name: .long, help: ArgumentHelp("Work in another network namespace: a name under /run/netns or a process id.", valueName: "name|pid")) var netns: String?
    @Flag(name: .long, help: "No colour (also when NO_COLOR is set or the output is not a terminal).") var noColor = false
    /// For tests and measurements: the listeners' first socket receive buffer, so an overrun can be forced.
    @Option(name: .long, help: ArgumentHelp("Initial receive buffer of the trace and log listeners.", valueName: "bytes", visibility: .hidden))
    var listenBuffer: Int?

    func validate() throws {
        if let symptom, Symptom(rawValue: symptom) == nil {
            throw ValidationError("unknown symptom '\(symptom)'; one of \(Symptom.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...3600).contains(duration) else { throw ValidationError("--duration must be between 1 and 3600 seconds") }
        guard (1...100_000).contains(packets) else { throw ValidationError("--packets must be between 1 and 100000") }
        _ = try request()
        // Unattended, nobody can answer the destination question: say so before anything is changed.
        if yes, symptom == Symptom.portForward.rawValue, dst == nil {
            throw ValidationError("port-forward with --yes needs --dst (and usually --dport): there is nobody to ask")
        }
    }

    /// The flags as a request, each value checked the way an answer to the question would be.
    func request() throws -> FlowRequest {
        var r = FlowRequest(duration: duration, packets: packets)
        let given: [(FlowRequest.Field, String?)] = [(.proto, proto), (.source, src), (.destination, dst), (.destinationPort, dport), (.interface, iface)]
        for (field, value) in given {
            guard let value else { continue }
            if let refusal = r.set(field, value) { throw ValidationError("\(field.flag) \(value): \(refusal)") }
        }
        return r
    }

    func run() throws {
        let source = try HostSource.open(root: nil, sos: nil, netns: netns)
        let interactive = !yes && isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 && format == .text
        let request = try request()
        let root: any Card
        if let symptom = symptom.flatMap(Symptom.init(rawValue:)) {
            root = FlowCard(Flows.make(symptom, request))
        } else if interactive {
            root = MenuCard { Flows.make($0, request) }
        } else {
            guard !yes else { throw InputError("wizard --yes: name the symptom (\(Symptom.allCases.map(\.rawValue).joined(separator: ", ")))") }
            print(MenuCard { Flows.make($0, request) }.render(.plain).replacingOccurrences(of: "\n\nChoose: ", with: ""))
            print("\nNo terminal: start a flow with `ctdoctor wizard SYMPTOM` and its flags (--yes to take the steps).")
            return
        }
        let wantsColour = Palette.decide(
            noColorFlag: noColor, isTerminal: isatty(format == .json ? STDERR_FILENO : STDOUT_FILENO) == 1,
            environment: ProcessInfo.processInfo.environment)
        let options = WizardDriver.Options(
            interactive: interactive, takeSteps: yes, palette: Palette(enabled: wantsColour), json: format == .json,
            transcript: transcript, keepFixes: keepFixes)
        let effects = HostEffects(source: source, journalPath: journal)
        if let listenBuffer { effects.listenBuffer = ReceiveBufferPolicy(initialBytes: max(listenBuffer, 1), maximumBytes: 64 << 20) }
        let status = WizardDriver(options: options, effects: effects, terminal: Terminal()).run(root)
        if status != 0 { throw ExitCode(status) }
    }
}
