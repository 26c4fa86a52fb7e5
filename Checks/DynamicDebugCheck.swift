import DoctorCore

public struct DynamicDebugCheck: Check {
    public let info = CheckInfo(
        id: "debug.dynamic-debug",
        title: "No netfilter debug output is left switched on",
        weight: 4,
        rationale: """
            Dynamic debug (/proc/dynamic_debug/control, or dynamic_debug/control under debugfs) switches the \
            kernel's pr_debug lines on and off at run time. Conntrack's core, its protocol trackers and helpers \
            (nf_conntrack_ftp, _sip, _h323, …) have such lines, and switching them on is a standard way to see \
            what a helper or tracker decided. Left on, they flood the kernel log on every packet and cost CPU. \
            Which sites exist depends on the kernel: the TCP tracker's were removed in 5.19 (commit f74360d3440c), \
            and since then nf_conntrack_log_invalid is the tool for TCP window problems. Kernels built without \
            CONFIG_DYNAMIC_DEBUG (many cloud and minimal kernels) have none of this.
            """,
        references: [
            "https://docs.kernel.org/admin-guide/dynamic-debug-howto.html",
            References.conntrackSysctls,
        ])

    public init() {}

    /// One query for every site under a netfilter/ folder: `*` also matches `/`, so it covers net/netfilter,
    /// net/ipv4/netfilter, net/ipv6/netfilter, net/bridge/netfilter and include/net/netfilter.
    static let disableQuery = "file *netfilter/* -p"
    /// The disable command for each control file ctdoctor knows, as fixed text: nothing read from the host goes into a shell.
    /// Control files ctdoctor writes the query to itself; anywhere else it only advises.
    static let knownControls: Set<String> = [SourcePath.dynamicDebugControl, SourcePath.usualDebugfs + "/dynamic_debug/control"]
    static let tcpTracker = "nf_conntrack_proto_tcp.c"
    /// f74360d3440c "netfilter: conntrack: remove pr_debug callsites from tcp tracker".
    static let tcpSitesRemovedIn = KernelVersion(5, 19)

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let dd: DynamicDebug
        switch snapshot.dynamicDebug {
        case .value(let value): dd = value
        case .absent(let why): return unavailable(why, snapshot)
        case let other: return info.unreadable(other, what: "the dynamic debug control file")
        }
        let evidence = [Evidence(dd.control, "\(dd.totalSites) sites, \(netfilterTotal(dd)) of them netfilter's")]
            + dd.modules.filter { $0.name.hasPrefix("nf_conntrack") }.map { Evidence(dd.control, moduleLine($0)) }
        guard !dd.enabled.isEmpty else {
            return info.pass(
                observed: "dynamic debug available (\(dd.control)); no netfilter site enabled; \(conntrackSites(dd))",
                expected: "no netfilter pr_debug site left enabled",
                explanation: "Netfilter's pr_debug lines are all off. \(tcpAdvice(dd, snapshot))",
                evidence: evidence)
        }
        return leftOn(dd, evidence: evidence, snapshot)
    }

    private func unavailable(_ why: String, _ snapshot: HostSnapshot) -> Finding {
        let config = snapshot.kernelConfig
        let reason = switch config.tristate("CONFIG_DYNAMIC_DEBUG") {
        case .notSet?:
            "the kernel is built without dynamic debug (CONFIG_DYNAMIC_DEBUG is not set in \(config.source.value ?? "the kernel configuration"))"
        case .builtIn?:
            "dynamic debug is built in (CONFIG_DYNAMIC_DEBUG=y) but its control file is not visible: mount debugfs (`mount -t debugfs none /sys/kernel/debug`)"
        default:
            "dynamic debug is not available: \(why)"
        }
        return info.notApplicable(
            reason + ". For INVALID packets use nf_conntrack_log_invalid instead (see logging.log-invalid).",
            evidence: [Evidence("dynamic debug control file", why)]
                + (config.source.value.map { [Evidence($0, "CONFIG_DYNAMIC_DEBUG=\(config.options["CONFIG_DYNAMIC_DEBUG"] ?? "(not set)")")] } ?? []))
    }

    private func leftOn(_ dd: DynamicDebug, evidence: [Evidence], _ snapshot: HostSnapshot) -> Finding {
        let modules = dd.modules.filter { $0.enabled > 0 }
        let shown = dd.enabled.prefix(10).map { Evidence(dd.control, $0.controlLine) }
        let outside = dd.enabled.filter { !$0.file.contains("netfilter/") }
        var steps: [RemediationStep] = []
        if Self.knownControls.contains(dd.control) {
            steps.append(RemediationStep(
                purpose: """
                    Switch off every pr_debug site under a netfilter/ folder (the query `\(Self.disableQuery)`). \
                    Dynamic debug is global to the host and this lasts until reboot; a `dyndbg=` or \
                    `nf_conntrack.dyndbg=` kernel parameter would switch them on again at boot.
                    """,
                action: .controlWrite(
                    path: dd.control, text: Self.disableQuery,
                    undoText: dd.enabled.map { "file \($0.file) line \($0.line) +p" }.joined(separator: "; ")),
                scope: .runtime))
        } else {
            steps.append(.advice("""
                Write `\(Self.disableQuery)` to \(dd.control) (for example with `echo '\(Self.disableQuery)' > \
                \(dd.control)` as root).
                """))
        }
        if !outside.isEmpty {
            let names = Set(outside.map(\.module)).sorted()
            steps.append(.advice("""
                Sites outside netfilter/ folders are enabled too (modules \(names.joined(separator: ", "))): write \
                `module <name> -p` to \(dd.control) for each.
                """))
        }
        return info.fail(
            .warning,
            observed: "\(dd.enabled.count) netfilter pr_debug site\(dd.enabled.count == 1 ? "" : "s") enabled: "
                + modules.map { "\($0.name) \($0.enabled) of \($0.total)" }.joined(separator: ", "),
            expected: "no netfilter pr_debug site left enabled",
            explanation: """
                Debug output of \(modules.map(\.name).joined(separator: ", ")) is switched on in \(dd.control). \
                These lines are written for every matching packet, so a busy host floods its kernel log (pushing \
                out the lines that matter, such as "table full") and spends CPU formatting them. Switch them off \
                once the investigation is over. \(tcpAdvice(dd, snapshot))
                """,
            evidence: evidence + shown,
            remediation: Remediation(summary: "Switch netfilter's debug output off.", steps: steps))
    }

    private func netfilterTotal(_ dd: DynamicDebug) -> Int { dd.modules.reduce(0) { $0.saturatingAdd($1.total) } }

    /// "nf_conntrack: 77 sites (0 enabled)".
    private func moduleLine(_ module: DynamicDebugModule) -> String {
        "\(module.name): \(module.total) site\(module.total == 1 ? "" : "s") (\(module.enabled) enabled)"
    }

    /// "conntrack sites: nf_conntrack 77 (TCP tracker 15), nf_conntrack_ftp 19".
    private func conntrackSites(_ dd: DynamicDebug) -> String {
        let conntrack = dd.modules.filter { $0.name.hasPrefix("nf_conntrack") }
        guard !conntrack.isEmpty else { return "no conntrack site on this kernel" }
        let tcp = tcpSites(dd)
        return "conntrack sites: " + conntrack.map { m in
            m.name == "nf_conntrack" ? "\(m.name) \(m.total) (TCP tracker \(tcp))" : "\(m.name) \(m.total)"
        }.joined(separator: ", ")
    }

    private func tcpSites(_ dd: DynamicDebug) -> Int {
        dd.modules.flatMap(\.files).filter { $0.path.hasSuffix(Self.tcpTracker) }.reduce(0) { $0.saturatingAdd($1.total) }
    }

    /// Whether this kernel's TCP tracker still explains itself through pr_debug.
    private func tcpAdvice(_ dd: DynamicDebug, _ snapshot: HostSnapshot) -> String {
        let tcp = tcpSites(dd)
        let old = snapshot.host.kernelVersion.map { $0 < Self.tcpSitesRemovedIn } ?? (tcp > 1)
        if old && tcp > 0 {
            return """
                The TCP tracker still has \(tcp) pr_debug sites here (kernels before 5.19): `file \
                \(Self.tcpTracker) +p` shows its window decisions, at a high cost on a busy host.
                """
        }
        return """
            The TCP tracker has no window-tracking pr_debug sites on this kernel (removed in 5.19): for TCP \
            problems use nf_conntrack_log_invalid, which logs each INVALID packet with its reason.
            """
    }
}
