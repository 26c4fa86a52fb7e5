import DoctorCore
import Testing
@testable import Checks

@Suite struct TcpLooseCheckTests {
    let check = TcpLooseCheck()
    let key = "net.netfilter.nf_conntrack_tcp_loose"

    @Test func defaultPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("nf_conntrack_tcp_loose = 1"))
    }

    @Test func strictPickupIsAWarning() {
        var b = SnapshotBuilder()
        b.set(key, "0")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_tcp_loose = 0"))
        #expect(f.explanation.contains("conntrack -F"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_loose=1"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_loose=0"]])
        #expect(f.remediation?.steps.first?.risk == .safe)
        #expect(f.remediation?.steps.first?.purpose.contains("policy") == true)
    }

    @Test func absentAndFailed() {
        var b = SnapshotBuilder()
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.setReading(key, .failed("EIO"))
        #expect(check.evaluate(b.snapshot).status == .error)
    }
}
