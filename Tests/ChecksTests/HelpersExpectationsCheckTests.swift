import DoctorCore
import Testing
@testable import Checks

@Suite struct HelpersExpectationsCheckTests {
    let check = HelpersExpectationsCheck()
    let key = "net.netfilter.nf_conntrack_expect_max"

    @Test func roomyTablePasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "3 expectations of net.netfilter.nf_conntrack_expect_max = 4096 (0%)")
    }

    @Test(arguments: [(3071, nil), (3072, Severity.warning), (3686, .warning), (3687, .error), (4096, .error)])
    func thresholds(count: Int, severity: Severity?) {
        var b = SnapshotBuilder()
        b.expectations(count)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == (severity == nil ? .pass : .fail))
        #expect(f.severity == severity)
    }

    @Test func fullTableDoublesTheCapAfterLooking() {
        var b = SnapshotBuilder()
        b.expectations(4000)
        let f = check.evaluate(b.snapshot)
        #expect(f.observed == "4000 expectations of net.netfilter.nf_conntrack_expect_max = 4096 (97%)")
        #expect(f.argvs == [nil, ["sysctl", "-w", "net.netfilter.nf_conntrack_expect_max=8192"]])
        #expect(f.undos.last == ["sysctl", "-w", "net.netfilter.nf_conntrack_expect_max=4096"])
        #expect(f.remediation?.steps.last?.scope == .runtime)
        // In a child namespace the key is read-only: only the host can raise it.
        guard var entries = b.snapshot.sysctls.entries.value else { return }
        entries[key] = SysctlEntry(value: .value("4096"), mode: 0o444)
        b.snapshot.sysctls.entries = .value(entries)
        #expect(check.evaluate(b.snapshot).remediation?.steps.last?.scope == .initialNamespaceOnly)
    }

    @Test func unreadableCount() {
        var b = SnapshotBuilder()
        b.snapshot.helpers.expectations = .denied("/proc/net/nf_conntrack_expect: Permission denied")
        #expect(check.evaluate(b.snapshot).status == .skipped)
        b.snapshot.helpers.expectations = .absent("/proc/net/nf_conntrack_expect: No such file or directory")
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }
}
