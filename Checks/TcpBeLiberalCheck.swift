import DoctorCore

public struct TcpBeLiberalCheck: Check {
    public let info = CheckInfo(
        id: "tcp.be-liberal",
        title: "TCP window tracking is on",
        weight: 6,
        rationale: """
            With net.netfilter.nf_conntrack_tcp_be_liberal = 1 the TCP tracker stops checking sequence and \
            acknowledgement windows: out-of-window segments are accepted and only out-of-window RSTs are \
            marked INVALID. That is a deliberate fix for resets caused by INVALID packets escaping NAT \
            (kube-proxy may set it), but it also hides TCP window problems: the tracker returns before \
            nf_conntrack_log_invalid would log them. The check reports it as information so that whoever \
            chases resets knows the evidence is switched off.
            """,
        references: [
            References.conntrackSysctls,
            References.kubeProxyConnectionReset,
        ])

    public init() {}

    static let key = SysctlKey.tcpBeLiberal

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.sysctl(Self.key)
        guard let value = reading.value else { return info.unreadable(reading) }
        let invalid = Counters.total("invalid", snapshot)
        let evidence = [Source.sysctl(Self.key, snapshot), Source.counter("invalid", snapshot)]

        guard value != 0 else {
            let counted = invalid.value.map { "; invalid = \($0) (lifetime total)" } ?? ""
            return info.pass(
                observed: "\(Self.key) = 0 (TCP window tracking on)\(counted)",
                expected: "0, unless accepting out-of-window segments is a deliberate choice",
                explanation: """
                    The tracker checks every TCP segment against the connection's windows and marks those \
                    outside them INVALID, where nf_conntrack_log_invalid can explain them.
                    """,
                evidence: evidence)
        }
        return info.fail(
            .info,
            observed: "\(Self.key) = \(value) (TCP window tracking off)",
            expected: "0 (window tracking on), unless liberal tracking is a deliberate choice",
            explanation: """
                TCP window tracking is off: out-of-window segments are accepted and only out-of-window RSTs are \
                marked INVALID. TCP window problems are no longer logged by nf_conntrack_log_invalid either, \
                because the tracker accepts the segment before it would log, so if you are chasing connection \
                resets this setting hides the evidence. It may be on purpose: kube-proxy and many guides set it \
                so that out-of-window packets are not treated as INVALID and leak un-NATed, causing resets \
                (the alternative is a rule dropping ct state INVALID).
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: "Turn TCP window tracking back on.",
                steps: [
                    .sysctl(
                        Self.key, "0", previous: String(value),
                        purpose: """
                            Check TCP windows again. Connections that rely on liberal tracking, e.g. behind NAT \
                            without a rule dropping ct state INVALID, may start resetting: add that rule first, \
                            or undo this.
                            """,
                        risk: .disruptive),
                ]))
    }
}
