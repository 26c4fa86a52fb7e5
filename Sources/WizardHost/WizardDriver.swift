import DoctorCore
import DoctorHost
import Foundation
import Wizard

/// Runs a card stack against the terminal (or unattended), performs the effects, and on every way out — the end,
/// quit, SIGINT/SIGTERM/SIGHUP — restores the terminal and puts back every temporary change.
public final class WizardDriver {
    public struct Options: Sendable {
        /// A person answers at a terminal.
        public var interactive: Bool
        /// --yes: take every proposed step without asking.
        public var takeSteps: Bool
        public var palette: Palette
        /// Human text to standard error, so standard output is the JSON document alone.
        public var json: Bool
        public var transcript: String?
        /// Keep the fixes the person ran (asked at the end on a terminal).
        public var keepFixes: Bool

        public init(interactive: Bool, takeSteps: Bool, palette: Palette, json: Bool, transcript: String?, keepFixes: Bool) {
            self.interactive = interactive
            self.takeSteps = takeSteps
            self.palette = palette
            self.json = json
            self.transcript = transcript
            self.keepFixes = keepFixes
        }

        public var dryRun: Bool { !interactive && !takeSteps }
    }

    let options: Options
    let effects: HostEffects
    let terminal: Terminal
    private var transcript = ""

    public init(options: Options, effects: HostEffects, terminal: Terminal) {
        self.options = options
        self.effects = effects
        self.terminal = terminal
    }

    /// The exit status: 0 done (also a dry run, a quit), 2 a flag was needed, 3 something could not be put back,
    /// 128+N after signal N (everything put back first).
    public func run(_ root: any Card) -> Int32 {
        Signals.install()
        var stack = CardStack(root)
        var status: Int32 = 0
        if options.dryRun {
            say(options.palette.yellow("No terminal and no --yes: showing the steps the wizard would take; nothing is changed."))
        }
        loop: while Signals.pending == 0 {
            switch stack.next {
            case .done:
                break loop
            case .perform(let effect):
                if let top = stack.cards.last, top.autoEffect != nil { say(top.render(options.palette)) }
                if options.dryRun && !effect.changes.isEmpty {
                    stack.deliver(.failed("not run: dry run"))
                    continue
                }
                let result = effects.perform(effect)
                effects.takeNotes().forEach { say("  " + $0) }
                if Signals.pending != 0 { break loop }
                if case .failed(let why) = result { say("  " + options.palette.red("failed: \(Clean.line(why))")) }
                if case .fixed(let fix) = result {
                    fix.applied.forEach { say("  applied and verified: " + Clean.line($0)) }
                    if let failure = fix.failure { say("  " + options.palette.red("failed: \(Clean.line(failure))")) }
                    fix.recheck.keys.sorted().forEach { say("  re-check: \($0): \(fix.recheck[$0] ?? "?") now") }
                }
                stack.deliver(result)
            case .show(let card):
                let shown = card.render(options.palette)
                say(options.interactive ? shown : shown.split(separator: "\n", omittingEmptySubsequences: false)
                    .filter { !$0.contains("uit: ") }.joined(separator: "\n"), newline: !options.interactive)
                let input: Input?
                if options.interactive {
                    input = terminal.read(card.mode)
                    switch input {
                    case .key(let k)?: say(k == "\r" || k == "\n" ? "" : String(k).filter { $0.isLetter || $0.isNumber || $0 == "?" })
                    case .line(let text)?: transcript += Clean.line(text) + "\n"  // the terminal echoed it already
                    default: break
                    }
                } else {
                    input = card.unattended(takeSteps: options.takeSteps)
                    say("  → " + Self.describe(input, card: card, takeSteps: options.takeSteps))
                }
                guard let input else { break loop }
                stack.accept(input)
                if let note = stack.note {
                    say("  " + options.palette.yellow(note))
                    if !options.interactive {
                        say(options.dryRun ? "Stopped here: give the flag above to go further." : "ctdoctor wizard: \(note)")
                        status = options.dryRun ? 0 : 2
                        break loop
                    }
                }
            }
        }
        terminal.restore()
        let signal = Signals.pending
        if signal != 0 { say("\n" + options.palette.yellow("Interrupted (signal \(signal)): putting everything back.")) }
        status = finish(stack.finished, signal: signal) ?? status
        if let path = options.transcript {
            do { try OutputFile.write(transcript, to: path, flag: "--transcript") } catch { FileHandle.standardError.write(Data("ctdoctor: \(error.message)\n".utf8)) }
        }
        return signal != 0 ? 128 + signal : status
    }

    /// Puts back the temporary changes, says what happened, writes the JSON; returns 3 when something stayed.
    private func finish(_ state: FlowState?, signal: Int32) -> Int32? {
        var changes: [FlowReport.Change] = []
        var status: Int32?
        if let log = effects.changes {
            if signal == 0, !effects.fixActions.isEmpty {
                let keep = options.keepFixes || (options.interactive && askKeep())
                if keep { log.keep(effects.fixActions) }
            }
            let restored = log.restore()
            for change in restored.changes { changes.append(.init(what: change.what, state: change.state)) }
            let put = restored.changes.filter { $0.state == "restored" }
            let kept = restored.changes.filter { $0.state == "kept" }
            let stuck = restored.changes.filter { $0.state.hasPrefix("NOT") }
            say("")
            if !put.isEmpty { say("Put back (\(put.count)):"); put.forEach { say("  " + Clean.line($0.what)) } }
            if !kept.isEmpty {
                say(options.palette.bold("Kept, as you chose (\(kept.count)):"))
                kept.forEach { say("  " + Clean.line($0.what)) }
                say("  undo them later with: ctdoctor fix --undo \(ShellQuote.quote(log.journalPath))")
            }
            if !stuck.isEmpty || !restored.allBack {
                say(options.palette.red("NOT put back — see the journal \(log.journalPath):"))
                stuck.forEach { say("  \(Clean.line($0.what)): \(Clean.line($0.state))") }
                status = 3
            }
        } else if !options.dryRun {
            say("\nNothing was changed on this host.")
        }
        if options.json {
            let report = FlowReport(state: state, dryRun: options.dryRun, changes: changes, journal: effects.changes?.journalPath)
            if let text = try? JSONReporter.encode(report) { FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8)) }
        }
        return status
    }

    private func askKeep() -> Bool {
        say(options.palette.bold("Keep the fixes you ran? [y] keep  [n] put them back: "), newline: false)
        guard case .key(let k)? = terminal.read(.key) else { terminal.restore(); return false }
        terminal.restore()
        say(String(k).filter { $0.isLetter })
        return k == "y" || k == "Y"
    }

    static func describe(_ input: Input?, card: any Card, takeSteps: Bool) -> String {
        if let flow = card as? FlowCard, let step = flow.machine.current {
            switch step.kind {
            case .propose, .confirm: return takeSteps ? "run (--yes)" : "not run (no terminal and no --yes)"
            case .question(let field): return "no terminal: the default for \(field.flag), if it has one"
            case .show, .auto: return "continue"
            }
        }
        return input == .end ? "end" : "continue"
    }

    private func say(_ text: String, newline: Bool = true) {
        let line = newline ? text + "\n" : text
        FileHandle(fileDescriptor: options.json ? STDERR_FILENO : STDOUT_FILENO).write(Data(line.utf8))
        transcript += Self.plain(line)
    }

    /// The transcript is plain text: colour sequences removed.
    static func plain(_ text: String) -> String {
        var out = ""
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape { if scalar == "m" { inEscape = false }; continue }
            if scalar == "\u{1B}" { inEscape = true; continue }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
