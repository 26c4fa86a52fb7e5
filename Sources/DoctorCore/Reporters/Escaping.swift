import Foundation

/// Quoting for the text formats, one place each, so host data (rule comments, hostnames) can never break out.
public enum Escape {
    /// XML 1.0 character data and attribute values. Characters XML 1.0 forbids (most C0 controls) become U+FFFD.
    static func xml(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t": out += "&#9;"
            case "\r": out += "&#13;"
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF { out += "\u{FFFD}" } else { out.unicodeScalars.append(u) }
            }
        }
        return out
    }

    /// A double-quoted JSON string, which is also a valid YAML flow scalar (TAP's diagnostics block).
    static func quoted(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    /// A Prometheus label value: backslash, double quote and line feed escaped, as the text format requires.
    static func promLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A Markdown table cell: one line, pipes, backticks and HTML-ish characters escaped.
    static func markdownCell(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "`", with: "\\`").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .split(whereSeparator: \.isNewline).joined(separator: "<br>")
    }

    /// Markdown inline text outside a table: one line, with the characters that start markup escaped.
    static func markdownText(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\`*_[]<>|#".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// A code fence longer than any run of backticks in `body`.
    static func fence(for body: String) -> String {
        var longest = 0, run = 0
        for c in body {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return String(repeating: "`", count: max(3, longest + 1))
    }
}
