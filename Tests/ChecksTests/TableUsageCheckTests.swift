import DoctorCore
import Testing
@testable import Checks

@Suite struct TableUsageCheckTests {
    let check = TableUsageCheck()

    @Test func roomyTablePasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "1532 of 262144 entries (0%)")
        #expect(f.evidence.first == Evidence("ctnetlink IPCTNL_MSG_CT_GET_STATS", "entries = 1532, max = 262144"))
    }

    @Test(arguments: [(196_608, Severity.warning), (235_930, .error), (256_902, .critical), (262_144, .critical)])
    func thresholds(count: Int, severity: Severity) {
        var b = SnapshotBuilder()
        b.count(count)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == severity)
    }

    @Test func justUnderThreeQuartersPasses() {
        var b = SnapshotBuilder()
        b.count(196_607)
        #expect(check.evaluate(b.snapshot).status == .pass)
    }

    @Test func sizingComesFromThisKernelsBucketsAndSlab() throws {
        var b = SnapshotBuilder()
        b.count(240_000)
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .error)
        #expect(f.argvs == [
            nil,
            ["sysctl", "-w", "net.netfilter.nf_conntrack_max=524288"],
            ["sysctl", "-w", "net.netfilter.nf_conntrack_buckets=524288"],
            nil,
        ])
        #expect(f.undos[1] == ["sysctl", "-w", "net.netfilter.nf_conntrack_max=262144"])
        #expect(f.undos[2] == ["sysctl", "-w", "net.netfilter.nf_conntrack_buckets=262144"])
        let steps = try #require(f.remediation?.steps)
        #expect(steps[1].scope == .initialNamespaceOnly)
        #expect(steps[2].scope == .initialNamespaceOnly)
        #expect(steps[2].risk == .disruptive)
        #expect(steps[3].scope == .persistent)
        #expect(steps[1].purpose.contains("128 MiB (256 bytes per entry, the nf_conntrack slab object size in /proc/slabinfo"))
        #expect(steps[1].purpose.contains("4.0 MiB of hash buckets"))
        #expect(steps[0].purpose.contains("ctdoctor top"))
        #expect(f.explanation.contains("per network namespace"))
        #expect(f.explanation.contains("global limit"))
    }

    @Test func unknownSlabSizeIsSaid() throws {
        var b = SnapshotBuilder()
        b.count(240_000)
        b.snapshot.conntrackSlab = .denied("/proc/slabinfo: Permission denied")
        let purpose = try #require(check.evaluate(b.snapshot).remediation?.steps[1].purpose)
        #expect(purpose.contains("the per-entry memory is unknown (/proc/slabinfo: Permission denied; /proc/slabinfo is readable by root only)"))
    }

    @Test func readOnlyMaxInAChildNamespaceSaysWhereToRunIt() throws {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.count(240_000)
        var entries = try #require(b.snapshot.sysctls.entries.value)
        entries["net.netfilter.nf_conntrack_max"]?.mode = 0o444
        b.snapshot.sysctls.entries = .value(entries)
        let step = try #require(check.evaluate(b.snapshot).remediation?.steps[1])
        #expect(step.scope == .initialNamespaceOnly)
        #expect(step.purpose.contains("read-only in this namespace (mode 0444): run it on the host"))
    }

    @Test func emptyNamespaceIsNotHealthyByDefault() {
        var b = SnapshotBuilder()
        b.count(0)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed.contains("0 entries in this namespace"))
        #expect(f.observed.contains("every namespace may fill on its own"))
    }

    @Test func noLimitIsAWarning() {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink.table = .value(EntryCount(entries: 900_000, max: 0))
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "900000 entries, no limit (nf_conntrack_max = 0)")
    }

    @Test func refusedCtnetlinkFallsBackToTheSysctls() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.permissionDenied, errno: 1, name: "EPERM")
        b.set("net.netfilter.nf_conntrack_count", "250000")
        let f = check.evaluate(b.snapshot)
        #expect(f.severity == .error)
        #expect(f.evidence.first?.source == "/proc/sys/net/netfilter/nf_conntrack_count")
    }

    @Test func sampledGrowthTellsWhenItFills() {
        var b = SnapshotBuilder()
        b.count(200_000)
        b.sample(seconds: 10, [:], countGrowth: 1000)
        let f = check.evaluate(b.snapshot)
        #expect(f.observed == "200000 of 262144 entries (76%), growing by 100/s: full in about 10 minutes 21 seconds")
    }
}
