import DoctorCore

public struct TableBucketsCheck: Check {
    public let info = CheckInfo(
        id: "table.buckets",
        title: "The hash table is large enough for the limit",
        weight: 6,
        rationale: """
            Every entry is hashed twice (original and reply direction), so a full table averages chains of \
            2 × nf_conntrack_max ÷ nf_conntrack_buckets entries; the kernel's default since 5.15 (max = buckets) \
            gives 2. Long chains cost CPU on every packet, and since 5.15 an insert into a chain longer than about \
            50-80 fails (`chaintoolong`, also counted in insert_failed). Raising max without buckets, or old advice \
            such as hashsize = max ÷ 8, gets there. The check warns above a load factor of 8 and errs above 16, \
            and judges chaintoolong's rise during `--sample`.
            """,
        references: [
            References.conntrackSysctls,
        ])

    public init() {}

    static let warnAbove = 8.0
    static let errorAbove = 16.0

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        // The range of nf_conntrack_buckets starts at 1, so a 0 is an error before it could divide anything.
        let bucketsReading = snapshot.sysctl(.conntrackBuckets)
        guard let buckets = bucketsReading.value else { return info.unreadable(bucketsReading) }
        let fillReading = TableFill.read(snapshot)
        guard let fill = fillReading.value else { return info.unreadable(fillReading) }
        // With no limit the chains grow with the count itself.
        let limit = fill.max > 0 ? fill.max : fill.count
        let load = 2 * Double(limit) / Double(buckets)
        let chain = Counters.reading("chaintoolong", snapshot).value
        let evidence = [Source.sysctl(.conntrackBuckets, snapshot)] + fill.evidence(snapshot)
            + (chain != nil ? Counters.evidence(["chaintoolong"], snapshot) : [])
        let loadText = "load factor at a full table 2 × \(limit) ÷ \(buckets) = \(Self.format(load))"
        let observed = loadText + (chain.map { "; chaintoolong \($0.text)" } ?? "; chaintoolong not counted on this kernel (5.15+)")
        let expected = "a load factor of \(Int(Self.warnAbove)) or less, and chaintoolong not rising"

        if let chain, (chain.delta ?? chain.total) > 0 {
            let now = chain.isSampled
            return info.fail(
                now ? .error : .warning, observed: observed, expected: expected,
                explanation: """
                    \(chain.delta ?? chain.total) inserts were refused because their hash chain was too long\
                    \(now ? " during the sample" : ""). Each refusal drops a packet and counts in insert_failed. \
                    Either the hash table is too small for the entries (\(loadText)) or someone floods one bucket \
                    with crafted tuples.\(now ? "" : " " + Counters.lifetimeNote("chaintoolong", check: info.id, snapshot))
                    """,
                evidence: evidence, remediation: remediation(limit: limit, buckets: buckets, snapshot))
        }
        guard load > Self.warnAbove else {
            return info.pass(
                observed: observed, expected: expected,
                explanation: "A full table averages chains of \(Self.format(load)) entries: lookups stay short.",
                evidence: evidence)
        }
        return info.fail(
            load > Self.errorAbove ? .error : .warning, observed: observed, expected: expected,
            explanation: """
                A full table would average hash chains of \(Self.format(load)) entries: every packet's lookup walks \
                them, and chains beyond about 50 refuse inserts (chaintoolong). nf_conntrack_max was raised \
                without nf_conntrack_buckets.
                """,
            evidence: evidence, remediation: remediation(limit: limit, buckets: buckets, snapshot))
    }

    private func remediation(limit: Int, buckets: Int, _ snapshot: HostSnapshot) -> Remediation {
        // The buckets are an int: never propose more than 2^30 (a limit bounded to 2^32 cannot push it further).
        var target = 1024
        while target < limit, target < TableSizing.largestPowerOfTwo { target *= 2 }
        let here = TableFill.writableHere(.conntrackBuckets, snapshot) == false
            ? " It is read-only in this namespace: run it on the host, in the initial network namespace."
            : ""
        return Remediation(
            summary: "Grow the hash table to \(target) buckets.",
            steps: [
                .sysctl(
                    .conntrackBuckets, String(target), previous: String(buckets),
                    purpose: """
                        Give every entry two slots on average (\(Wording.bytes(target * TableSizing.bucketBytes)) of \
                        buckets). Resizing rehashes every entry under a lock: do it off-peak.\(here)
                        """,
                    scope: .initialNamespaceOnly, risk: .disruptive),
                .advice(
                    "Make it survive a reboot: `options nf_conntrack hashsize=\(target)` in /etc/modprobe.d/nf_conntrack.conf, or nf_conntrack.hashsize=\(target) on the kernel command line when conntrack is built in.",
                    scope: .persistent),
            ])
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() ? Wording.whole(x).map(String.init) ?? "\(x)" : String((x * 10).rounded() / 10)
    }
}
