import DoctorCore

public struct HelpersAutoAssignCheck: Check {
    public let info = CheckInfo(
        id: "helpers.auto-assign",
        title: "Conntrack helpers are not assigned automatically",
        weight: 6,
        rationale: """
            With net.netfilter.nf_conntrack_helper = 1 every connection to a helper's well-known port (21 for \
            FTP, 5060 for SIP…) gets that helper, whatever the firewall says: the helper parses untrusted payload \
            and opens RELATED expectations that remote parties can steer, a known way to punch holes in a \
            firewall. The default became 0 in Linux 4.7, and Linux 6.0 removed the switch (and automatic \
            assignment) altogether; helpers should be attached explicitly with `-j CT --helper` or nft \
            `ct helper set`. The check applies only to kernels that still have the sysctl.
            """,
        references: [
            References.conntrackSysctls,
            References.secureHelpers,
        ])

    public init() {}

    static let key = SysctlKey.helper

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let reading = snapshot.sysctl(Self.key)
        guard let value = reading.value else {
            if case .absent(let why) = reading {
                let removed = Self.key.removedIn.flatMap { removed in snapshot.host.kernelVersion.map { $0 >= removed } } ?? false
                return info.notApplicable(removed ? "\(why): helpers are used only when a rule assigns them" : why,
                                          evidence: [Source.sysctl(Self.key, snapshot)])
            }
            return info.unreadable(reading)
        }
        let evidence = [Source.sysctl(Self.key, snapshot)]
        guard value != 0 else {
            return info.pass(
                observed: "\(Self.key) = 0",
                expected: "0: helpers attached only by explicit rules",
                explanation: "Helpers are used only for connections a `CT --helper` or `ct helper set` rule selects.",
                evidence: evidence)
        }
        return info.fail(
            .warning,
            observed: "\(Self.key) = \(value) (automatic helper assignment on)",
            expected: "0: helpers attached only by explicit rules",
            explanation: """
                Every connection to a helper's default port gets the helper, including ones the firewall never \
                meant to open pinholes for: the FTP, SIP or IRC helper parses what remote parties send and creates \
                RELATED expectations from it. The setting is per network namespace. Services that rely on \
                automatic assignment (active FTP, SIP through NAT) need explicit helper rules first, or they stop \
                working: see helpers.unassigned.
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: "Turn automatic helper assignment off; assign helpers with explicit rules.",
                steps: [
                    .advice("First add explicit helper rules for the services that need one (helpers.unassigned proposes them)."),
                    .sysctl(
                        Self.key, "0", previous: String(value),
                        purpose: "Stop assigning helpers by port. Services without an explicit helper rule lose their helper.",
                        risk: .disruptive),
                ]))
    }
}
