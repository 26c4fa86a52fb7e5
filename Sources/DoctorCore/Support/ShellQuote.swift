import Foundation

/// POSIX shell quoting: words made only of safe characters stay as they are, anything else is
/// single-quoted with embedded single quotes written as '\''. Characters a terminal would act on (controls, bidi
/// overrides: see `Neutralise`) never appear raw: they are produced by `printf` octal escapes in a command
/// substitution, so the printed command both runs as the argument vector says and shows what it holds.
public enum ShellQuote {
    private static let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-")

    public static func quote(_ word: String) -> String {
        if !word.isEmpty, word.allSatisfy({ safe.contains($0) }) { return word }
        guard word.unicodeScalars.contains(where: { Neutralise.isUnsafe($0) }) else { return singleQuoted(word) }
        var out = "", plain = String.UnicodeScalarView(), unsafe: [UInt8] = []
        func flush() {
            if !plain.isEmpty { out += singleQuoted(String(plain)); plain = String.UnicodeScalarView() }
            if !unsafe.isEmpty {
                out += "\"$(printf '" + unsafe.map(octal).joined() + "')\""
                unsafe = []
            }
        }
        for u in word.unicodeScalars {
            if Neutralise.isUnsafe(u) {
                if !plain.isEmpty { flush() }
                unsafe += Array(String(u).utf8)
            } else {
                if !unsafe.isEmpty { flush() }
                plain.append(u)
            }
        }
        flush()
        return out
    }

    /// printf's three-digit octal escape of a byte.
    private static func octal(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 8)
        return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
    }

    private static func singleQuoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    public static func join(_ argv: [String]) -> String {
        argv.map(quote).joined(separator: " ")
    }
}
