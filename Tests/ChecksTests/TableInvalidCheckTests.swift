import DoctorCore
import Testing
@testable import Checks

@Suite struct TableInvalidCheckTests {
    let check = TableInvalidCheck()
    let key = "net.netfilter.nf_conntrack_log_invalid"

    @Test func noInvalidPacketsPass() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "invalid 0 (lifetime total); net.netfilter.nf_conntrack_log_invalid = 0 (off), so no reason is logged")
    }

    @Test func countedAndUnexplainedWarnsOnTotals() {
        var b = SnapshotBuilder()
        b.counter("invalid", 6)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.explanation.contains("6 packets were counted INVALID. Nothing records why"))
        #expect(f.explanation.contains("--sample 10 --only table.invalid"))
        #expect(f.argvs == [nil, ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=255"], nil])
        #expect(f.undos[1] == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=0"])
    }

    @Test func risingAndUnexplainedIsAnError() {
        var b = SnapshotBuilder()
        b.sample(seconds: 10, ["invalid": 50])
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .error)
        #expect(f.explanation.contains("50 packets were counted INVALID in the last 10 s"))
    }

    @Test func loggedWithABoundLoggerPasses() {
        var b = SnapshotBuilder()
        b.set(key, "255")
        b.sample(seconds: 10, ["invalid": 50])
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("nf_ct_proto_"))
    }

    @Test func loggingWithoutALoggerIsNotAnExplanation() {
        var b = SnapshotBuilder()
        b.set(key, "6")
        b.bind(pf: 2, nil)
        b.counter("invalid", 3)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.contains("net.netfilter.nf_log.2 = NONE"))
        // Logging is already asked for: the fix is the binding, not the setting.
        #expect(f.argvs == [nil, nil])
    }

    @Test func icmpOnlyIsNotAnExplanation() {
        var b = SnapshotBuilder()
        b.set(key, "1")
        b.counter("invalid", 3)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.contains("logs ICMP only"))
        #expect(f.undos[1] == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=1"])
    }

    @Test func quietSampleAfterOldInvalidPasses() {
        var b = SnapshotBuilder()
        b.counter("invalid", 99)
        b.sample(seconds: 10, [:])
        #expect(check.evaluate(b.snapshot).status == .pass)
    }
}
