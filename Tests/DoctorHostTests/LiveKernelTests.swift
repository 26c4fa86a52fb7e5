import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// The probes on the running kernel, read-only: nothing here changes a sysctl, a rule or a module.
@Suite struct LiveKernelTests {
    static let hasNetfilter = FileManager.default.fileExists(atPath: "/proc/sys/net/netfilter")

    /// Root, in the initial network namespace. Told by /proc/sys/net/nf_conntrack_max, which only init_net has, so
    /// the gate does not lean on nf_log_all_netns, the file the probe itself decides by. (Comparing with
    /// /proc/1/ns/net does not work everywhere: on the build machine even root gets EACCES reading that link.)
    static var rootInInitialNetns: Bool {
        getuid() == 0 && FileManager.default.fileExists(atPath: "/proc/sys/net/nf_conntrack_max")
    }

    func live() -> HostSnapshot {
        SnapshotTaker.take(ProbeContext(host: HostRoot(), runner: SystemCommandRunner(), toolVersion: "test", now: "now"))
    }

    @Test func releaseMatchesUname() throws {
        let uname = try SystemCommandRunner().run(["uname", "-r"], timeout: 5).get()
        let snapshot = live()
        #expect(snapshot.host.kernelRelease == .value(uname.stdout.trimmingWhitespace()))
        #expect((snapshot.host.uptimeSeconds.value ?? 0) > 0)
        #expect(snapshot.host.privileges.euid == UInt32(geteuid()))
        #expect(snapshot.host.privileges.netAdmin != nil)
        let link = try #require(HostRoot().readLink("/proc/self/ns/net").value)
        #expect(snapshot.host.netns.inode.value.map { "net:[\($0)]" } == link)
    }

    @Test(.enabled(if: LiveKernelTests.hasNetfilter && LiveKernelTests.rootInInitialNetns,
                   "needs root in the initial network namespace with netfilter sysctls"))
    func initialNamespace() throws {
        let snapshot = live()
        #expect(snapshot.host.netns.initial == true)
        #expect(snapshot.host.netns.basis.contains("nf_log_all_netns"))
        #expect(snapshot.host.privileges.euid == 0)
        #expect(snapshot.host.privileges.netAdmin == true)
        #expect(snapshot.sysctls.entry("net.netfilter.nf_conntrack_max") != nil)
        #expect(snapshot.sysctls.entry("net.netfilter.nf_conntrack_max")?.writable == true)
        #expect(snapshot.nfLog.family(2) != nil)
        #expect(snapshot.modules.modules.count == ModuleInventory.tracked.count)
        if snapshot.modules.loadableModules == false {
            // Monolithic: conntrack is compiled in, whatever else is.
            #expect(snapshot.modules.status("nf_conntrack").state == .builtIn)
        }
        // ctnetlink, read-only: the count (per namespace) and the global limit, the same numbers the sysctls give.
        let table = try #require(snapshot.ctnetlink.table.value)
        #expect(table.max == snapshot.sysctls.int("net.netfilter.nf_conntrack_max").value)
        #expect(snapshot.ctnetlink.failure == nil)
        #expect(snapshot.ctnetlink.statistics.value?.counters["invalid"] != nil)
        #expect(snapshot.ctnetlink.lists.value != nil)
        #expect(snapshot.ctnetlink.expectations.value != nil)
        #expect(snapshot.conntrackSlab.value?.objectSize ?? 0 > 0)
        #expect(snapshot.tableSummary == .absent(TableDumpProbe.notAsked))
        if FileManager.default.fileExists(atPath: ConntrackStatsProbe.path) {
            let stats = try #require(snapshot.stats.value)
            #expect(stats.cpus >= 1)
            #expect(stats.counters["entries"] != nil)
        }
    }
}

/// The kernel log of this machine, read-only. Its lines are host-wide: whatever other tests or namespaces logged shows.
@Suite(.enabled(if: getuid() == 0, "reading /dev/kmsg needs root (CAP_SYSLOG) when kernel.dmesg_restrict = 1"))
struct LiveKernelLogTests {
    @Test func kmsgRecordsHaveMonotonicTimestamps() throws {
        var stamps: [Double] = []
        let result = KernelLogProbe.eachKmsgRecord(HostRoot()) { seconds, _ in stamps.append(seconds) }
        #expect(result.value != nil, "\(result)")
        #expect(!stamps.isEmpty)
        #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 <= $1 }, "timestamps go back somewhere")
        let uptime = try #require(HostRoot().readTrimmed("/proc/uptime").value?.split(separator: " ").first.flatMap { Double($0) })
        #expect((stamps.last ?? 0) <= uptime)
    }

    @Test func probeReadsKmsgAndKeepsConntrackLinesInOrder() throws {
        let context = ProbeContext(host: HostRoot(), runner: SystemCommandRunner(), toolVersion: "test", now: "now")
        var snapshot = HostSnapshot()
        KernelLogProbe().collect(into: &snapshot, context: context)
        let log = try #require(snapshot.kernelLog.value, "\(snapshot.kernelLog)")
        #expect(log.source == KernelLogProbe.kmsg)
        #expect(log.recordsRead > 0)
        #expect((log.firstSeconds ?? -1) <= (log.lastSeconds ?? -2))
        for summary in log.kinds {
            let stamps = summary.recent.compactMap(\.seconds)
            #expect(stamps.count == summary.recent.count, "\(summary.kind): /dev/kmsg always has timestamps")
            #expect(zip(stamps, stamps.dropFirst()).allSatisfy { $0 <= $1 }, "\(summary.kind)")
            #expect((summary.firstSeconds ?? 0) <= (summary.lastSeconds ?? 0))
        }
    }
}
