import DoctorCore
import Testing
@testable import Checks

/// table.drops and table.invalid with what the kernel log says.
@Suite struct KernelLogEvidenceTests {
    /// The builder's uptime is 3 days 4 hours = 273 600 s.
    static let uptime = 273_600.0

    func withLog(_ b: inout SnapshotBuilder, tableFull: [TableFullOrigin] = [], reasons: [InvalidReasonCount] = []) {
        var kinds: [KernelLogSummary] = []
        if let last = tableFull.compactMap(\.lastSeconds).max() {
            kinds.append(KernelLogSummary(kind: .tableFull, count: tableFull.map(\.count).reduce(0, +), lastSeconds: last,
                                          recent: [KernelLogLine(seconds: last, text: "nf_conntrack: nf_conntrack: table full, dropping packet")]))
        }
        b.snapshot.kernelLog = .value(KernelLog(source: "/dev/kmsg", recordsRead: 900, firstSeconds: 0, lastSeconds: Self.uptime,
                                                kinds: kinds, tableFullByNetns: tableFull, invalidReasons: reasons))
    }

    @Test func dropsWithTableFullLinesSayWhenTheLastOneWas() {
        var b = SnapshotBuilder()
        b.counter("drop", 42)
        withLog(&b, tableFull: [TableFullOrigin(netns: nil, count: 7, lastSeconds: Self.uptime - 720)])
        let f = TableDropsCheck().evaluate(b.snapshot)
        #expect(f.status == .fail && f.severity == .warning, "lifetime totals stay a warning")
        #expect(f.explanation.contains("7 \"table full, dropping packet\" lines about this namespace, the last 720 s (12 minutes) ago"))
        #expect(f.evidence.contains(Evidence("/dev/kmsg", "\"table full\" lines: 7 about this namespace, 0 about others, 0 unattributed")))
        #expect(!(f.remediation?.steps.contains { $0.purpose.contains("dmesg | grep 'table full'") } ?? true),
                "the log was read, so no advice to read it")
    }

    @Test func otherNamespacesTablesFullingUpAreMentionedOnAPass() {
        var b = SnapshotBuilder()
        withLog(&b, tableFull: [TableFullOrigin(netns: 4026532999, count: 3, lastSeconds: Self.uptime - 60)])
        let f = TableDropsCheck().evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("3 about other network namespaces"))
    }

    /// Without counters, "table full in netns N" lines about this namespace's number prove drops only when they are
    /// not all older than the namespace: the kernel reuses namespace numbers.
    @Test(arguments: [(Self.uptime - 600, CheckStatus.fail), (Self.uptime - 60, .skipped)])
    func linesOlderThanTheNamespaceAreNotItsDrops(datedSince: Double, status: CheckStatus) {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.snapshot.host.netns.datedSince = datedSince
        b.ctnetlinkFails(.permissionDenied, errno: 1, name: "EPERM")
        b.snapshot.stats = .absent("/proc/net/stat/nf_conntrack: No such file or directory")
        withLog(&b, tableFull: [TableFullOrigin(netns: 4_026_532_246, count: 5, firstSeconds: Self.uptime - 400, lastSeconds: Self.uptime - 300)])
        let f = TableDropsCheck().evaluate(b.snapshot)
        #expect(f.status == status, "\(f.observed)")
        if status == .fail {
            #expect(f.observed.contains("5 \"table full, dropping packet\" lines about this namespace"))
        }
    }

    @Test func linesOlderThanTheNamespaceAreNamedApartOnAPass() {
        var b = SnapshotBuilder()
        b.childNamespace()
        b.snapshot.host.netns.datedSince = Self.uptime - 60
        withLog(&b, tableFull: [TableFullOrigin(netns: 4_026_532_246, count: 88, lastSeconds: Self.uptime - 3600)])
        let f = TableDropsCheck().evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("88 naming this namespace's number from before it is known to exist (the kernel reuses namespace numbers"))
        #expect(!f.explanation.contains("about this namespace"), "\(f.explanation)")
        #expect(f.evidence.contains(Evidence("/dev/kmsg", "\"table full\" lines: 0 about this namespace, 0 about others, 0 unattributed, 88 with this namespace's number from before it is known to exist")))
    }

    @Test func withoutTheLogTheAdviceToReadItStays() {
        var b = SnapshotBuilder()
        b.counter("drop", 1)
        b.snapshot.kernelLog = .denied("/dev/kmsg: Operation not permitted")
        let f = TableDropsCheck().evaluate(b.snapshot)
        #expect(f.remediation?.steps.contains { $0.purpose.contains("dmesg | grep 'table full'") } == true)
    }

    @Test func explainedInvalidPacketsQuoteTheKernelsReasons() {
        var b = SnapshotBuilder()
        b.counter("invalid", 30)
        b.set("net.netfilter.nf_conntrack_log_invalid", "6")
        withLog(&b, reasons: [InvalidReasonCount(proto: 6, reason: "SEQ is over upper bound N (over the window of the receiver)", count: 25, lastSeconds: Self.uptime - 5)])
        let f = TableInvalidCheck().evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("\"SEQ is over upper bound N (over the window of the receiver)\" (protocol 6, 25×, last 5 s ago)"))
        #expect(f.evidence.contains(Evidence("/dev/kmsg", "nf_ct_proto_6: SEQ is over upper bound N (over the window of the receiver) ×25")))
    }

    @Test func unexplainedInvalidPacketsStillFailButShowEarlierReasons() {
        var b = SnapshotBuilder()
        b.counter("invalid", 30)
        withLog(&b, reasons: [InvalidReasonCount(proto: 6, reason: "invalid new", count: 2, lastSeconds: 100)])
        let f = TableInvalidCheck().evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.explanation.contains("\"invalid new\" (protocol 6, 2×"))
        #expect(f.explanation.contains("logged earlier, while logging was on"))
    }
}
