import DoctorCore
import Testing
@testable import Checks

@Suite struct DynamicDebugCheckTests {
    let check = DynamicDebugCheck()
    static let proc = ["sh", "-c", "printf '%s\\n' 'file *netfilter/* -p' > /proc/dynamic_debug/control"]

    static func site(_ file: String, _ line: Int, _ module: String = "nf_conntrack", flags: String = "p") -> DynamicDebugSite {
        DynamicDebugSite(file: file, line: line, module: module, function: "f", flags: flags, format: "x\\012")
    }

    /// 5.15-like: the TCP tracker's sites exist, three of them and one FTP helper site enabled.
    static func leftOn(control: String = SourcePath.dynamicDebugControl) -> DynamicDebug {
        let tcp = "net/netfilter/nf_conntrack_proto_tcp.c"
        return DynamicDebug(
            control: control, totalSites: 3000,
            modules: [
                DynamicDebugModule(name: "nf_conntrack", total: 8, enabled: 3, files: [
                    DynamicDebugFile(path: "net/netfilter/nf_conntrack_core.c", total: 4, enabled: 0),
                    DynamicDebugFile(path: tcp, total: 4, enabled: 3),
                ]),
                DynamicDebugModule(name: "nf_conntrack_ftp", total: 2, enabled: 1, files: [
                    DynamicDebugFile(path: "net/netfilter/nf_conntrack_ftp.c", total: 2, enabled: 1),
                ]),
            ],
            enabled: [site(tcp, 521), site(tcp, 523), site(tcp, 526), site("net/netfilter/nf_conntrack_ftp.c", 412, "nf_conntrack_ftp")])
    }

    @Test func nothingEnabledPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("no netfilter site enabled"))
        #expect(f.observed.contains("nf_conntrack 10 (TCP tracker 1), nf_conntrack_ftp 19"))
        #expect(f.explanation.contains("removed in 5.19"))
        #expect(f.explanation.contains("nf_conntrack_log_invalid"))
        #expect(f.remediation == nil)
    }

    @Test func oldKernelPointsAtTheTcpTrackerSites() {
        var b = SnapshotBuilder()
        b.kernel("5.4.0-99-generic")
        var dd = Self.leftOn()
        dd.enabled = []
        dd.modules = dd.modules.map { m in
            var m = m
            m.enabled = 0
            m.files = m.files.map { var f = $0; f.enabled = 0; return f }
            return m
        }
        b.snapshot.dynamicDebug = .value(dd)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("The TCP tracker still has 4 pr_debug sites here"))
        #expect(f.explanation.contains("`file nf_conntrack_proto_tcp.c +p`"))
    }

    @Test func sitesLeftOnFailWithAFixedDisableCommand() {
        var b = SnapshotBuilder()
        b.snapshot.dynamicDebug = .value(Self.leftOn())
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "4 netfilter pr_debug sites enabled: nf_conntrack 3 of 8, nf_conntrack_ftp 1 of 2")
        #expect(f.evidence.contains(Evidence("/proc/dynamic_debug/control", #"net/netfilter/nf_conntrack_proto_tcp.c:521 [nf_conntrack]f =p "x\012""#)))
        #expect(f.argvs == [Self.proc])
        #expect(f.undos == [nil])
        #expect(f.remediation?.steps.first?.scope == .runtime)
    }

    @Test func debugfsControlGetsItsOwnFixedCommand() {
        var b = SnapshotBuilder()
        b.snapshot.dynamicDebug = .value(Self.leftOn(control: "/sys/kernel/debug/dynamic_debug/control"))
        let f = check.evaluate(b.snapshot)
        #expect(f.argvs == [["sh", "-c", "printf '%s\\n' 'file *netfilter/* -p' > /sys/kernel/debug/dynamic_debug/control"]])
        guard case .controlWrite(let path, let text, let undo)? = f.remediation?.steps.first?.action else {
            Issue.record("not a control write")
            return
        }
        #expect(path == "/sys/kernel/debug/dynamic_debug/control" && text == "file *netfilter/* -p")
        #expect(undo?.hasPrefix("file net/netfilter/nf_conntrack_proto_tcp.c line 521 +p; ") == true)
    }

    @Test func unusualControlPathAndSitesOutsideNetfilterFoldersAreAdvice() {
        var b = SnapshotBuilder()
        var dd = Self.leftOn(control: "/mnt/dbg/dynamic_debug/control")
        // Host text never reaches a command: an odd module name and path stay in the advice.
        dd.enabled.append(Self.site("drivers/x/evil.c", 1, "nf_nat_$(reboot)"))
        b.snapshot.dynamicDebug = .value(dd)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.argvs == [nil, nil])
        #expect(f.remediation?.steps[0].purpose.contains("/mnt/dbg/dynamic_debug/control") == true)
        #expect(f.remediation?.steps[1].purpose.contains("module <name> -p") == true)
    }

    @Test func kernelWithoutDynamicDebugIsNotApplicableWithTheReason() {
        var b = SnapshotBuilder()
        b.snapshot.kernelConfig.options["CONFIG_DYNAMIC_DEBUG"] = "n"
        b.snapshot.dynamicDebug = .absent("/proc/dynamic_debug/control: No such file or directory")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed.contains("CONFIG_DYNAMIC_DEBUG is not set in /proc/config.gz"))
        #expect(f.observed.contains("nf_conntrack_log_invalid"))
    }

    @Test func builtButNotMountedSaysToMountDebugfs() {
        var b = SnapshotBuilder()
        b.snapshot.kernelConfig.options["CONFIG_DYNAMIC_DEBUG"] = "y"
        b.snapshot.dynamicDebug = .absent("/sys/kernel/debug/dynamic_debug/control: No such file or directory")
        #expect(check.evaluate(b.snapshot).observed.contains("mount -t debugfs none /sys/kernel/debug"))
    }

    @Test func unreadableControlIsSkipped() {
        var b = SnapshotBuilder()
        b.snapshot.dynamicDebug = .denied("/proc/dynamic_debug/control: Permission denied")
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }
}
