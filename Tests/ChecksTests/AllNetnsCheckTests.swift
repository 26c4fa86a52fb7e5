import DoctorCore
import Testing
@testable import Checks

@Suite struct AllNetnsCheckTests {
    let check = AllNetnsCheck()
    let wantKey = "net.netfilter.nf_conntrack_log_invalid"

    @Test func initialNamespacePasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "nf_log_all_netns = 0 (initial namespace: its own log lines are never suppressed)")
    }

    @Test func initialNamespaceWithOneMentionsChildren() {
        var b = SnapshotBuilder()
        b.set("net.netfilter.nf_log_all_netns", "1")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("nf_log_all_netns = 1"))
        #expect(f.observed.contains("child namespaces' LOG and INVALID lines also reach"))
    }

    @Test func childNamespaceWantingLogsIsSkippedWithHostStep() {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.set(wantKey, "6")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed == "nf_log_all_netns cannot be read from a non-initial network namespace")
        #expect(f.explanation.contains("4.11"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_log_all_netns=1"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_log_all_netns=0"]])
        #expect(f.remediation?.steps.first?.scope == .initialNamespaceOnly)
    }

    @Test func childNamespaceNotLoggingPasses() {
        var b = SnapshotBuilder()
        b.childNamespace()
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("does not matter here"))
    }

    @Test func childNamespaceLoggingThroughNfnetlinkLogPasses() {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.set(wantKey, "255")
        b.bind(pf: 2, "nfnetlink_log")
        b.bind(pf: 10, "nfnetlink_log")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("nfnetlink_log"))
        // One family still on a syslog logger: that one is suppressed.
        b.bind(pf: 10, "nf_log_ipv6")
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }

    @Test func unknownNamespaceWithoutKeyIsSkipped() {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.snapshot.host.netns.initial = nil
        b.set(wantKey, "6")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed.hasPrefix("nf_log_all_netns cannot be read from a non-initial network namespace"))
    }
}
