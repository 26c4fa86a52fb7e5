import DoctorCore

public struct HelpersBroadCheck: Check {
    public let info = CheckInfo(
        id: "helpers.broad",
        title: "Helper rules are limited to their service's port",
        weight: 6,
        rationale: """
            An explicit helper rule without a port (`-p tcp -j CT --helper ftp`, `meta l4proto tcp ct helper set \
            "ftp"`) hands every connection of that protocol to the helper. The helper then parses payload it was \
            never meant to see, on any port, and lets whoever sends a well-formed command open RELATED pinholes, \
            which is the risk explicit assignment was meant to remove; it also costs CPU on every packet. The check \
            looks at each helper assignment for a destination port condition.
            """,
        references: [
            References.conntrackSysctls,
            References.secureHelpers,
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let ruleset = snapshot.ruleset
        if let finding = Rules.unreadable(info, ruleset) { return finding }
        let assignments = ruleset.helperAssignments
        guard !assignments.isEmpty else {
            if let finding = Rules.notAllCollected(info, ruleset, nothing: "no rule assigning a conntrack helper") { return finding }
            return info.notApplicable("no rule assigns a conntrack helper", evidence: Rules.sources(ruleset))
        }
        let broad = assignments.filter { $0.rule.match.destinationPorts == nil }
        let evidence = assignments.map { Rules.evidence($0.rule) }
        guard !broad.isEmpty else {
            return info.pass(
                observed: "\(assignments.count) helper rule\(assignments.count == 1 ? "" : "s"), each limited to destination ports",
                expected: "every helper rule limited to its service's port (and interface where it can be)",
                explanation: "Each helper sees only connections to the ports its rule names.",
                evidence: evidence)
        }
        return info.fail(
            .warning,
            observed: "\(broad.count) of \(assignments.count) helper rules match no port: "
                + broad.map { "\($0.helper) in \($0.rule.place)" }.joined(separator: "; "),
            expected: "every helper rule limited to its service's port (and interface where it can be)",
            explanation: """
                These rules give the helper every connection of the protocol, on any port: it parses untrusted \
                payload everywhere and lets remote parties open RELATED pinholes through any connection, not only \
                through the service it exists for.
                """,
            evidence: evidence,
            remediation: Remediation(summary: "Limit each helper rule to its service's port.", steps: broad.flatMap(narrow)))
    }

    /// Inserts the rule again with the helper's default port, just before itself, then deletes the broad one.
    private func narrow(_ assignment: HelperRule) -> [RemediationStep] {
        let rule = assignment.rule
        let services = ConntrackHelperModule.known.flatMap(\.services).filter {
            HelperServices.same($0.name, assignment.helper) && $0.port != nil
                && (rule.match.protocols?.contains($0.l4proto) ?? true)
        }
        let advice = RemediationStep.advice(
            "Add the service's destination port to the \(assignment.helper) helper rule in \(rule.place) (\(rule.text)).")
        guard !services.isEmpty else { return [advice] }
        if let command = rule.command, let spec = rule.spec, let position = rule.position, let delete = Iptables.delete(rule),
           let target = spec.firstIndex(of: "-j") {
            let inserts = services.map { service -> RemediationStep in
                var narrowed = Array(spec[..<target])
                if !narrowed.contains("-p") { narrowed += ["-p", service.l4proto] }
                narrowed += ["-m", service.l4proto, "--dport", String(service.port!)] + spec[target...]
                return RemediationStep(
                    purpose: "Assign the \(service.name) helper on \(service.l4proto) port \(service.port!) only.",
                    argv: [command, "-t", rule.table, "-I", rule.chain, String(position)] + narrowed, scope: .runtime,
                    undo: [command, "-t", rule.table, "-D", rule.chain] + narrowed)
            }
            return inserts + [RemediationStep(
                purpose: "Delete the rule that assigned it on every port.", argv: delete, scope: .runtime,
                undo: Iptables.reinsert(rule))]
        }
        guard let handle = rule.handle, let object = assignment.object, !rule.match.isNarrowed,
              [rule.family, rule.table, rule.chain, object].allSatisfy(Nft.isPlainName),
              let delete = Nft.deleteRule(rule) else { return [advice] }
        let inserts = services.map { service in
            RemediationStep(
                purpose: "Assign the \(service.name) helper on \(service.l4proto) port \(service.port!) only.",
                argv: ["nft", "insert", "rule", rule.family, rule.table, rule.chain, "position", String(handle),
                       service.l4proto, "dport", String(service.port!), "ct", "helper", "set", "\"\(object)\""],
                scope: .runtime)
        }
        return inserts + [RemediationStep(purpose: "Delete the rule that assigned it on every port.", argv: delete, scope: .runtime)]
    }
}
