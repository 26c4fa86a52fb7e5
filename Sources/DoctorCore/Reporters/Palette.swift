/// ANSI colours, on or off. Decided once by the caller (TTY, NO_COLOR, --no-color), so reporters stay pure.
public struct Palette: Sendable {
    public var enabled: Bool

    public init(enabled: Bool) {
        self.enabled = enabled
    }

    public static let plain = Palette(enabled: false)

    private func paint(_ code: String, _ text: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    public func red(_ s: String) -> String { paint("31", s) }
    public func yellow(_ s: String) -> String { paint("33", s) }
    public func green(_ s: String) -> String { paint("32", s) }
    public func dim(_ s: String) -> String { paint("2", s) }
    public func bold(_ s: String) -> String { paint("1", s) }

    /// Colour on only for a terminal that is not "dumb", and never when NO_COLOR is set (https://no-color.org).
    public static func decide(noColorFlag: Bool, isTerminal: Bool, environment: [String: String]) -> Bool {
        if noColorFlag { return false }
        if let v = environment["NO_COLOR"], !v.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isTerminal
    }
}
