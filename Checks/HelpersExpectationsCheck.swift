import DoctorCore

public struct HelpersExpectationsCheck: Check {
    public let info = CheckInfo(
        id: "helpers.expectations",
        title: "The expectation table has room",
        weight: 6,
        rationale: """
            Helpers announce the secondary connections they see coming (FTP data, SIP media, TFTP transfers) as \
            expectations. Their number is capped by net.netfilter.nf_conntrack_expect_max; once it is reached the \
            kernel logs "nf_conntrack: expectation table full" and drops new expectations, so those secondary \
            connections fail. A table near the cap is also a sign of abuse (helpers reachable from outside) or of \
            SIP and UPnP traffic outgrowing a small router's default. Warning from 75 %, error from 90 %.
            """,
        references: [
            References.conntrackSysctls,
            References.secureHelpers,
        ])

    public init() {}

    static let key = SysctlKey.expectMax
    static let warnAt = 0.75
    static let errorAt = 0.90

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        let maxReading = snapshot.sysctl(Self.key)
        guard let max = maxReading.value else { return info.unreadable(maxReading) }
        let countReading = snapshot.helpers.expectations
        guard let expectations = countReading.value else { return info.unreadable(countReading, what: "the expectation count") }
        // The count is a number of entries; a snapshot claiming a negative one is not judged.
        guard expectations.count >= 0 else { return info.error("\(expectations.source) gave \(expectations.count) expectations, a negative count") }
        let count = expectations.count
        let ratio = max > 0 ? Double(count) / Double(max) : 1
        let observed = "\(count) expectations of \(Self.key) = \(max) (\(Wording.percent(ratio)))"
        let expected = "below \(Wording.percent(Self.warnAt)) of \(Self.key)"
        let evidence = [Evidence(expectations.source, "\(count)"), Source.sysctl(Self.key, snapshot)]
        guard ratio >= Self.warnAt else {
            return info.pass(
                observed: observed, expected: expected,
                explanation: "Helpers have room for the secondary connections they expect.",
                evidence: evidence)
        }
        let writable = snapshot.sysctls.entry(Self.key.name)?.writable ?? true
        return info.fail(
            ratio >= Self.errorAt ? .error : .warning,
            observed: observed, expected: expected,
            explanation: """
                The expectation table is \(Wording.percent(ratio)) full. At \(max) the kernel drops new \
                expectations ("nf_conntrack: expectation table full"), and the FTP data or SIP media connections \
                they stand for fail. Look at who creates them before raising the cap: many expectations from \
                outside hosts mean a helper is reachable where it should not be (see helpers.broad).
                """,
            evidence: evidence,
            remediation: Remediation(
                summary: "Find what fills the expectation table, then raise the cap if the load is legitimate.",
                steps: [
                    .advice("List them with `conntrack -L expect` (helper, addresses and ports) and check they belong to services this host offers."),
                    .sysctl(
                        Self.key, String(Swift.min(max.multipliedReportingOverflow(by: 2).partialValue, Self.key.range.upperBound)), previous: String(max),
                        purpose: "Double the expectation cap. The key is global: it can be written only from the initial network namespace.",
                        scope: writable ? .runtime : .initialNamespaceOnly),
                ]))
    }
}
