import DoctorCore

public struct TableUsageCheck: Check {
    public let info = CheckInfo(
        id: "table.usage",
        title: "The conntrack table has room",
        weight: 15,
        rationale: """
            When a namespace's entry count reaches nf_conntrack_max, new flows are dropped ("nf_conntrack: table \
            full, dropping packet") once no unassured entry can be evicted, while existing connections carry on: \
            new connections time out at random. Above 95% the garbage collector already evicts unassured entries. \
            The count is per network namespace but nf_conntrack_max is one global value that each namespace may \
            fill, and it can be changed only from the initial namespace. The check warns at 75%, errs at 90% and \
            is critical at 98%, and sizes a bigger table from this kernel's buckets and the measured per-entry \
            memory (the nf_conntrack slab object size).
            """,
        references: [
            References.conntrackSysctls,
            "https://github.com/kubernetes/kubernetes/issues/71261",
        ])

    public init() {}

    /// Fill ratios at which the finding becomes a warning, an error, critical.
    static let thresholds: [(ratio: Double, severity: Severity)] = [(0.98, .critical), (0.90, .error), (0.75, .warning)]

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = TableFill.read(snapshot)
        guard let fill = reading.value else { return info.unreadable(reading, what: "the entry count and limit") }
        let evidence = fill.evidence(snapshot)
        let scope = "nf_conntrack_count is counted per network namespace; nf_conntrack_max is one global limit that every namespace may fill on its own"
        guard let ratio = fill.ratio else {
            return info.fail(
                .warning,
                observed: fill.text, expected: "a limit (nf_conntrack_max > 0)",
                explanation: """
                    nf_conntrack_max = 0 removes the limit: a flood of new flows (a scan, a SYN flood) takes kernel \
                    memory without bound and lengthens every hash chain. \(scope).
                    """,
                evidence: evidence,
                remediation: remediation(fill, snapshot))
        }
        guard fill.count > 0 else {
            return info.notApplicable(
                "0 entries in this namespace: conntrack tracks nothing here, so its fill says nothing. \(scope): check each namespace (`ctdoctor check --all-netns`, or `--netns NAME|PID`).",
                evidence: evidence)
        }
        let observed = fill.text + fill.growthText
        guard let severity = Self.thresholds.first(where: { ratio >= $0.ratio })?.severity else {
            return info.pass(
                observed: observed,
                expected: "below 75% of nf_conntrack_max",
                explanation: "The table has room. \(scope), so other namespaces can be full while this one is not.",
                evidence: evidence)
        }
        let gc = ratio >= 0.95
            ? " At 95% the garbage collector already evicts unassured entries after a table-full event."
            : ""
        return info.fail(
            severity,
            observed: observed,
            expected: "below 75% of nf_conntrack_max",
            explanation: """
                The table of this namespace is \(Wording.percent(ratio)) full. Once it reaches nf_conntrack_max, \
                new flows are dropped ("table full, dropping packet") whenever no unassured entry can be evicted, \
                and new connections time out at random while established ones carry on.\(gc) \(scope).
                """,
            evidence: evidence,
            remediation: remediation(fill, snapshot))
    }

    private func remediation(_ fill: TableFill, _ snapshot: HostSnapshot) -> Remediation {
        let buckets = snapshot.sysctl(.conntrackBuckets).value
        let sizing = TableSizing(fill: fill, buckets: buckets, slab: snapshot.conntrackSlab)
        let here = TableFill.writableHere(.conntrackMax, snapshot) == false
            ? " It is read-only in this namespace (mode 0444): run it on the host, in the initial network namespace."
            : ""
        var steps: [RemediationStep] = [
            .advice("Find what fills the table before growing it: `ctdoctor top` (states, top sources, destinations and ports)."),
            .sysctl(
                .conntrackMax, String(sizing.max), previous: String(fill.max),
                purpose: "Raise the global limit to \(sizing.max): \(sizing.memoryText).\(here)",
                scope: .initialNamespaceOnly),
        ]
        if let buckets, sizing.buckets > buckets {
            steps.append(.sysctl(
                .conntrackBuckets, String(sizing.buckets), previous: String(buckets),
                purpose: """
                    Grow the hash table with it, so a full table still averages chains of two. Resizing rehashes \
                    every entry under a lock: do it off-peak.
                    """,
                scope: .initialNamespaceOnly, risk: .disruptive))
        }
        steps.append(.advice(
            """
            Make it survive a reboot: `net.netfilter.nf_conntrack_max = \(sizing.max)` in \
            /etc/sysctl.d/90-conntrack.conf, and the hash size as `options nf_conntrack hashsize=\(sizing.buckets)` \
            in /etc/modprobe.d/nf_conntrack.conf (or nf_conntrack.hashsize=\(sizing.buckets) on the kernel command \
            line when conntrack is built in). kube-proxy sets nf_conntrack_max when it starts: change its \
            conntrack.maxPerCore / conntrack.min instead.
            """,
            scope: .persistent))
        return Remediation(summary: "Give the table room: \(sizing.max) entries.", steps: steps)
    }
}
