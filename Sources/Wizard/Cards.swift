import Foundation
import DoctorCore

/// The symptom menu.
public struct MenuCard: Card {
    let makeFlow: @Sendable (Symptom) -> FlowMachine

    public init(makeFlow: @escaping @Sendable (Symptom) -> FlowMachine) { self.makeFlow = makeFlow }

    public func render(_ p: Palette) -> String {
        var lines = [p.bold("What is wrong?"), ""]
        for s in Symptom.allCases {
            lines.append("  \(p.bold("[\(s.key)]")) \(s.words)")
            lines.append("      \(p.dim(s.hint))")
        }
        lines += ["", "  \(p.bold("[q]")) quit", "", "Choose: "]
        return lines.joined(separator: "\n")
    }

    public func accept(_ input: Input) -> Transition {
        let typed: Character
        switch input {
        case .end: return .quit
        case .key(let k): typed = k
        case .line(let text):
            guard let first = text.trimmingWhitespace().first else { return .stay(note: nil) }
            typed = first
        }
        let key = Character(typed.lowercased())
        if key == "q" || key == "\u{1B}" { return .quit }
        guard let symptom = Symptom.allCases.first(where: { $0.key == key }) else {
            return .stay(note: "no symptom on key \(Printable.key(key)); press one of \(Symptom.allCases.map { String($0.key) }.joined(separator: " ")) or q")
        }
        return .replace(FlowCard(makeFlow(symptom)))
    }

    public func unattended(takeSteps: Bool) -> Input { .end }
}

/// The current step of a flow.
public struct FlowCard: Card {
    public let machine: FlowMachine

    public init(_ machine: FlowMachine) { self.machine = machine }

    public var mode: InputMode {
        if case .question = machine.current?.kind { return .line }
        return .key
    }

    public var autoEffect: Effect? {
        if case .auto(let effect) = machine.current?.kind { return effect }
        return nil
    }

    public func render(_ p: Palette) -> String {
        guard let step = machine.current else { return "" }
        if case .question(let field) = step.kind { return p.bold("▸ ") + "\(field.question) [\(field.flag)]: " }
        var lines = [p.bold("▸ \(step.title)")]
        lines += step.lines.map { "  " + $0 }
        switch step.kind {
        case .auto: break
        case .question: break
        case .propose(let effect):
            let changes = effect.changes
            if !changes.isEmpty {
                lines.append("  " + p.yellow("This changes the host (journaled first, put back when the wizard ends):"))
                lines += changes.map { "    " + FixScript.line(for: $0) }
            }
            lines.append("  \(p.bold("[r]"))un  \(p.bold("[s]"))kip  \(p.bold("[e]"))xplain  \(p.bold("[q]"))uit: ")
        case .confirm:
            lines.append("  \(p.bold("[r]")) yes  \(p.bold("[s]")) no  \(p.bold("[e]"))xplain  \(p.bold("[q]"))uit: ")
        case .show:
            lines.append("  \(p.bold("[enter]")) continue  \(p.bold("[e]"))xplain  \(p.bold("[q]"))uit: ")
        }
        return lines.joined(separator: "\n")
    }

    public func accept(_ input: Input) -> Transition {
        guard let step = machine.current else { return .finish(machine.state) }
        var next = machine
        if input == .end { return quitting() }
        if case .question(let field) = step.kind {
            guard case .line(let text) = input else { return .stay(note: nil) }
            if let refusal = next.answer(field, text) { return .stay(note: "\(field.flag): \(refusal)") }
            return moved(next)
        }
        let key: Character
        switch input {
        case .key(let k): key = Character(k.lowercased())
        case .line(let text): key = text.trimmingWhitespace().lowercased().first ?? "\r"
        case .end: return quitting()
        }
        switch (key, step.kind) {
        case ("q", _), ("\u{1B}", _): return quitting()
        case ("e", _), ("?", _): return .push(ExplainCard(title: step.title, text: step.explain))
        case ("r", .propose(let effect)), ("y", .propose(let effect)): return .perform(effect)
        case ("s", .propose), ("n", .propose):
            next.advance("skipped")
            return moved(next)
        case ("r", .confirm(let name)), ("y", .confirm(let name)):
            next.choose(name, true)
            return moved(next)
        case ("s", .confirm(let name)), ("n", .confirm(let name)):
            next.choose(name, false)
            return moved(next)
        case (_, .show) where ["\r", "\n", " ", "r", "c"].contains(key):
            next.advance("shown")
            return moved(next)
        default:
            return .stay(note: "unknown key \(Printable.key(key))")
        }
    }

    public func receive(_ result: EffectResult) -> Transition {
        var next = machine
        if case .failed = result { next.advance("failed", result: result) } else { next.advance("ran", result: result) }
        return moved(next)
    }

    public func unattended(takeSteps: Bool) -> Input {
        switch machine.current?.kind {
        case .question?: return .line("")  // the default; a required field refuses it and the driver stops
        case .show?: return .key("\r")
        case .propose?, .confirm?: return .key(takeSteps ? "r" : "s")
        case .auto?, nil: return .key("\r")
        }
    }

    private func moved(_ next: FlowMachine) -> Transition {
        next.current == nil ? .finish(next.state) : .replace(FlowCard(next))
    }

    private func quitting() -> Transition {
        var next = machine
        next.quit()
        return .finish(next.state)
    }
}

/// A check's or a step's explanation; any key goes back.
public struct ExplainCard: Card {
    public var title: String
    public var text: String

    public func render(_ p: Palette) -> String {
        ([p.bold("Why: \(title)")] + Wrap.lines(text, width: 100).map { "  " + $0 } + ["  [any key] back: "]).joined(separator: "\n")
    }

    public func accept(_ input: Input) -> Transition { .pop }
    public func unattended(takeSteps: Bool) -> Input { .key("\r") }
}

enum Printable {
    static func key(_ c: Character) -> String {
        c.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f } ? "'\(c)'" : "0x" + c.unicodeScalars.map { String($0.value, radix: 16) }.joined()
    }
}

enum Wrap {
    static func lines(_ text: String, width: Int) -> [String] {
        var out: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if !line.isEmpty && line.count + word.count + 1 > width { out.append(line); line = "" }
                line += (line.isEmpty ? "" : " ") + word
            }
            out.append(line)
        }
        return out
    }
}
