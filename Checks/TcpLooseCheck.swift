import DoctorCore

public struct TcpLooseCheck: Check {
    public let info = CheckInfo(
        id: "tcp.loose",
        title: "Established TCP connections can be picked up mid-stream",
        weight: 8,
        rationale: """
            With net.netfilter.nf_conntrack_tcp_loose = 1 (the default) conntrack creates an entry for a TCP \
            connection it first sees mid-stream. With 0 it does not: after a table flush (`conntrack -F`), a \
            firewall reload that flushes state, a failover to another node or a module reload, every existing \
            TCP connection becomes INVALID and is dropped by stateful rules. Hardening guides set 0 on purpose, \
            so a failure here is a policy question, not a bug.
            """,
        references: [
            References.conntrackSysctls,
            References.conntrackToolsManual,
        ])

    public init() {}

    static let key = SysctlKey.tcpLoose

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.sysctl(Self.key)
        guard let value = reading.value else { return info.unreadable(reading) }
        let evidence = [Source.sysctl(Self.key, snapshot)]

        guard value == 0 else {
            return info.pass(
                observed: "\(Self.key) = \(value) (mid-stream pickup on)",
                expected: "1 (the default), unless strict pickup is a deliberate policy",
                explanation: """
                    Connections that were already established when conntrack lost its entry (flush, failover, \
                    reload) are picked up again from their next packet instead of being dropped as INVALID.
                    """,
                evidence: evidence)
        }
        return info.fail(
            .warning,
            observed: "\(Self.key) = \(value) (mid-stream pickup off)",
            expected: "1 (the default), unless strict pickup is a deliberate policy",
            explanation: """
                Mid-stream pickup is disabled: conntrack tracks a TCP connection only from its SYN. After a \
                flush (`conntrack -F`), a firewall reload that flushes state, a failover or a module reload, \
                every existing TCP connection becomes INVALID and is dropped by stateful rules, so SSH sessions \
                and NATed flows die. Hardening guides choose 0 deliberately to refuse packets of unknown \
                connections; keep it only if that is the policy and state is synchronised (conntrackd) on failover.
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: "Let conntrack pick up established connections again.",
                steps: [
                    .sysctl(
                        Self.key, "1", previous: String(value),
                        purpose: """
                            Pick up established TCP connections mid-stream. Hardening guides set 0 on purpose; \
                            this is a policy choice, not only a fix.
                            """,
                        risk: .safe),
                ]))
    }
}
