import DoctorCore
import DoctorHost
import Foundation
import Testing

/// The binary on the fixture roots made for the kernel-log, dynamic-debug and persistence probes.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct BootConfigurationRootTests {
    func finding(_ id: String, root: String) throws -> Finding {
        let result = try Binary.run(["check", "--root", FixtureRootTests.root(root), "--only", id, "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        return try #require(report.findings.first { $0.id == id })
    }

    @Test func debianRootWithDriftingValuesAndModularConntrack() throws {
        let f = try finding("sysctl.persistence", root: "debian-12-persistence")
        #expect(f.status == .fail && f.severity == .warning)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_max = 262144 running, 524288 in /etc/sysctl.d/99-zz-override.conf:1"))
        #expect(f.observed.contains("net.netfilter.nf_conntrack_generic_timeout = 600 running, 300 in /run/sysctl.d/80-run.conf:2"))
        #expect(f.observed.contains("nf_conntrack is a module not loaded at boot, so 5 nf_conntrack keys from sysctl.d will not apply"))
        // The stale -nf_conntrack_helper line is reported; the equal sysctl.conf value is not.
        #expect(f.observed.contains("net.netfilter.nf_conntrack_helper is set in /etc/sysctl.d/99-custom.conf:4"))
        #expect(!f.observed.contains("nf_conntrack_tcp_timeout_established = "))
        let writes = f.remediation?.steps.filter { if case .writeFile = $0.action { true } else { false } } ?? []
        #expect(writes.count == 1)
        guard case .writeFile(let path, let contents)? = writes.first?.action else {
            Issue.record("expected ctdoctor's modules-load.d file to be written"); return
        }
        #expect(path == "/etc/modules-load.d/ctdoctor.conf")
        #expect(contents.hasSuffix("\nnf_conntrack\n"))
    }

    @Test func enabledTcpTrackerSitesUnderDebugfs() throws {
        let f = try finding("debug.dynamic-debug", root: "dyndbg-5.15-debugfs")
        #expect(f.status == .fail)
        #expect(f.observed == "4 netfilter pr_debug sites enabled: nf_conntrack 3 of 8, nf_conntrack_ftp 1 of 2")
        // The command is derived from the control write itself, as `fix` prints it.
        #expect(f.remediation?.steps.first?.command == "printf '%s\\n' 'file *netfilter/* -p' > /sys/kernel/debug/dynamic_debug/control")
    }

    @Test func quietDynamicDebugOn612() throws {
        let f = try finding("debug.dynamic-debug", root: "dyndbg-6.12-proc")
        #expect(f.status == .pass)
        #expect(f.observed.contains("nf_conntrack 6 (TCP tracker 1), nf_conntrack_sip 2"))
    }

    @Test func monolithicRootWithoutEtcOrDynamicDebug() throws {
        #expect(try finding("sysctl.persistence", root: "monolithic-6.18").status == .notApplicable)
        #expect(try finding("debug.dynamic-debug", root: "monolithic-6.18").status == .notApplicable)
    }
}
