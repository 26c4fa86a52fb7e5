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

    /// Under --all-netns the host's value is known: 0 suppresses this namespace's syslog lines (fail), 1 lets them through.
    @Test(arguments: [("0", CheckStatus.fail), ("1", .pass)])
    func hostValueSharedByAllNetns(value: String, status: CheckStatus) {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.set("net.netfilter.nf_conntrack_log_invalid", "255")
        b.snapshot.initialNamespaceSysctls = ["net.netfilter.nf_log_all_netns": SysctlEntry(
            value: .value(value), source: "/proc/sys/net/netfilter/nf_log_all_netns in the initial namespace (pid 1)")]
        let f = AllNetnsCheck().evaluate(b.snapshot)
        #expect(f.status == status)
        #expect(f.evidence.last == Evidence("/proc/sys/net/netfilter/nf_log_all_netns in the initial namespace (pid 1)", value))
    }

    @Test func sharingTakesTheInitialNamespacesReading() {
        let host = SnapshotBuilder().snapshot
        var child = SnapshotBuilder()
        child.childNamespace()
        let shared = HostSnapshot.sharingInitialNamespaceKeys([child.snapshot, host])
        #expect(shared[0].initialNamespaceSysctls?["net.netfilter.nf_log_all_netns"]?.value == .value("0"))
        #expect(shared[1].initialNamespaceSysctls == nil)
    }
}
