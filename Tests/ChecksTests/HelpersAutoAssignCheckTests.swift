import DoctorCore
import Testing
@testable import Checks

@Suite struct HelpersAutoAssignCheckTests {
    let check = HelpersAutoAssignCheck()
    let key = "net.netfilter.nf_conntrack_helper"

    @Test func goneSince60() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed.contains("removed in Linux 6.0"))
    }

    @Test func offPasses() {
        var b = SnapshotBuilder()
        b.kernel("5.10.0-28-amd64")
        b.set(key, "0")
        #expect(check.evaluate(b.snapshot).status == .pass)
    }

    @Test func onFailsAndTurnsItOffAfterExplicitRules() {
        var b = SnapshotBuilder()
        b.kernel("4.19.0-26-amd64")
        b.set(key, "1")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "net.netfilter.nf_conntrack_helper = 1 (automatic helper assignment on)")
        #expect(f.argvs == [nil, ["sysctl", "-w", "net.netfilter.nf_conntrack_helper=0"]])
        #expect(f.undos.last == ["sysctl", "-w", "net.netfilter.nf_conntrack_helper=1"])
        #expect(f.remediation?.steps.last?.risk == .disruptive)
    }

    @Test func deniedIsSkipped() {
        var b = SnapshotBuilder()
        b.setReading(key, .denied("permission denied"))
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }
}
