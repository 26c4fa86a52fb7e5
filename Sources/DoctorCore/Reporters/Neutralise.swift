/// Host text (hostnames, sysctl values, chain names, rule comments, namespace names) made safe for a person's
/// terminal or document: every character that could move the cursor, recolour, retitle or clear the screen, ring the
/// bell, or reorder what is shown is written as a visible `\u{…}` escape instead. The one function every human-facing
/// output goes through (text, markdown, prometheus, tap, top, the fix script's comments, `--apply` progress, stderr).
public enum Neutralise {
    /// `text` with C0 controls (except line feed and tab when `keepLineBreaks`), DEL, C1 controls, the Unicode
    /// bidirectional overrides, embeddings, isolates and marks, and the line and paragraph separators escaped.
    public static func text(_ text: String, keepLineBreaks: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { isUnsafe($0, keepLineBreaks: keepLineBreaks) }) else { return text }
        var out = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            if isUnsafe(u, keepLineBreaks: keepLineBreaks) {
                out.append(contentsOf: "\\u{\(String(u.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(u)
            }
        }
        return String(out)
    }

    /// One line: a line break is escaped too, so host text cannot start a line of its own (a forged report line,
    /// or a command after a comment).
    public static func line(_ text: String) -> String { Self.text(text, keepLineBreaks: false) }

    public static func isUnsafe(_ u: Unicode.Scalar, keepLineBreaks: Bool = true) -> Bool {
        switch u.value {
        case 0x0A, 0x09: return !keepLineBreaks
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true  // bidi marks, embeddings, overrides, isolates
        case 0x2028, 0x2029: return true  // line and paragraph separators
        default: return false
        }
    }
}

extension Report {
    /// The report with every host-derived text neutralised, for the formats people read. Commands (`argv`) are kept
    /// exact: `ShellQuote` writes their unsafe characters as `printf` escapes, so they stay runnable.
    public func neutralised() -> Report {
        var r = self
        r.host.hostname = host.hostname.map(Neutralise.line)
        r.host.kernel = host.kernel.map(Neutralise.line)
        r.host.netns.name = host.netns.name.map(Neutralise.line)
        r.host.netns.found = host.netns.found.map(Neutralise.line)
        r.host.netns.basis = Neutralise.line(host.netns.basis)
        r.host.source = Neutralise.line(host.source)
        r.takenAt = Neutralise.line(takenAt)
        r.findings = findings.map { $0.neutralised() }
        r.unfilled = unfilled?.map { Neutralise.text($0) }
        r.notes = notes?.map { Neutralise.text($0) }
        return r
    }
}

extension Finding {
    public func neutralised() -> Finding {
        var f = self
        f.id = Neutralise.line(id)
        f.title = Neutralise.line(title)
        f.observed = Neutralise.text(observed)
        f.expected = Neutralise.text(expected)
        f.explanation = Neutralise.text(explanation)
        f.evidence = evidence.map { Evidence(Neutralise.line($0.source), Neutralise.text($0.value)) }
        f.references = references.map(Neutralise.line)
        if var rem = remediation {
            rem.summary = Neutralise.text(rem.summary)
            rem.steps = rem.steps.map { step in
                var s = step
                s.purpose = Neutralise.text(step.purpose)
                return s
            }
            f.remediation = rem
        }
        return f
    }
}
