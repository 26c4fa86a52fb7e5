import Foundation
import TestSupport
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// The real sosreport subsets under Fixtures/sosreport (copied unchanged from the shared fixtures; their README says
/// where they come from): read in place, never changed.
enum Sosreport {
    static let kubernetes = "ubuntu-5.4-kubernetes-node"
    static let lxdContainer = "ubuntu-5.4-lxd-container-rabbitmq"
    static let sunbeamPartial = "ubuntu-6.8-sunbeam-partial"

    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/sosreport/\(name)").standardized.path
    }

    static let path = path(kubernetes)
    static let present = FileManager.default.fileExists(atPath: path + "/sos_commands")
}

@Suite(.enabled(if: Sosreport.present, "sosreport fixture not found at \(Sosreport.path)"))
struct SosreportRootTests {
    let snapshot = SnapshotTaker.take(Fixtures.context(HostRoot(Sosreport.path)))

    @Test func hostIdentity() {
        // A sosreport has no /proc/sys/kernel: release and hostname come from sos_commands.
        #expect(snapshot.host.kernelRelease == .value("5.4.0-99-generic"))
        #expect(snapshot.host.kernelVersion == KernelVersion(5, 4, 0))
        #expect(snapshot.host.hostname == .value("juju-110cc2-k8stest-4"))
        #expect(snapshot.host.netns.initial == true)
        #expect(snapshot.host.netns.basis.contains("nf_log_all_netns is present"))
        // proc/self is stored as a plain file, so there is no ns/net link to follow.
        #expect(snapshot.host.netns.inode.value == nil)
    }

    @Test func sysctls() {
        let s = snapshot.sysctls
        #expect(s.int("net.netfilter.nf_conntrack_max") == .value(131_072))
        #expect(s.int("net.netfilter.nf_conntrack_buckets") == .value(32_768))
        #expect(s.int("net.netfilter.nf_conntrack_count") == .value(901))
        #expect(s.int("net.netfilter.nf_conntrack_helper") == .value(0))
        #expect(s.value("net.netfilter.nf_conntrack_sctp_timeout_heartbeat_acked") == .value("210"))
        #expect(s.value("net.netfilter.nf_conntrack_dccp_loose") == .value("1"))
        let nfLog = (s.entries.value ?? [:]).filter { $0.key.hasPrefix("net.netfilter.nf_log.") }
        #expect(nfLog.count == 13)
        #expect(nfLog.values.allSatisfy { $0.value == .value("NONE") })
        // A copy's file modes are the unpacker's, not the kernel's: none is kept, so nothing claims to be writable.
        #expect(s.entry("net.netfilter.nf_conntrack_max")?.writable == nil)
        // Each value names where it was read (issue 13 defect 6).
        #expect(s.entry("net.netfilter.nf_conntrack_max")?.source == "proc/sys/net/netfilter/nf_conntrack_max")
    }

    @Test func modulesFromProcModules() {
        let m = snapshot.modules
        #expect(m.loadableModules == true)
        #expect(m.moduleTree == nil)
        #expect(m.status("nf_conntrack").state == .loaded)
        #expect(m.status("nf_conntrack_netlink").state == .loaded)
        // No logger module loaded, no module tree and no config: nothing more can be said.
        #expect(m.status("nf_log_ipv4").state == .unknown)
        #expect(m.status("nfnetlink_log").state == .unknown)
    }

    @Test func whatTheSosreportDoesNotHold() {
        if case .absent(let why) = snapshot.kernelConfig.source {
            #expect(why.contains("/boot/config-5.4.0-99-generic"))
        } else {
            Issue.record("expected no kernel config, got \(snapshot.kernelConfig.source)")
        }
        // proc/net/stat was not collected, and there is no conntrack -S output either.
        #expect(snapshot.stats.value == nil)
        #expect(Coverage.unfilled(snapshot).contains { $0.hasPrefix("conntrack statistics: not collected: neither proc/net/stat/nf_conntrack nor sos_commands/conntrack/conntrack_-S") })
        // The nft ruleset was not collected: listed, so nobody reads "no such rule" into the listings.
        #expect(Coverage.unfilled(snapshot).contains { $0.hasPrefix("rules: nftables: no nft ruleset in this sosreport") })
        #expect(Coverage.unfilled(snapshot).contains { $0.hasPrefix("kernel config: ") })
        // The firewall listings filled the rules, so the tools that cannot run are not listed as gaps.
        #expect(!Coverage.unfilled(snapshot).contains { $0.hasPrefix("rules from ") })
    }

    @Test func storedLinksAreFollowed() {
        // proc/net holds "self/net" and proc/self holds "96008": /proc/net/... is read from proc/96008/net/...
        #expect(HostRoot(Sosreport.path).resolve("/proc/net/netfilter/nf_log") == Sosreport.path + "/proc/96008/net/netfilter/nf_log")
        let families = snapshot.nfLog.families.value ?? []
        #expect(families.count == 13)
        #expect(families.allSatisfy { $0.bound == nil })
    }

    @Test func sysctlAFillsAndTheProcCopyWins() {
        // Both hold nf_conntrack_count, read at different moments: the copy is used and the difference noted.
        #expect(snapshot.sysctls.int("net.netfilter.nf_conntrack_count") == .value(901))
        #expect(snapshot.sourceNotes == [
            "net.netfilter.nf_conntrack_count: proc/sys/net/netfilter/nf_conntrack_count holds 901, sos_commands/kernel/sysctl_-a:1004 printed 832 (read at different moments; the /proc/sys copy is used)",
        ])
    }
}

/// The sosreport fall-backs on a made-up tree holding only sos_commands.
struct SosreportCommandsTests {
    static func tree(_ files: [String: String]) throws -> HostRoot {
        let dir = TestFolders.base.appendingPathComponent("ctd-sos-\(UUID().uuidString)")
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return HostRoot(dir.path)
    }

    @Test func sysctlAStandsInForAMissingProcSys() throws {
        let host = try Self.tree(["sos_commands/kernel/sysctl_-a": """
            kernel.hostname = node
            net.netfilter.nf_conntrack_max = 65536
            net.netfilter.nf_log.2 = NONE
            """])
        var snapshot = HostSnapshot()
        SysctlProbe().collect(into: &snapshot, context: Fixtures.context(host))
        #expect(snapshot.sysctls.int("net.netfilter.nf_conntrack_max") == .value(65536))
        #expect(snapshot.sysctls.value("net.netfilter.nf_log.2") == .value("NONE"))
        #expect(snapshot.sysctls.entry("kernel.hostname") == nil)
        #expect(snapshot.sourceNotes == nil)
    }

    @Test func lsmodStandsInForAMissingProcModules() throws {
        let host = try Self.tree(["sos_commands/kernel/lsmod": """
            Module                  Size  Used by
            nf_conntrack          139264  5 xt_conntrack,nf_nat
            """])
        #expect(ModuleProbe.loaded(host) == .value(["nf_conntrack"]))
    }

    /// issue 13: per-namespace outputs in both layouts sos has used (flat under networking/ in older versions,
    /// networking/namespaces/NS/ since 4.x), grouped by the name between `ip_netns_exec_` and the command.
    @Test func namespacesAreFoundInBothLayouts() throws {
        let host = try Self.tree([
            "sos_commands/conntrack/ip_netns_exec_qrouter-1a2b_conntrack_-S": "cpu=0 \tinsert_failed=1\n",
            "sos_commands/networking/ip_netns_exec_qrouter-1a2b_iptables-save": "*nat\nCOMMIT\n",
            "sos_commands/networking/namespaces/cni-9_x/ip_netns_exec_cni-9_x_ip6tables-save": "*filter\nCOMMIT\n",
            "sos_commands/networking/namespaces/cni-9_x/ip_netns_exec_cni-9_x_sysctl_-a": "net.netfilter.nf_conntrack_count = 4\n",
            // Not namespace outputs: no name, another command, another prefix.
            "sos_commands/conntrack/ip_netns_exec__conntrack_-S": "cpu=0 \tdrop=1\n",
            "sos_commands/networking/namespaces/cni-9_x/ip_netns_exec_cni-9_x_ip_route_show_table_all": "",
            "sos_commands/conntrack/conntrack_-S": "cpu=0 \tdrop=1\n",
        ])
        let found = SosNamespaces.find(host)
        #expect(found.map(\.name) == ["cni-9_x", "qrouter-1a2b"])
        #expect(found.first?.files == [
            .ip6tablesSave: "/sos_commands/networking/namespaces/cni-9_x/ip_netns_exec_cni-9_x_ip6tables-save",
            .sysctlA: "/sos_commands/networking/namespaces/cni-9_x/ip_netns_exec_cni-9_x_sysctl_-a",
        ])
        #expect(found.last?.files == [
            .conntrackS: "/sos_commands/conntrack/ip_netns_exec_qrouter-1a2b_conntrack_-S",
            .iptablesSave: "/sos_commands/networking/ip_netns_exec_qrouter-1a2b_iptables-save",
        ])
        #expect(SosNamespaces.split("ip_netns_exec_a_conntrack_-S_conntrack_-S")! == ("a_conntrack_-S", .conntrackS))
    }

    @Test func conntrackSIsSummedOverCPUs() throws {
        let host = try Self.tree(["sos_commands/conntrack/conntrack_-S": """
            cpu=0   \tfound=1 invalid=5 insert=0 insert_failed=2 drop=0 early_drop=0 error=0 search_restart=0
            cpu=1   \tfound=0 invalid=7 insert=0 insert_failed=0 drop=1 early_drop=0 error=0 search_restart=3
            """])
        let stats = try #require(ConntrackStatsProbe.read(host).value)
        #expect(stats.cpus == 2)
        #expect(stats.counters["invalid"] == 12)
        #expect(stats.counters["drop"] == 1)
        #expect(stats.counters["search_restart"] == 3)
        #expect(stats.source == "conntrack -S (sos_commands/conntrack/conntrack_-S)")
        // Each line kept by its cpu= number, for telling which CPU took a counter (issue 13).
        #expect(stats.perCPU?.map(\.cpu) == [0, 1])
        #expect(stats.perCPU?.last?.counters["search_restart"] == 3)
    }
}
