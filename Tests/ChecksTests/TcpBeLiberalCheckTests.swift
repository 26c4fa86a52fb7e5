import DoctorCore
import Testing
@testable import Checks

@Suite struct TcpBeLiberalCheckTests {
    let check = TcpBeLiberalCheck()
    let key = "net.netfilter.nf_conntrack_tcp_be_liberal"

    @Test func strictPassesAndShowsTheCounter() {
        var b = SnapshotBuilder()
        b.counter("invalid", 17)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "net.netfilter.nf_conntrack_tcp_be_liberal = 0 (TCP window tracking on); invalid = 17 (lifetime total)")
    }

    @Test func liberalIsInfoWithDisruptiveUndo() {
        var b = SnapshotBuilder()
        b.set(key, "1")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .info)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_tcp_be_liberal = 1"))
        #expect(f.explanation.contains("only out-of-window RSTs"))
        #expect(f.explanation.contains("kube-proxy"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_be_liberal=0"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_conntrack_tcp_be_liberal=1"]])
        #expect(f.remediation?.steps.first?.risk == .disruptive)
        #expect(f.remediation?.steps.first?.scope == .runtime)
    }

    @Test func absentAndDenied() {
        var b = SnapshotBuilder()
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.setReading(key, .denied("permission denied"))
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }
}
