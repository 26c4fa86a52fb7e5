import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct SysctlProbeTests {
    func sysctls(_ root: HostRoot) -> SysctlTable {
        Fixtures.snapshot(root, [SysctlProbe()]).sysctls
    }

    func isAbsent(_ reading: Reading<String>) -> Bool {
        if case .absent = reading { return true }
        return false
    }

    @Test func monolithic618() throws {
        let table = sysctls(Fixtures.root(Fixtures.monolithic))
        let entries = try #require(table.entries.value)
        #expect(table.int("net.netfilter.nf_conntrack_max") == .value(262_144))
        #expect(table.int("net.netfilter.nf_conntrack_buckets") == .value(262_144))
        #expect(table.int("net.netfilter.nf_conntrack_count") == .value(3))
        #expect(table.value("net.netfilter.nf_log_all_netns") == .value("0"))
        #expect(table.value("net.netfilter.nf_log.2") == .value("nf_log_ipv4"))
        #expect(table.value("net.netfilter.nf_log.10") == .value("nf_log_ipv6"))
        #expect(table.value("net.netfilter.nf_log.0") == .value("NONE"))
        #expect(isAbsent(table.value("net.netfilter.nf_log.11")))
        #expect(isAbsent(table.value("net.netfilter.nf_conntrack_helper")))
        #expect(isAbsent(table.value("net.netfilter.nf_conntrack_dccp_loose")))
        // The nf_log folder itself is not an entry, only its files.
        #expect(entries["net.netfilter.nf_log"] == nil)
        #expect(entries.keys.filter { $0.hasPrefix("net.netfilter.nf_log.") }.count == 11)
        // The legacy name of the global limit, /proc/sys/net/nf_conntrack_max, is read too (issue 13 defect 1).
        #expect(table.int("net.nf_conntrack_max") == .value(262_144))
        #expect(entries.count == 43 + 11 + 1)
        #expect(entries.values.allSatisfy { $0.mode != nil && $0.value.value != nil })
        #expect(table.entry("net.netfilter.nf_conntrack_max")?.writable == true)
    }

    @Test func debian61InANamespace() {
        let table = sysctls(Fixtures.root(Fixtures.modular61))
        #expect(table.int("net.netfilter.nf_conntrack_max") == .value(65_536))
        #expect(table.value("net.netfilter.nf_conntrack_dccp_loose") == .value("1"))
        #expect(table.int("net.netfilter.nf_conntrack_dccp_timeout_open") == .value(43_200))
        #expect(isAbsent(table.value("net.netfilter.nf_log_all_netns")))
        #expect(isAbsent(table.value("net.netfilter.nf_conntrack_helper")))
        for pf in 0...10 {
            #expect(table.value("net.netfilter.nf_log.\(pf)") == .value("NONE"))
        }
        #expect(isAbsent(table.value("net.netfilter.nf_log.11")))
    }

    @Test func debian510HasTheHelperToggleAndDecnetSlots() {
        let table = sysctls(Fixtures.root(Fixtures.modular510))
        #expect(table.int("net.netfilter.nf_conntrack_helper") == .value(0))
        #expect(table.value("net.netfilter.nf_log.2") == .value("nf_log_ipv4"))
        #expect(table.value("net.netfilter.nf_log.12") == .value("NONE"))
        #expect(isAbsent(table.value("net.netfilter.nf_conntrack_tcp_ignore_invalid_rst")))
    }

    @Test func ubuntu515() {
        let table = sysctls(Fixtures.root(Fixtures.modular515))
        #expect(table.value("net.netfilter.nf_log.2") == .value("nf_log_ipv4"))
        #expect(table.value("net.netfilter.nf_log.10") == .value("nf_log_ipv6"))
        #expect(table.value("net.netfilter.nf_log.3") == .value("nf_log_arp"))
        #expect(table.int("net.netfilter.nf_conntrack_count") == .value(4096))
    }

    @Test func missingFolderIsAbsent() throws {
        let temp = try TemporaryRoot()
        let table = sysctls(temp.root)
        guard case .absent(let why) = table.entries else {
            Issue.record("expected absent, got \(table.entries)")
            return
        }
        #expect(why.contains("/proc/sys/net/netfilter"))
        #expect(isAbsent(table.value("net.netfilter.nf_conntrack_max")))
    }

    @Test func unreadableFileFailsAloneWhileOthersLoad() throws {
        let temp = try Fixtures.copy(Fixtures.monolithic)
        // A folder where a sysctl file should be: open works, read() fails with EISDIR.
        try temp.remove("/proc/sys/net/netfilter/nf_conntrack_tcp_loose")
        try temp.mkdir("/proc/sys/net/netfilter/nf_conntrack_tcp_loose")
        let table = sysctls(temp.root)
        let entry = try #require(table.entry("net.netfilter.nf_conntrack_tcp_loose"))
        guard case .failed(let why) = entry.value else {
            Issue.record("expected failed, got \(entry.value)")
            return
        }
        #expect(why.contains("/proc/sys/net/netfilter/nf_conntrack_tcp_loose"))
        #expect(why.contains(HostRoot.describe(errno: EISDIR)))
        #expect(table.int("net.netfilter.nf_conntrack_max") == .value(262_144))
        #expect(table.value("net.netfilter.nf_log.2") == .value("nf_log_ipv4"))
        #expect(table.entries.value?.count == 43 + 11 + 1)
    }

    @Test(.enabled(if: getuid() != 0, "root reads a mode-000 file anyway, so EACCES cannot happen"))
    func deniedReadIsDenied() throws {
        let temp = try Fixtures.copy(Fixtures.monolithic)
        chmod(temp.root.resolve("/proc/sys/net/netfilter/nf_conntrack_max"), 0)
        let table = sysctls(temp.root)
        guard case .denied = table.value("net.netfilter.nf_conntrack_max") else {
            Issue.record("expected denied, got \(table.value("net.netfilter.nf_conntrack_max"))")
            return
        }
        #expect(table.entry("net.netfilter.nf_conntrack_max")?.mode == 0)
        #expect(table.int("net.netfilter.nf_conntrack_buckets") == .value(262_144))
    }

    @Test(.enabled(if: getuid() != 0, "root lists a mode-000 folder anyway"))
    func deniedSubfolderKeepsItsReading() throws {
        let temp = try Fixtures.copy(Fixtures.monolithic)
        chmod(temp.root.resolve("/proc/sys/net/netfilter/nf_log"), 0)
        let table = sysctls(temp.root)
        guard case .denied = table.value("net.netfilter.nf_log") else {
            Issue.record("expected denied, got \(table.value("net.netfilter.nf_log"))")
            return
        }
        #expect(table.int("net.netfilter.nf_conntrack_max") == .value(262_144))
    }
}
