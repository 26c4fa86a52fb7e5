import DoctorCore
import Testing
@testable import Checks

@Suite struct TableBucketsCheckTests {
    let check = TableBucketsCheck()

    @Test func kernelDefaultPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "load factor at a full table 2 × 262144 ÷ 262144 = 2; chaintoolong 0 (lifetime total)")
    }

    @Test(arguments: [(32768, Severity.warning, "16"), (16384, .error, "32")])
    func smallHashTableFails(buckets: Int, severity: Severity, load: String) throws {
        var b = SnapshotBuilder()
        b.set("net.netfilter.nf_conntrack_buckets", String(buckets))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == severity)
        #expect(f.observed.hasPrefix("load factor at a full table 2 × 262144 ÷ \(buckets) = \(load)"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_buckets=262144"], nil])
        #expect(f.undos.first == ["sysctl", "-w", "net.netfilter.nf_conntrack_buckets=\(buckets)"])
        let step = try #require(f.remediation?.steps.first)
        #expect(step.scope == .initialNamespaceOnly)
        #expect(step.risk == .disruptive)
        #expect(f.remediation?.steps.last?.scope == .persistent)
    }

    @Test func chainTooLongEverIsAWarning() {
        var b = SnapshotBuilder()
        b.counter("chaintoolong", 3)
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .warning)
        #expect(f.explanation.contains("3 inserts were refused"))
    }

    @Test func chainTooLongNowIsAnError() {
        var b = SnapshotBuilder()
        b.sample(seconds: 10, ["chaintoolong": 2])
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .error)
        #expect(f.explanation.contains("during the sample"))
    }

    @Test func oldKernelWithoutTheCounterJudgesTheLoadOnly() throws {
        var b = SnapshotBuilder()
        var stats = try #require(b.snapshot.stats.value)
        stats.counters["chaintoolong"] = nil
        b.snapshot.stats = .value(stats)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("chaintoolong not counted on this kernel"))
    }
}
