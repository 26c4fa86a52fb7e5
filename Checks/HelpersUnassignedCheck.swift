import DoctorCore

public struct HelpersUnassignedCheck: Check {
    public let info = CheckInfo(
        id: "helpers.unassigned",
        title: "Helpers the host needs are assigned by a rule",
        weight: 4,
        rationale: """
            Since Linux 6.0 (and since 4.7 wherever net.netfilter.nf_conntrack_helper is 0) a conntrack helper \
            does nothing unless a rule assigns it: `-j CT --helper ftp` in the raw table, or an nft `ct helper` \
            object with `ct helper set`. A kernel that has the FTP helper built in therefore still breaks passive \
            and active FTP through NAT or a stateful firewall ("227 Entering Passive Mode" and then nothing), and \
            SIP through NAT loses its media. The check lists the helpers this kernel has, and reports those that \
            something on the host points at (a rule accepting or forwarding the helper's port, a rule matching on \
            the helper, the helper's module loaded) while no rule assigns them.
            """,
        references: [
            References.conntrackSysctls,
            References.secureHelpers,
        ])

    public init() {}

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let present = HelperServices.present(snapshot)
        guard !present.isEmpty else {
            // Without a module list (no /proc/modules, no lsmod in a sosreport) "none loaded" is not known.
            if snapshot.modules.loadableModules == nil {
                return info.skipped("which conntrack helper modules are loaded is unknown: neither /proc/modules nor lsmod output was read")
            }
            return info.notApplicable("no conntrack helper module is loaded or built in")
        }
        let ruleset = snapshot.ruleset
        if let finding = Rules.unreadable(info, ruleset) { return finding }
        let names = present.flatMap { $0.module.services.map(\.name) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let presentText = "helpers present: " + names.joined(separator: ", ")
        let moduleEvidence = present.map { Source.module($0.module.module, snapshot) }
        if (snapshot.sysctl(HelpersAutoAssignCheck.key).value ?? 0) != 0 {
            return info.pass(
                observed: "\(presentText); \(HelpersAutoAssignCheck.key) = 1 assigns them by port",
                expected: "every helper the host needs assigned by a rule",
                explanation: "Helpers are assigned automatically on this kernel; helpers.auto-assign explains why that is a risk.",
                evidence: moduleEvidence)
        }
        var needed: [(service: ConntrackHelperModule.Service, signals: [String])] = []
        for (module, status) in present {
            for service in module.services where service.port != nil && !HelperServices.isAssigned(service.name, ruleset) {
                let signals = HelperServices.signals(service, status, module: module.module, ruleset)
                if !signals.isEmpty { needed.append((service, signals)) }
            }
        }
        let assigned = names.filter { HelperServices.isAssigned($0, ruleset) }
        let assignedText = assigned.isEmpty ? "none assigned" : "assigned: " + assigned.joined(separator: ", ")
        let evidence = ruleset.helperAssignments.map { Rules.evidence($0.rule) } + moduleEvidence
        guard !needed.isEmpty else {
            return info.pass(
                observed: "\(presentText); \(assignedText); nothing on the host points at "
                    + (assigned.isEmpty ? "them" : "the others"),
                expected: "every helper the host needs assigned by a rule",
                explanation: """
                    No rule lets a helper's port in or forwards it without assigning the helper, no rule matches on \
                    an unassigned helper and no unassigned helper module was loaded. An unassigned helper does \
                    nothing on this kernel: that is fine for services the host does not offer.
                    """,
                evidence: evidence)
        }
        let lines = needed.map { "\($0.service.name) (\($0.service.l4proto) \($0.service.port!)): " + $0.signals.joined(separator: "; ") }
        return info.fail(
            .info,
            observed: "\(presentText); \(assignedText); wanted but not assigned: " + lines.joined(separator: " | "),
            expected: "a `CT --helper` or `ct helper set` rule for every helper the host needs",
            explanation: """
                The host seems to serve or forward a protocol that needs a conntrack helper, yet no rule assigns it, \
                and on this kernel an unassigned helper does nothing: the protocol's secondary connections (FTP \
                data, SIP media) are neither expected nor NATed, so FTP hangs after PASV and SIP loses audio. \
                Assign each helper only on its service's port and interface, and accept RELATED traffic of that \
                helper only.
                """,
            evidence: evidence + needed.flatMap { $0.signals.map { Evidence("ruleset", $0) } },
            remediation: remediation(needed.map(\.service)))
    }

    private func remediation(_ services: [ConntrackHelperModule.Service]) -> Remediation {
        var steps = [Nft.addTable()]
        var objects: [String] = []
        for service in services where !objects.contains(HelperServices.objectName(service)) {
            let object = HelperServices.objectName(service)
            objects.append(object)
            steps.append(RemediationStep(
                purpose: "A ct helper object for the \(service.name) helper over \(service.l4proto).",
                argv: ["nft", "add", "ct", "helper", "inet", Nft.table, object,
                       "{ type \"\(service.name)\" protocol \(service.l4proto); l3proto inet; }"],
                scope: .runtime,
                undo: ["nft", "delete", "ct", "helper", "inet", Nft.table, object]))
        }
        for (hook, chain) in [("prerouting", "helpers-in"), ("output", "helpers-out")] {
            steps.append(Nft.addChain(chain, hook: hook, priority: 0, purpose: "A \(hook) chain after conntrack, where helpers are assigned."))
            for service in services {
                steps.append(Nft.addRule(
                    chain, [service.l4proto, "dport", String(service.port!), "ct", "helper", "set", "\"\(HelperServices.objectName(service))\""],
                    purpose: "Assign the \(service.name) helper to \(service.l4proto) port \(service.port!) "
                        + (hook == "output" ? "connections this host opens." : "connections arriving or forwarded.")))
            }
        }
        steps.append(.advice("""
            Add an interface or address to those rules if only some clients need the helper, and accept only the \
            helper's RELATED traffic, e.g. `ct state related ct helper "ftp" accept` (`-m conntrack --ctstate \
            RELATED -m helper --helper ftp -j ACCEPT`).
            """))
        return Remediation(summary: "Assign the needed helpers explicitly, on their ports, in ctdoctor's nft table.", steps: steps)
    }
}
