import DoctorCore

public struct CtnetlinkAvailableCheck: Check {
    public let info = CheckInfo(
        id: "ctnetlink.available",
        title: "ctnetlink answers in this namespace",
        weight: 6,
        rationale: """
            ctnetlink (nf_conntrack_netlink) is how `conntrack -L/-E/-S/-C`, conntrackd, kube-proxy's stale-entry \
            cleanup and ctdoctor's own table, list and statistics reads talk to the kernel. The check sends \
            IPCTNL_MSG_CT_GET_STATS and reads the errno: EPERM means not permitted (anyone can open the socket, \
            every request needs CAP_NET_ADMIN in the namespace), EINVAL means nfnetlink has no conntrack \
            subsystem (nf_conntrack_netlink not loaded or not built), EPROTONOSUPPORT means no nfnetlink at all. \
            Without root, `conntrack -C` and `-S` quietly fall back to /proc, which hides that.
            """,
        references: [
            References.conntrackSysctls,
            References.conntrackToolsManual,
        ])

    public init() {}

    static let module = "nf_conntrack_netlink"
    static let request = "IPCTNL_MSG_CT_GET_STATS"

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let facts = snapshot.ctnetlink
        if let count = facts.table.value {
            return info.pass(
                observed: "\(Self.request) answered: \(count.entries) entries in this namespace, nf_conntrack_max = "
                    + (count.max.map(String.init) ?? "(not sent)"),
                expected: "an answer to \(Self.request)",
                explanation: """
                    ctnetlink answers here, so conntrack-tools, conntrackd and ctdoctor's netlink reads (statistics \
                    by attribute, expectations, the unconfirmed and dying lists, `ctdoctor top`) work.
                    """,
                evidence: [Evidence("ctnetlink \(Self.request)", "answered")])
        }
        if let why = facts.withheld {
            return info.skipped(
                "ctnetlink was not asked: \(Self.module) is not loaded",
                explanation: """
                    \(why). ctnetlink is on disk and loads on first use, so tools that need it (conntrack, \
                    conntrackd) still work; ctdoctor did not send the request that would load it, so the \
                    statistics come from /proc and the expectation count, the unconfirmed and dying lists and \
                    `--deep` are not read.
                    """,
                evidence: [Source.module(Self.module, snapshot)],
                remediation: Remediation(
                    summary: "Load nf_conntrack_netlink to let ctdoctor read ctnetlink.",
                    steps: [.advice("Run `modprobe \(Self.module)`, then `ctdoctor check` again.")]))
        }
        guard let failure = facts.failure else { return info.unreadable(facts.table, what: "ctnetlink") }
        let evidence = [Evidence("ctnetlink \(failure.request)", "\(failure.errnoName): \(failure.message)"), Source.module(Self.module, snapshot)]
        switch failure.kind {
        case .permissionDenied:
            return info.skipped(
                "ctnetlink refused the request: \(failure.errnoName) (no CAP_NET_ADMIN in this network namespace)",
                explanation: """
                    \(failure.message). ctnetlink checks CAP_NET_ADMIN on every request, reads included, so it \
                    cannot be judged from here. Without it ctdoctor takes the count from nf_conntrack_count and \
                    the counters from /proc/net/stat/nf_conntrack; the unconfirmed and dying lists, the \
                    expectation count and `--deep` need root.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Run ctdoctor as root to read ctnetlink.",
                    steps: [.advice("Run `sudo ctdoctor check` (or with CAP_NET_ADMIN in this network namespace).")]))
        case .noCtnetlink:
            return missingCtnetlink(failure, evidence: evidence, snapshot)
        case .noNfnetlink:
            return info.fail(
                .warning,
                observed: "socket(AF_NETLINK, NETLINK_NETFILTER) failed: \(failure.errnoName)",
                expected: "nfnetlink and ctnetlink in the kernel",
                explanation: """
                    This kernel has no nfnetlink (CONFIG_NETFILTER_NETLINK), so nothing can talk to conntrack over \
                    netlink: no `conntrack` listing, events or statistics, no conntrackd, and no nftables either.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Use a kernel with nfnetlink and ctnetlink.",
                    steps: [.advice("Boot a kernel built with CONFIG_NETFILTER_NETLINK and CONFIG_NF_CT_NETLINK (=m or =y).")]))
        case .other:
            return info.error("ctnetlink request failed: \(failure.message)", evidence: evidence)
        }
    }

    private func missingCtnetlink(_ failure: CtnetlinkFailure, evidence: [Evidence], _ snapshot: HostSnapshot) -> Finding {
        let status = snapshot.modules.status(Self.module)
        let loadable = status.state == .available
        return info.fail(
            .warning,
            observed: "\(failure.request) failed: \(failure.errnoName); \(Wording.module(Self.module, status))",
            expected: "\(Self.module) loaded or built in, so ctnetlink answers",
            explanation: """
                nfnetlink has no conntrack subsystem here (\(failure.errnoName)): \(Self.module) is not loaded or \
                not built. `conntrack -L/-E/-S`, conntrackd and kube-proxy's cleanup of stale UDP entries fail, and \
                ctdoctor falls back to /proc for counters and cannot read the unconfirmed and dying lists.
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: loadable ? "Load nf_conntrack_netlink." : "Use a kernel with ctnetlink.",
                steps: loadable
                    ? [.modprobe(Self.module, purpose: "Load ctnetlink so conntrack tools and event listeners can reach conntrack.")]
                    : [.advice("\(Self.module) cannot be loaded here (\(status.evidence)): boot a kernel built with CONFIG_NF_CT_NETLINK.")]))
    }
}
