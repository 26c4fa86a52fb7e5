import DoctorCore
import Testing
@testable import Checks

@Suite struct EventsEnabledCheckTests {
    let check = EventsEnabledCheck()
    let key = "net.netfilter.nf_conntrack_events"

    @Test func automaticPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("nf_conntrack_events = 2 (automatic: on when a ctnetlink listener subscribes"))
    }

    @Test func offIsAWarningAndProposesAutomaticOnNewKernels() {
        var b = SnapshotBuilder()
        b.set(key, "0")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_events = 0"))
        #expect(f.explanation.contains("conntrack -E"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_events=2"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_conntrack_events=0"]])
    }

    @Test(arguments: ["5.4.0-99-generic", "5.18.19"])
    func offOnOlderKernelsProposesOne(release: String) {
        var b = SnapshotBuilder()
        b.kernel(release)
        b.set(key, "0")
        #expect(check.evaluate(b.snapshot).argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_events=1"]])
    }

    @Test func absentIsNotApplicable() {
        var b = SnapshotBuilder()
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }
}
