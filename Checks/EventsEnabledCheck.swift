import DoctorCore

public struct EventsEnabledCheck: Check {
    public let info = CheckInfo(
        id: "events.enabled",
        title: "Conntrack events are delivered",
        weight: 6,
        rationale: """
            net.netfilter.nf_conntrack_events decides whether conntrack reports new, updated and destroyed \
            entries over ctnetlink. With 0, `conntrack -E`, conntrackd (state synchronisation for failover) \
            and flow exporters see nothing, and a diagnosis that watches events is blind. 1 turns events on; \
            2 (Linux 5.19 and later, the default there) turns them on only while a listener is subscribed.
            """,
        references: [
            References.conntrackSysctls,
            References.conntrackToolsManual,
        ])

    public init() {}

    static let key = SysctlKey.events
    /// nf_conntrack_events = 2 (automatic) came with commit 90d1daa45849, merged for 5.19.
    static let automaticSince = KernelVersion(5, 19)

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.sysctl(Self.key)
        guard let value = reading.value else { return info.unreadable(reading) }
        let evidence = [Source.sysctl(Self.key, snapshot)]

        guard value == 0 else {
            let meaning = switch value {
            case 1: "on: every entry can report events"
            case 2: "automatic: on when a ctnetlink listener subscribes; entries created before the first listener report nothing"
            default: "on"
            }
            return info.pass(
                observed: "\(Self.key) = \(value) (\(meaning))",
                expected: "1 or 2 (events on)",
                explanation: "Event listeners such as `conntrack -E` and conntrackd receive new, update and destroy events.",
                evidence: evidence)
        }

        let automatic = snapshot.host.kernelVersion.map { $0 >= Self.automaticSince } ?? false
        let purpose = automatic
            ? "Turn events on in automatic mode (2): the event extension is added only while a listener such as `conntrack -E` or conntrackd is subscribed."
            : "Turn events on (1); the automatic mode 2 exists only from Linux 5.19."
        return info.fail(
            .warning,
            observed: "\(Self.key) = 0 (events off)",
            expected: automatic ? "2 (automatic) or 1 (on)" : "1 (on)",
            explanation: """
                Conntrack events are off in this network namespace: `conntrack -E`, conntrackd and other \
                ctnetlink event listeners see nothing, so failover state synchronisation and any diagnosis that \
                watches new and destroyed entries silently get no data. The setting is per namespace.
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: "Turn conntrack events on.",
                steps: [.sysctl(Self.key, automatic ? "2" : "1", previous: "0", purpose: purpose)]))
    }
}
