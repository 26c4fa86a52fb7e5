import Foundation
import Testing
@testable import DoctorKit

/// A real sosreport (Ubuntu 20.04, 5.4 kernel, Kubernetes node). It lives outside the repository, next to the
/// worktrees in /work/shared, and is read in place: never copied or changed.
enum Sosreport {
    static let path: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .appendingPathComponent("../../../shared/fixtures/sosreport/ubuntu-5.4-kubernetes-node")
        .standardized.path
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
        // Copied read-only: no key looks writable.
        #expect(s.entry("net.netfilter.nf_conntrack_max")?.writable == false)
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
        // proc/net is stored as a plain file ("self/net"), so nothing below it can be read.
        #expect(snapshot.nfLog.families.value == nil)
        #expect(snapshot.stats.value == nil)
    }
}
