import DoctorKit
import Testing
@testable import Checks

@Suite struct TcpEstablishedTimeoutCheckTests {
    let check = TcpEstablishedTimeoutCheck()
    let key = "net.netfilter.nf_conntrack_tcp_timeout_established"

    @Test func defaultWithRoomPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "net.netfilter.nf_conntrack_tcp_timeout_established = 432000 s (5 days); table 0% full (nf_conntrack_count = 1532, nf_conntrack_max = 262144)")
    }

    @Test(arguments: [(200_000, Severity.warning), (250_000, Severity.error)])
    func longTimeoutOnABusyTableFails(count: Int, severity: Severity) {
        var b = SnapshotBuilder()
        b.set("net.netfilter.nf_conntrack_count", String(count))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == severity)
        #expect(f.observed.contains("= 432000 s (5 days)"))
        #expect(f.observed.contains("nf_conntrack_count = \(count)"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_established=86400"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_established=432000"]])
        #expect(f.remediation?.steps.first?.purpose.contains("kube-proxy") == true)
    }

    @Test func justUnderThreeQuartersPasses() {
        var b = SnapshotBuilder()
        b.set("net.netfilter.nf_conntrack_count", "196607")
        #expect(check.evaluate(b.snapshot).status == .pass)
    }

    @Test func shortTimeoutIsInfoWithAdviceOnly() {
        var b = SnapshotBuilder()
        b.set(key, "3600")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .info)
        #expect(f.observed.contains("= 3600 s (1 hour)"))
        #expect(f.explanation.contains("7200 s (2 hours)"))
        #expect(f.argvs == [nil])
    }

    @Test func unreadableCountStillJudgesTheTimeout() {
        var b = SnapshotBuilder()
        b.setReading("net.netfilter.nf_conntrack_count", .denied("permission denied"))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("table fill unknown"))
        #expect(f.observed.contains("netlink dump"))
        b.set(key, "600")
        #expect(check.evaluate(b.snapshot).severity == .info)
    }

    @Test func unlimitedMaxMeansFillUnknown() {
        var b = SnapshotBuilder()
        b.set("net.netfilter.nf_conntrack_max", "0")
        b.set("net.netfilter.nf_conntrack_count", "900000")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("no limit"))
    }

    @Test func absentIsNotApplicable() {
        var b = SnapshotBuilder()
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }
}
