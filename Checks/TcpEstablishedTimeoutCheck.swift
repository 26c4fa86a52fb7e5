import DoctorCore

public struct TcpEstablishedTimeoutCheck: Check {
    public let info = CheckInfo(
        id: "timeouts.tcp-established",
        title: "The ESTABLISHED timeout suits the table",
        weight: 8,
        rationale: """
            net.netfilter.nf_conntrack_tcp_timeout_established (default 432000 s, 5 days) is how long an idle \
            established TCP connection keeps its entry. Peers that vanish without FIN or RST leave entries for \
            days, and a busy table fills with them until new connections are dropped ("table full, dropping \
            packet"); kube-proxy lowers it to 86400 s for that reason. Too short is the opposite failure: idle \
            long-lived connections (database pools, SSH) lose their entry and are dropped by NAT and stateful \
            rules unless keepalives are shorter. The check weighs the timeout against how full the table is \
            (ctnetlink's count, else nf_conntrack_count) and, with `--deep`, against the share of ESTABLISHED \
            entries in the dumped table: when they are a minority, the timeout is not what fills it.
            """,
        references: [
            References.conntrackSysctls,
            "https://github.com/kubernetes/kubernetes/issues/71358",
        ])

    public init() {}

    static let key = SysctlKey.tcpTimeoutEstablished
    /// With a table dump, ESTABLISHED entries below this share of it do not make the timeout the culprit.
    static let establishedShare = 0.5
    /// What kube-proxy sets: one day.
    static let suggested = 86400
    /// Linux's default TCP keepalive time (net.ipv4.tcp_keepalive_time).
    static let keepaliveTime = 7200

    enum Fill {
        case known(count: Int, max: Int)
        case unknown(String)

        var ratio: Double? {
            if case .known(let count, let max) = self { return Double(count) / Double(max) }
            return nil
        }
    }

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.sysctl(Self.key)
        guard let timeout = reading.value else { return info.unreadable(reading) }
        let fill = fill(snapshot)
        let states = States(snapshot)
        var evidence = [Source.sysctl(Self.key, snapshot)] + (TableFill.read(snapshot).value?.evidence(snapshot) ?? [])
        if let states { evidence.append(states.evidence) }
        let observed = "\(Self.key) = \(Wording.seconds(timeout)); " + describe(fill) + (states.map { "; " + $0.text } ?? "")

        if timeout > Self.suggested, let ratio = fill.ratio, ratio >= 0.75, let states, states.incomplete == nil,
           states.share < Self.establishedShare {
            return info.pass(
                observed: observed,
                expected: "at most \(Wording.seconds(Self.suggested)) while the table is this full and ESTABLISHED entries fill it",
                explanation: """
                    The table is \(Wording.percent(ratio)) full, but ESTABLISHED entries are only \
                    \(Wording.percent(states.share)) of it, so shortening their timeout would not make room: other \
                    states or protocols fill it (see table.usage and `ctdoctor top`).
                    """,
                evidence: evidence)
        }
        if timeout > Self.suggested, let ratio = fill.ratio, ratio >= 0.75 {
            return info.fail(
                ratio >= 0.95 ? .error : .warning,
                observed: observed,
                expected: "at most \(Wording.seconds(Self.suggested)) while the table is this full (below 75%)",
                explanation: """
                    Idle ESTABLISHED entries stay \(Wording.seconds(timeout)) after their last packet, and the \
                    table is \(Wording.percent(ratio)) full. Peers that disappear without FIN or RST (upstream \
                    NAT timeouts, crashed or mobile clients) keep their entries that long, and ASSURED \
                    established entries are never evicted early, so once nf_conntrack_max is reached new \
                    connections are dropped ("table full, dropping packet"). The count is this namespace's; \
                    nf_conntrack_max is the global limit each namespace may fill. \(states?.explanation ?? """
                        `ctdoctor check --deep` dumps the table and tells how much of it idle ESTABLISHED entries take.
                        """)
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Expire idle established connections after a day.",
                    steps: [
                        .sysctl(
                            Self.key, String(Self.suggested), previous: String(timeout),
                            purpose: """
                                Expire idle ESTABLISHED entries after one day, the value kube-proxy uses. \
                                Connections idle for longer than a day then need TCP keepalives, or NAT and \
                                stateful rules drop them.
                                """,
                            risk: .disruptive),
                    ]))
        }
        if timeout < Self.keepaliveTime {
            return info.fail(
                .info,
                observed: observed,
                expected: "at least \(Wording.seconds(Self.keepaliveTime)), or keepalives shorter than the timeout",
                explanation: """
                    The ESTABLISHED timeout is shorter than Linux's default TCP keepalive time, \
                    \(Wording.seconds(Self.keepaliveTime)), so an idle long-lived connection (database pool, \
                    SSH, message broker) loses its entry before its first keepalive: its next packet is INVALID \
                    or NEW without SYN and NAT or stateful rules silently drop it, unless the application's \
                    keepalive is shorter than \(Wording.seconds(timeout)).
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Keep idle connections alive, or lengthen the timeout.",
                    steps: [
                        .advice("""
                            Make long-lived idle connections send keepalives more often than every \
                            \(Wording.seconds(timeout)): lower net.ipv4.tcp_keepalive_time or set the \
                            application's keepalive option. Or raise \(Self.key) to at least \(Self.keepaliveTime).
                            """),
                    ]))
        }
        return info.pass(
            observed: observed,
            expected: "between \(Wording.seconds(Self.keepaliveTime)) and \(Wording.seconds(Self.suggested)), or longer while the table stays below 75% full",
            explanation: """
                Idle established connections outlive the default keepalive time, and the timeout is not filling \
                the table. The default of 5 days is fine while the table has room.
                """,
            evidence: evidence)
    }

    private func fill(_ snapshot: HostSnapshot) -> Fill {
        switch TableFill.read(snapshot) {
        case .value(let fill) where fill.max > 0: return .known(count: fill.count, max: fill.max)
        case .value: return .unknown("nf_conntrack_max = 0 means no limit")
        case let other: return .unknown("count or limit \(Wording.reading(other))")
        }
    }

    private func describe(_ fill: Fill) -> String {
        switch fill {
        case .known(let count, let max):
            "table \(Wording.percent(Double(count) / Double(max))) full (\(count) of \(max) entries)"
        case .unknown(let why):
            "table fill unknown (\(why))"
        }
    }

    /// The ESTABLISHED share of a `--deep` table dump.
    struct States {
        let established: Int
        let entries: Int
        /// ESTABLISHED entries idle for more than an hour, when the dump could estimate it.
        let idleOverAnHour: Int?
        /// The idle times are bounded by each entry's age (nf_conntrack_timestamp), not only read off its time left.
        let idleKnown: Bool
        /// Why the dump stopped early, if it did: the share is then of the entries read, and cannot clear the timeout.
        let incomplete: String?

        init?(_ snapshot: HostSnapshot) {
            // A count outside 0…entries (a snapshot file says so) makes no share.
            guard let summary = snapshot.tableSummary.value, summary.entries > 0 else { return nil }
            let count = summary.tcpStates["ESTABLISHED"] ?? 0
            guard (0...summary.entries).contains(count) else { return nil }
            established = count
            entries = summary.entries
            idleOverAnHour = summary.establishedIdle.map { Swift.max(0, $0.total.saturatingSubtract($0.count(atMost: 3600))) }
            idleKnown = summary.establishedIdleBoundedByAge == true
            incomplete = summary.incomplete
        }

        var share: Double { Double(established) / Double(entries) }

        /// "ESTABLISHED 1200 of 250000 dumped entries (0%), 900 idle for over an hour".
        var text: String {
            "ESTABLISHED \(established) of \(entries) dumped entries (\(Wording.percent(share)))"
                + (incomplete == nil ? "" : " (the dump stopped early, so only those entries were seen)")
                + (idleOverAnHour.map { idleKnown ? ", \($0) idle for over an hour" : ", \($0) idle for over an hour if they run on this timeout"
                    + " (nf_conntrack_timestamp is off, so an entry given a shorter timeout of its own looks idle when it is not)" } ?? "")
        }

        var explanation: String {
            "The table dump shows \(text): those are the entries a shorter timeout would free."
        }

        var evidence: Evidence { Evidence(SourcePath.tableDump, text + (incomplete.map { ": \($0)" } ?? "")) }
    }
}
