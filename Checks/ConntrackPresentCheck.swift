import DoctorCore

public struct ConntrackPresentCheck: Check {
    public let info = CheckInfo(
        id: "conntrack.present",
        title: "Connection tracking is available",
        weight: 15,
        rationale: """
            Every other conntrack check needs nf_conntrack: without it nothing is tracked, NAT and ct state \
            rules cannot work, and there are no counters to judge. The check looks for the \
            net.netfilter.nf_conntrack_max sysctl (present in every namespace once nf_conntrack is loaded or \
            built in), then at the module files and the kernel configuration to tell "not loaded yet" from \
            "this kernel cannot track connections". An empty table is not proof of health: conntrack hooks into \
            a namespace only when a rule, NAT or a ct expression needs it.
            """,
        references: [
            References.conntrackSysctls,
            References.netfilterSysctls,
        ])

    public init() {}

    static let module = "nf_conntrack"
    static let config = "CONFIG_NF_CONNTRACK"

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let entries = snapshot.sysctls.entries
        switch entries {
        case .denied, .failed: return info.unreadable(entries, what: "the listing of /proc/sys/net/netfilter")
        // No /proc/sys/net/netfilter at all means no netfilter sysctls: absent from the kernel, or not collected.
        case .absent, .value: break
        }
        switch snapshot.sysctlText(.conntrackMax) {
        case .value, .error: return active(snapshot)
        case .hidden(let why): return hidden(why, snapshot)
        case .absent: return missing(snapshot)
        }
    }

    private func active(_ snapshot: HostSnapshot) -> Finding {
        let status = snapshot.modules.status(Self.module)
        let max = snapshot.sysctl(.conntrackMax)
        let count = snapshot.sysctl(.conntrackCount)
        var explanation = """
            The nf_conntrack sysctls exist, so connection tracking is loaded or built into this kernel and the \
            other conntrack checks have something to look at.
            """
        if count.value == 0 {
            explanation += """
                 nf_conntrack_count is 0 in this network namespace. Conntrack registers its hooks in a namespace \
                only when a rule, NAT or a ct expression needs it, so an empty table is not proof of health: it \
                may only mean that nothing here asks for tracking.
                """
        }
        return info.pass(
            observed: "nf_conntrack is active: \(Wording.module(Self.module, status)); "
                + "nf_conntrack_max = \(Wording.reading(max)), nf_conntrack_count = \(Wording.reading(count))",
            expected: "nf_conntrack loaded or built in (\(SysctlKey.conntrackMax) present)",
            explanation: explanation,
            evidence: [
                Source.sysctl(.conntrackMax, snapshot), Source.sysctl(.conntrackCount, snapshot),
                Source.module(Self.module, snapshot),
            ])
    }

    /// The kernel tracks connections but its sysctls cannot be seen here: a container hides them, or the
    /// collection lacks them. What shows tracking decides the verdict; without it nothing can be said.
    private func hidden(_ why: String, _ snapshot: HostSnapshot) -> Finding {
        let evidence = [Source.sysctl(.conntrackMax, snapshot), Source.module(Self.module, snapshot)]
        guard let seen = snapshot.conntrackSeen else {
            return info.skipped(why, explanation: """
                Neither the nf_conntrack sysctls nor anything else that shows connection tracking (the module list, \
                a datapath's conntrack statistics) could be read, so whether conntrack is active is unknown. \
                \(why).
                """, evidence: evidence)
        }
        return info.pass(
            observed: "nf_conntrack is active: \(seen); its sysctls are not visible here",
            expected: "nf_conntrack loaded or built in",
            explanation: """
                Connection tracking is active (\(seen)), but its settings cannot be read here: \(why). The checks \
                that need them are skipped rather than judged on values nobody read.
                """,
            evidence: evidence)
    }

    private func missing(_ snapshot: HostSnapshot) -> Finding {
        let status = snapshot.modules.status(Self.module)
        let config = snapshot.kernelConfig.tristate(Self.config)
        let configText = config.map { "\(Self.config)=\($0.rawValue)" }
            ?? "kernel configuration \(Wording.reading(snapshot.kernelConfig.source))"
        let observed = "\(SysctlKey.conntrackMax) is not present; \(Wording.module(Self.module, status)); \(configText)"
        let expected = "nf_conntrack loaded or built in (\(SysctlKey.conntrackMax) present)"
        let evidence = [
            Source.sysctl(.conntrackMax, snapshot), Source.module(Self.module, snapshot),
            Evidence(snapshot.kernelConfig.source.value ?? "kernel configuration", configText),
        ]

        // The module files say more about this kernel than its configuration does, so they decide first.
        switch (status.state, config) {
        case (.available, _), (.unknown, .module):
            return info.fail(
                .warning, observed: observed, expected: expected,
                explanation: """
                    The nf_conntrack module exists but is not loaded, so nothing is tracked in this network \
                    namespace: no NAT, no ct state matching, no conntrack counters or events. On a host without \
                    stateful rules that is fine, because any rule that needs conntrack (ct state, NAT, an nft ct \
                    expression) loads it by itself; but until then ctdoctor's other conntrack checks have nothing \
                    to judge. Loading it by hand creates the sysctls; it still tracks nothing in a namespace until \
                    something there needs it.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Load nf_conntrack so its settings can be checked.",
                    steps: [.modprobe(Self.module, purpose: "Load connection tracking now; rules that need it would load it anyway.")]))
        case (.missing, _), (.unknown, .notSet):
            return info.fail(
                .error, observed: observed, expected: expected,
                explanation: """
                    This kernel has no connection tracking: \(Self.config) is not set and there is no \
                    nf_conntrack module. Stateful rules (ct state), NAT and conntrack tools cannot work here; \
                    rules that use them fail to load. Nothing can be loaded to fix it.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Use a kernel built with connection tracking.",
                    steps: [.advice("The kernel was built without connection tracking: boot a kernel with \(Self.config)=m or =y.")]))
        default:
            return info.fail(
                .warning, observed: observed, expected: expected,
                explanation: """
                    The nf_conntrack sysctls are not present, and neither the module tree nor the kernel \
                    configuration could be read, so ctdoctor cannot tell whether connection tracking is merely \
                    not loaded (any stateful or NAT rule would load it) or missing from this kernel. Until it is \
                    loaded nothing is tracked here and the other conntrack checks have nothing to judge.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Find out whether this kernel has connection tracking.",
                    steps: [.advice("Check for the module (`modinfo nf_conntrack`) or \(Self.config) in the kernel configuration; if it exists, `modprobe nf_conntrack` loads it.")]))
        }
    }
}
