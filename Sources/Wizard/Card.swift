import Foundation
import DoctorCore

/// What a person (or an unattended run) gives a card.
public enum Input: Sendable, Equatable {
    /// One key press (menus and steps read single keys in raw mode).
    case key(Character)
    /// A typed line (questions).
    case line(String)
    /// No more input: end of file, or the terminal went away.
    case end
}

/// How a card wants its input read.
public enum InputMode: Sendable, Equatable { case key, line }

/// What accepting an input does to the stack. Cards never do I/O: they ask the driver to perform an effect and
/// are handed its result.
public enum Transition: Sendable {
    /// Stay on this card; show `note` (an invalid answer, an unknown key).
    case stay(note: String?)
    case push(any Card)
    case pop
    case replace(any Card)
    /// Ask the driver to carry out `effect`, then hand the result to the top card's `receive`.
    case perform(Effect)
    /// The flow is over: pop this card, and keep its state for the summary and the JSON result.
    case finish(FlowState)
    case quit
}

/// One screen of the wizard: text to show, and what an input does. Pure, so every step is testable without a
/// terminal (the shape of SwiftPM's `swift package learn` cards).
public protocol Card: Sendable {
    var mode: InputMode { get }
    func render(_ palette: Palette) -> String
    func accept(_ input: Input) -> Transition
    /// The result of the effect this card asked for.
    func receive(_ result: EffectResult) -> Transition
    /// The input an unattended run gives this card: `--yes` takes every step, a dry run none.
    func unattended(takeSteps: Bool) -> Input
    /// A read-only effect to perform as soon as the card is on top, without asking.
    var autoEffect: Effect? { get }
}

extension Card {
    public var mode: InputMode { .key }
    public func receive(_ result: EffectResult) -> Transition { .pop }
    public var autoEffect: Effect? { nil }
}

/// The stack of cards, and what the driver has to do next.
public struct CardStack: Sendable {
    public enum Next: Sendable {
        /// Show the top card and read its input.
        case show(any Card)
        case perform(Effect)
        /// The stack is empty, or a card quit.
        case done(quit: Bool)
    }

    public private(set) var cards: [any Card]
    public private(set) var note: String?
    /// The state of the last flow that finished (or was quit).
    public private(set) var finished: FlowState?
    private var pending: Effect?
    private var quit = false

    public init(_ root: any Card) {
        cards = [root]
        pending = root.autoEffect
    }

    public var next: Next {
        if let pending { return .perform(pending) }
        guard !quit, let top = cards.last else { return .done(quit: quit) }
        return .show(top)
    }

    public mutating func accept(_ input: Input) {
        guard let top = cards.last else { return }
        apply(top.accept(input))
    }

    public mutating func deliver(_ result: EffectResult) {
        pending = nil
        guard let top = cards.last else { return }
        apply(top.receive(result))
    }

    public mutating func apply(_ transition: Transition) {
        note = nil
        switch transition {
        case .stay(let text): note = text
        case .push(let card): cards.append(card)
        case .pop: cards.removeLast()
        case .replace(let card):
            cards.removeLast()
            cards.append(card)
        case .perform(let effect): pending = effect
        case .finish(let state):
            finished = state
            cards.removeLast()
            if state.quit { quit = true }
        case .quit: quit = true
        }
        if pending == nil, !quit, let top = cards.last, let effect = top.autoEffect { pending = effect }
    }
}
