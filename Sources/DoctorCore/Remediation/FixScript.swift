/// `ctdoctor fix` without `--apply`: a POSIX shell script to read, and run if it looks right.
/// Every command is an argument vector quoted word by word; host data never becomes shell syntax.
public enum FixScript {
    public struct Header: Sendable {
        public var hostname: String
        public var kernel: String
        public var netns: String
        public var time: String

        public init(hostname: String, kernel: String, netns: String, time: String) {
            self.hostname = hostname
            self.kernel = kernel
            self.netns = netns
            self.time = time
        }
    }

    public static func render(_ plan: FixPlan, header: Header, warnings: [String] = []) -> String {
        var out = [
            "#!/bin/sh",
            "# ctdoctor fix: remediation for host \(comment(header.hostname)), kernel \(comment(header.kernel)),",
            "# network namespace \(comment(header.netns)), checked at \(comment(header.time)).",
            "# Review it, then run it as root in that same namespace (e.g. ip netns exec NAME sh fix.sh).",
            "set -eu",
        ]
        for warning in warnings { out.append("# WARNING: \(comment(warning))") }
        if plan.steps.isEmpty && plan.held.isEmpty {
            out.append("# Nothing to fix: no failing check has a remediation.")
        }
        for item in plan.steps {
            out.append("")
            out.append("# \(item.checkID): \(comment(item.why))")
            out.append("# \(comment(item.step.purpose))")
            let command = line(for: item.step)
            if command.contains("$") || command.contains("`") {
                out.append("# shellcheck disable=SC2016 # single quotes keep $ and ` literal on purpose")
            }
            out.append(command)
        }
        for (item, reason) in plan.held {
            out.append("")
            out.append("# \(item.checkID): \(comment(item.why))")
            out.append("# \(comment(item.step.purpose))")
            switch reason {
            case .advice:
                out.append("# (advice: nothing to run)")
            case .disruptive:
                out.append("# DISRUPTIVE, left out; rerun ctdoctor fix with --include-disruptive to include it:")
                out.append(commentedOut(line(for: item.step)))
            case .initialNamespaceOnly:
                out.append("# Only from the initial network namespace (on the host), not from this one:")
                out.append(commentedOut(line(for: item.step)))
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    public static func line(for step: RemediationStep) -> String {
        switch step.action {
        case .sysctl(let key, let value): ShellQuote.join(["sysctl", "-w", "\(key)=\(value)"])
        case .command(let argv): ShellQuote.join(argv)
        case .writeFile(let path, let contents):
            // A quoted here-document copies the text byte for byte; ctdoctor writes the contents itself.
            [ShellQuote.join(["mkdir", "-p", String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])]),
             "cat > \(ShellQuote.quote(path)) <<'CTDOCTOR_EOF'",
             contents + (contents.hasSuffix("\n") ? "" : "\n") + "CTDOCTOR_EOF"].joined(separator: "\n")
        case .controlWrite(let path, let text, _):
            ShellQuote.join(["printf", "%s\\n", text]) + " > " + ShellQuote.quote(path)
        case .advice: "# (advice)"
        }
    }

    static func commentedOut(_ lines: String) -> String {
        lines.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }.joined(separator: "\n")
    }

    /// Text made safe for a comment line: no line breaks that could end the comment.
    static func comment(_ text: String) -> String {
        text.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) }
    }
}
