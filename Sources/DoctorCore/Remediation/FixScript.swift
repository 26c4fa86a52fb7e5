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
        if plan.items.isEmpty {
            out.append("# Nothing to fix: no failing check has a remediation.")
        } else {
            out.append("")
            out += PlanText.lines(plan)
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// A step's command as the script has it (advice has none).
    public static func line(for step: RemediationStep) -> String {
        step.command ?? "# (advice)"
    }

    /// Text made safe for a comment line: no line breaks that could end the comment, nothing a terminal acts on.
    static func comment(_ text: String) -> String {
        Neutralise.line(text.map { $0.isNewline ? " " : $0 }.reduce(into: "") { $0.append($1) })
    }
}
