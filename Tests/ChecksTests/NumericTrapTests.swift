import DoctorCore
import Testing
@testable import Checks

/// issue 15 item 2: numbers from files, commands and snapshots end as a status `error` with the reason (or are
/// worded as they are), never as a trap. Every test runs the whole catalog on the hostile snapshot, so a trap in
/// any check fails the run, and asserts the finding of the check that reads the value.
@Suite struct NumericTrapTests {
    static let int64Max = "9223372036854775807"
    static let int64Min = "-9223372036854775808"

    func evaluateAll(_ snapshot: HostSnapshot) -> [String: Finding] {
        Dictionary(uniqueKeysWithValues: Catalog.all.map { ($0.info.id, $0.evaluate(snapshot)) })
    }

    @Test(arguments: [int64Max, "9223372036854775808", "2147483648", "-1", "1e308", "nan", "inf"])
    func tcpTimeoutEstablished(text: String) throws {
        var b = SnapshotBuilder()
        b.set(SysctlKey.tcpTimeoutEstablished.name, text)
        let f = try #require(evaluateAll(b.snapshot)["timeouts.tcp-established"])
        #expect(f.status == .error)
        #expect(f.observed.contains("nf_conntrack_tcp_timeout_established"))
        #expect(f.observed.contains(text))
    }

    @Test(arguments: [int64Max, "-1", "2147483648", int64Min])
    func conntrackMax(text: String) throws {
        var b = SnapshotBuilder()
        b.set(SysctlKey.conntrackMax.name, text)
        // Without ctnetlink's own reading, the sysctl is the only source of the limit.
        b.snapshot.ctnetlink.table = .denied("not permitted (test)")
        let findings = evaluateAll(b.snapshot)
        for id in ["table.usage", "table.buckets"] {
            let f = try #require(findings[id])
            #expect(f.status == .error, "\(id): \(f.observed)")
            #expect(f.observed.contains("outside the values the kernel holds"), "\(id)")
            // -1 is not "0 means no limit".
            #expect(!f.observed.contains("no limit"), "\(id)")
        }
        #expect(findings["timeouts.tcp-established"]?.observed.contains("table fill unknown") == true)
    }

    @Test(arguments: [int64Min, int64Max, "-1"])
    func expectMax(text: String) throws {
        var b = SnapshotBuilder()
        b.set(SysctlKey.expectMax.name, text)
        let f = try #require(evaluateAll(b.snapshot)["helpers.expectations"])
        #expect(f.status == .error)
        #expect(f.observed.contains("nf_conntrack_expect_max"))
    }

    @Test func ctnetlinkCountsOutOfRange() throws {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.table = .value(EntryCount(entries: Int.max, max: Int.min))
        let f = try #require(evaluateAll(b.snapshot)["table.usage"])
        #expect(f.status == .error)
        #expect(f.observed.contains("ctnetlink"))
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 1e308, 9.3e18, -5])
    func uptimeAndSampleSpans(seconds: Double) {
        var b = SnapshotBuilder()
        b.snapshot.host.uptimeSeconds = .value(seconds)
        b.counter("invalid", 7)
        b.sample(seconds: seconds, ["invalid": 3, "drop": 2, "insert_failed": 1])
        b.snapshot.ctnetlink.lists = .value(ConntrackLists(
            unconfirmed: ListSample(first: 1, second: 1, stillListed: 1), dying: ListSample(first: Int.max, second: Int.min, stillListed: 2),
            resampleSeconds: seconds))
        let findings = evaluateAll(b.snapshot)
        #expect(findings.count == Catalog.all.count)
        #expect(findings["logging.log-invalid"]?.evidence.contains { $0.source == SourcePath.uptime } == true)
    }

    @Test func resampleSecondsBeyondAnyInt() throws {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.lists = .value(ConntrackLists(
            unconfirmed: ListSample(first: 0), dying: ListSample(first: 3, second: 3, stillListed: 3), resampleSeconds: 9.3e18))
        let f = try #require(evaluateAll(b.snapshot)["lists.unconfirmed-dying"])
        #expect(f.status == .fail)
        #expect(f.observed.contains("after 9.3e+18 s"))
    }

    @Test func hostileTableDumpAndSlab() {
        var b = SnapshotBuilder()
        b.count(250_000)
        b.snapshot.conntrackSlab = .value(SlabCache(name: "nf_conntrack", objectSize: Int.max, activeObjects: 1, totalObjects: 1))
        b.snapshot.tableSummary = .value(TableSummary(
            entries: 5, countBefore: Int.min, countAfter: Int.max, tcpStates: ["ESTABLISHED": Int.max],
            establishedIdle: Histogram(buckets: [
                HistogramBucket(label: "a", upTo: 60, count: Int.max), HistogramBucket(label: "b", upTo: nil, count: Int.max),
            ])))
        let findings = evaluateAll(b.snapshot)
        let usage = findings["table.usage"]
        #expect(usage?.status == .fail)
        #expect(usage?.remediation?.steps.contains { $0.purpose.contains("per-entry memory is unknown") } == true)
    }

    @Test func negativeExpectationCount() throws {
        var b = SnapshotBuilder()
        b.snapshot.helpers.expectations = .value(ExpectationCount(count: Int.min, source: "/proc/net/nf_conntrack_expect"))
        let f = try #require(evaluateAll(b.snapshot)["helpers.expectations"])
        #expect(f.status == .error)
    }

    @Test func hugeRuleCounts() {
        var b = SnapshotBuilder()
        b.snapshot.ruleset.sources = [
            RulesetSource(backend: .iptablesLegacy, origin: "iptables-legacy-save", rules: .value(Int.max)),
            RulesetSource(backend: .iptablesNft, origin: "iptables-nft-save", rules: .value(Int.max)),
            RulesetSource(backend: .nftables, origin: "nft", rules: .value(Int.max)),
        ]
        #expect(evaluateAll(b.snapshot)["rules.backend-mix"]?.status == .fail)
    }
}
