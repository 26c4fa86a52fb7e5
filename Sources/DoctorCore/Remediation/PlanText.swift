/// A fix plan as shell text: the `fix` script prints it after its header and the text report prints it as its
/// command block, so both show the same commands in the same order, held back the same way. Pasted into a shell,
/// it runs exactly what `fix --apply` would: held steps are commented out, with why.
public enum PlanText {
    public static func lines(_ plan: FixPlan) -> [String] {
        var out: [String] = []
        var check: String?
        for item in plan.items {
            if item.checkID != check {
                if check != nil { out.append("") }
                out += comment("# ", "\(item.checkID): \(item.why)")
                check = item.checkID
            }
            guard let command = item.step.command else {
                out += comment("#   ", "advice: \(item.step.purpose)")
                continue
            }
            out += comment("#   ", item.step.purpose)
            if let reason = item.held {
                out.append("#   \(note(reason)):")
                out += comment("# ", command)
            } else {
                if command.contains("$") || command.contains("`") {
                    out.append("# shellcheck disable=SC2016 # single quotes keep $ and ` literal on purpose")
                }
                out.append(command)
            }
        }
        return out
    }

    /// Why a step is left out, for a comment above it.
    public static func note(_ reason: FixPlan.Held) -> String {
        switch reason {
        case .disruptive: "DISRUPTIVE, left out; rerun ctdoctor fix with --include-disruptive to include it"
        case .initialNamespaceOnly: "Only from the initial network namespace (on the host), not from this one"
        case .notJudged: "Left out: the check could not judge this host (skipped), so confirm the problem first"
        case .advice: "Advice: nothing to run"
        }
    }

    /// Comment lines: host data (a rule's comment) can hold a line break, and the line after it must not become a
    /// command when the text is pasted into a shell; nor may it reach a terminal raw.
    static func comment(_ prefix: String, _ text: String) -> [String] {
        text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map { prefix + Neutralise.line(String($0)) }
    }
}

extension Report {
    /// One finding's commands as `fix` treats them: runnable ones as they are, held ones commented out with why.
    /// For the formats that list commands per finding (JUnit, TAP, SARIF, Markdown).
    public func commands(for finding: Finding) -> [String] {
        let plan = FixPlan(findings: [finding], includeDisruptive: false, initialNamespace: host.netns.initial)
        return plan.items.compactMap { item in
            guard let command = item.step.command else { return nil }
            guard let reason = item.held else { return command }
            return (["(\(PlanText.note(reason)))"] + PlanText.comment("", command)).map { "# " + $0 }.joined(separator: "\n")
        }
    }
}
