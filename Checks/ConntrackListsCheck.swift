import DoctorCore

public struct ConntrackListsCheck: Check {
    public let info = CheckInfo(
        id: "lists.unconfirmed-dying",
        title: "No entries linger on the unconfirmed and dying lists",
        weight: 4,
        rationale: """
            A new entry waits on the unconfirmed list until its first packet has passed the stack, a deleted one on \
            the dying list until its last reference is gone: microseconds, normally. Before 5.19 entries lingering \
            there meant packets held in a queue (NFQUEUE without a verdict) or leaked references. Since 5.19 the \
            unconfirmed list no longer exists (its dump is always empty, so that half does not apply) and the dying \
            dump shows only entries whose destroy event waits for a ctnetlink listener to read it, so a dying list \
            that stays means an event listener (conntrackd, `conntrack -E`, a flow exporter) is not keeping up. \
            The check dumps each list, again a second later when not empty, and counts the entries still there; \
            with `--deep` it also compares the count (GET_STATS) with what the table dump returned.
            """,
        references: [
            References.conntrackSysctls,
            References.conntrackToolsManual,
        ])

    public init() {}

    /// 8a75a2c17410 "netfilter: conntrack: remove unconfirmed list" and 1397af5bfd7d "remove the percpu dying list".
    static let listsReworkedIn = KernelVersion(5, 19)

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.ctnetlink.lists
        guard let lists = reading.value else { return info.unreadable(reading, what: "a dump of the unconfirmed and dying lists") }
        let version = snapshot.host.kernelVersion
        let reworked = version.map { $0 >= Self.listsReworkedIn }
        let after = "after \(Wording.seconds(lists.resampleSeconds))"
        var evidence = [
            Evidence("ctnetlink IPCTNL_MSG_CT_GET_UNCONFIRMED", Self.describe(lists.unconfirmed, after)),
            Evidence("ctnetlink IPCTNL_MSG_CT_GET_DYING", Self.describe(lists.dying, after)),
        ]
        evidence += gapEvidence(snapshot)
        let kernel = version.map { "Linux \($0)" } ?? "a kernel of unknown version"
        let unconfirmedText = reworked == true
            ? "unconfirmed: not applicable on \(kernel) (no such list since 5.19)"
            : "unconfirmed: \(Self.describe(lists.unconfirmed, after))"
        let observed = "\(unconfirmedText); dying: \(Self.describe(lists.dying, after))"
        let expected = "no entry still listed a second later"
        let dying = lists.dying.stillListed ?? 0
        let unconfirmed = reworked == true ? 0 : (lists.unconfirmed.stillListed ?? 0)

        if reworked != false, dying > 0 {
            return info.fail(
                .warning, observed: observed, expected: expected,
                explanation: """
                    \(dying) entries were still on the dying list \(after). On \(kernel) that list holds only \
                    entries whose destroy event waits for a ctnetlink event listener to read it: a listener \
                    (conntrackd, `conntrack -E`, a flow exporter) is not keeping up, or its socket buffer overflows. \
                    Until delivered, each entry keeps its memory, and the listener sees events late.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Find the event listener that falls behind.",
                    steps: [
                        .advice("List netlink sockets subscribed to conntrack events: `ss -f netlink -p` (protocol nft, groups other than 0) or /proc/net/netlink (Eth 12)."),
                        .advice("For conntrackd: raise NetlinkBufferSize and NetlinkBufferSizeMaxGrowth, or set NetlinkEventsReliable off. A listener nobody needs should be stopped."),
                    ]))
        }
        if reworked != true, unconfirmed > 0 || dying > 0 {
            return info.fail(
                .warning, observed: observed, expected: expected,
                explanation: """
                    Entries stay on the \(unconfirmed > 0 ? "unconfirmed" : "dying") list \(after) on \(kernel): \
                    unconfirmed ones belong to packets held somewhere (an NFQUEUE program that does not give its \
                    verdict), dying ones to references that are not released. They count toward nf_conntrack_max.
                    """,
                evidence: evidence,
                remediation: Remediation(
                    summary: "Find what holds the entries.",
                    steps: [.advice("Check NFQUEUE consumers (`cat /proc/net/netfilter/nfnetlink_queue`: queue number, waiting packets) and conntrack event listeners; a growing list across runs points at a reference leak.")]))
        }
        return info.pass(
            observed: observed, expected: expected,
            explanation: reworked == true
                ? "Nothing waits on the dying list, so event listeners keep up. The unconfirmed list does not exist since 5.19."
                : "Entries pass through the unconfirmed and dying lists without lingering.",
            evidence: evidence)
    }

    /// With `--deep`: entries GET_STATS counts that the table dump did not return are unconfirmed, dying, or came
    /// and went during the dump.
    private func gapEvidence(_ snapshot: HostSnapshot) -> [Evidence] {
        // A dump that stopped early returned fewer entries than the table holds: the gap would be its own.
        guard let summary = snapshot.tableSummary.value, summary.incomplete == nil, let before = summary.countBefore,
              let after = summary.countAfter else { return [] }
        let gap = Swift.max(0, Swift.min(before, after).saturatingSubtract(summary.entries))
        return [Evidence(
            "GET_STATS around the table dump",
            "counted \(before) before and \(after) after, the dump returned \(summary.entries): \(gap) counted but not in the table (unconfirmed, dying, or changing during the dump)")]
    }

    /// "0", "3, then 2 after 1 s (2 still listed)".
    static func describe(_ sample: ListSample, _ after: String) -> String {
        guard let second = sample.second else { return String(sample.first) }
        return "\(sample.first), then \(second) \(after) (\(sample.stillListed ?? 0) still listed)"
    }
}
