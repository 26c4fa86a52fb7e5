/// Judges a host against a site policy. Pure: a function of the snapshot, the built-in findings, the policy and
/// today's date, so every rule is tested without a host or a clock.
///
/// Policy check ids (stable, derived from what the policy names):
/// - `policy.sysctl.<key>`    one per `sysctls` entry, e.g. `policy.sysctl.net.netfilter.nf_conntrack_max`
/// - `policy.module.<name>`   one per module under `modules.loaded` / `modules.notLoaded`
/// - `policy.require.<id>`    one per `require` entry: passes when check `<id>` passed
/// - `policy.waiver.<id>`     one per waiver: passes while it holds, fails (error) once it has expired
public enum PolicyEvaluator {
    public static func sysctlID(_ key: String) -> String { "policy.sysctl.\(key)" }
    public static func moduleID(_ name: String) -> String { "policy.module.\(name)" }
    public static func requireID(_ check: String) -> String { "policy.require.\(check)" }
    public static func waiverID(_ check: String) -> String { "policy.waiver.\(check)" }

    /// The ids of the expectation checks a policy adds (those a `require`, `severity` or waiver may name).
    public static func checkIDs(sysctls: [Policy.SysctlExpectation], modules: [Policy.ModuleExpectation]) -> [String] {
        sysctls.map { sysctlID($0.key) } + modules.map { moduleID($0.module) }
    }

    /// The built-in findings with the policy applied: its own checks appended, severities overridden, required
    /// checks verified, waivers applied. `today` is "YYYY-MM-DD" (UTC).
    public static func evaluate(_ policy: Policy, snapshot: HostSnapshot, findings builtIn: [Finding], today: String) -> [Finding] {
        var findings = builtIn
        findings += policy.sysctls.map { judge($0, snapshot) }
        findings += policy.modules.map { judge($0, snapshot.modules) }
        findings = findings.map { overrideSeverity($0, policy.severity) }
        findings += policy.require.map { judge($0, findings) }
        return applyWaivers(policy.waivers, to: findings, today: today)
    }

    // MARK: expectations

    static func info(_ id: String, _ title: String, weight: Int, origin: Policy.Origin) -> CheckInfo {
        CheckInfo(id: id, title: title, weight: weight, rationale: "A site expectation from the policy file (\(origin)).")
    }

    /// Every check a policy adds, in report order, as `checks` and `explain` show them.
    public static func checkInfos(_ policy: Policy) -> [CheckInfo] {
        policy.sysctls.map(info) + policy.modules.map(info) + policy.require.map(info) + policy.waivers.map(info)
    }

    /// The kinds of policy check, for `checks` and `explain` without a policy file: (id pattern, what it judges).
    public static let families: [(pattern: String, meaning: String)] = [
        (sysctlID("<key>"), "a `sysctls` entry: the running value of a net.netfilter key equals / is within / is one of what the policy says, or is absent"),
        (moduleID("<name>"), "a `modules.loaded` / `modules.notLoaded` entry: the module is (or is not) loaded or built in"),
        (requireID("<id>"), "a `require` entry: built-in check <id> must pass"),
        (waiverID("<id>"), "a waiver: passes while it holds, fails (error) once it has expired"),
    ]

    static func info(_ e: Policy.SysctlExpectation) -> CheckInfo {
        info(sysctlID(e.key), "\(e.key) \(e.expected) (site policy)", weight: e.weight, origin: e.origin)
    }

    static func info(_ e: Policy.ModuleExpectation) -> CheckInfo {
        info(moduleID(e.module), expectedModuleState(e) + " (site policy)", weight: Policy.defaultWeight, origin: e.origin)
    }

    static func info(_ r: Policy.Requirement) -> CheckInfo {
        info(requireID(r.check), "\(r.check) must pass (site policy)", weight: Policy.defaultWeight, origin: r.origin)
    }

    static func info(_ w: Policy.Waiver) -> CheckInfo {
        info(waiverID(w.check), "waiver for \(w.check) (site policy)", weight: 0, origin: w.origin)
    }

    static func expectedModuleState(_ e: Policy.ModuleExpectation) -> String {
        e.loaded ? "\(e.module) loaded (or built in)" : "\(e.module) not loaded"
    }

    static func judge(_ e: Policy.SysctlExpectation, _ snapshot: HostSnapshot) -> Finding {
        let check = info(e)
        let source = snapshot.sysctls.entry(e.key)?.source ?? SysctlTable.path(of: e.key)
        let why = "The site policy (\(e.origin)) expects \(e.key) \(e.expected)."
        switch snapshot.sysctlText(SysctlKey.named(e.key)) {
        case .absent(let absent):
            let observed = "\(e.key) is not present on this kernel"
            if e.absent == true { return check.pass(observed: observed, expected: e.expected, explanation: why) }
            return check.fail(
                e.severity, observed: observed, expected: e.expected,
                explanation: why + " This kernel has no such key: \(absent).",
                evidence: [Evidence(source, "absent")], remediation: nil)
        case .hidden(let problem): return check.skipped(problem)
        case .error(let problem): return check.error(problem)
        case .value(let value):
            let observed = "\(e.key) = \(value)"
            let evidence = [Evidence(source, value)]
            let problems = violations(e, value, number: SysctlKey.named(e.key).parse(value).value)
            if problems.isEmpty { return check.pass(observed: observed, expected: e.expected, explanation: why, evidence: evidence) }
            return check.fail(
                e.severity, observed: observed, expected: e.expected,
                explanation: why + " It is \(value): " + problems.joined(separator: "; ") + ".",
                evidence: evidence, remediation: remedy(e, previous: value))
        }
    }

    static func violations(_ e: Policy.SysctlExpectation, _ value: String, number: Int?) -> [String] {
        var out: [String] = []
        if e.absent == true { out.append("the key should not exist") }
        if let equals = e.equals, value != equals { out.append("not \(equals)") }
        if e.min != nil || e.max != nil {
            if let n = number {
                if let min = e.min, n < min { out.append("below \(min)") }
                if let max = e.max, n > max { out.append("above \(max)") }
            } else {
                out.append("not a number")
            }
        }
        if let oneOf = e.oneOf, !oneOf.contains(value) { out.append("not one of \(oneOf.joined(separator: ", "))") }
        return out
    }

    /// A value that satisfies the policy, when one follows from it.
    static func remedy(_ e: Policy.SysctlExpectation, previous: String) -> Remediation? {
        let target = e.equals ?? e.oneOf?.first ?? {
            guard let n = SysctlKey.named(e.key).parse(previous).value else { return e.min.map(String.init) ?? e.max.map(String.init) }
            if let min = e.min, n < min { return String(min) }
            if let max = e.max, n > max { return String(max) }
            return nil
        }()
        guard let target, e.absent != true else { return nil }
        let step = RemediationStep.sysctl(e.key, target, previous: previous, purpose: "Set \(e.key) to \(target), as the site policy expects.")
        return Remediation(summary: "Set \(e.key) to \(target).", steps: [step])
    }

    static func judge(_ e: Policy.ModuleExpectation, _ modules: ModuleInventory) -> Finding {
        let expected = expectedModuleState(e)
        let check = info(e)
        let status = modules.status(e.module)
        let observed = "\(e.module): \(status.state.rawValue)"
        let evidence = [Evidence(status.evidence, status.state.rawValue)]
        let why = "The site policy (\(e.origin)) expects \(expected)."
        if status.state == .unknown {
            return check.skipped("cannot tell whether \(e.module) is loaded: \(status.evidence)", evidence: evidence)
        }
        if status.isPresent == e.loaded { return check.pass(observed: observed, expected: expected, explanation: why, evidence: evidence) }
        let remediation: Remediation?
        if e.loaded {
            remediation = Remediation(summary: "Load \(e.module).", steps: [.modprobe(e.module, purpose: "Load \(e.module), as the site policy expects.")])
        } else if status.state == .builtIn {
            remediation = Remediation(summary: "\(e.module) is built into this kernel.", steps: [.advice("\(e.module) is part of the kernel image and cannot be unloaded; a kernel built without it is needed.")])
        } else {
            remediation = Remediation(summary: "Unload \(e.module).", steps: [
                RemediationStep(purpose: "Unload \(e.module), as the site policy expects.", argv: ["modprobe", "-r", e.module],
                                scope: .runtime, risk: .disruptive, undo: ["modprobe", e.module]),
            ])
        }
        return check.fail(e.severity, observed: observed, expected: expected, explanation: why, evidence: evidence, remediation: remediation)
    }

    static func judge(_ r: Policy.Requirement, _ findings: [Finding]) -> Finding {
        let check = info(r)
        let expected = "\(r.check): pass"
        let why = "The site policy (\(r.origin)) requires \(r.check) to pass."
        guard let target = findings.first(where: { $0.id == r.check }) else {
            return check.fail(.error, observed: "\(r.check) did not run", expected: expected, explanation: why, remediation: nil)
        }
        let observed = "\(r.check): \(target.status.rawValue)" + (target.status == .pass ? "" : " (\(target.observed))")
        if target.status == .pass { return check.pass(observed: observed, expected: expected, explanation: why) }
        return check.fail(
            target.severity.map { max($0, .error) } ?? .error, observed: observed, expected: expected,
            explanation: why + " It ended \(target.status.rawValue): \(target.explanation)", remediation: target.remediation)
    }

    // MARK: severity and waivers

    static func overrideSeverity(_ finding: Finding, _ overrides: [Policy.SeverityOverride]) -> Finding {
        guard let o = overrides.last(where: { $0.check == finding.id }), finding.severity != nil else { return finding }
        var f = finding
        if f.severity != o.severity {
            f.explanation += " (Severity \(o.severity.rawValue) set by the site policy, \(o.origin); the check says \(finding.severity!.rawValue).)"
        }
        f.severity = o.severity
        return f
    }

    static func applyWaivers(_ waivers: [Policy.Waiver], to findings: [Finding], today: String) -> [Finding] {
        var out = findings
        for w in waivers {
            let check = info(w)
            let until = w.expires.map { "until \($0)" } ?? "with no expiry"
            let expected = "a waiver that has not expired"
            guard let i = out.firstIndex(where: { $0.id == w.check }) else { continue }
            if w.isExpired(today: today) {
                let expiry = w.expires ?? "?"
                if out[i].status == .fail {
                    out[i].explanation += " The waiver for it (\(w.origin)) expired on \(expiry): \(w.reason)"
                }
                out.append(check.fail(
                    .error, observed: "waiver expired on \(expiry) (\(w.check) is \(out[i].status.rawValue))", expected: expected,
                    explanation: "The waiver for \(w.check) in the site policy (\(w.origin)) expired on \(expiry), so \(w.check) counts again. Its reason was: \(w.reason). Renew it with a new date, or fix the check.",
                    remediation: nil))
                continue
            }
            let holds = out[i].status == .fail
            if holds {
                out[i].status = .waived
                out[i].explanation += " Waived by the site policy (\(w.origin)) \(until): \(w.reason)"
            }
            out.append(check.pass(
                observed: holds ? "\(w.check) waived \(until): \(w.reason)" : "\(w.check) is \(out[i].status.rawValue); the waiver (\(until)) is not needed",
                expected: expected, explanation: "Waiver \(until): \(w.reason)"))
        }
        return out
    }
}
