import DoctorCore
import Testing
@testable import Checks

@Suite struct ConntrackPresentCheckTests {
    let check = ConntrackPresentCheck()

    @Test func passesWhenTheSysctlsExist() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("nf_conntrack is active: nf_conntrack built into the kernel (CONFIG_NF_CONNTRACK=y)"))
        #expect(f.observed.contains("nf_conntrack_max = 262144"))
        #expect(!f.explanation.contains("empty table"))
        #expect(f.evidence.contains(Evidence("/proc/sys/net/netfilter/nf_conntrack_max", "262144")))
    }

    @Test func emptyTableIsNotProofOfHealth() {
        var b = SnapshotBuilder()
        b.set("net.netfilter.nf_conntrack_count", "0")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("only when a rule, NAT or a ct expression needs it"))
    }

    @Test func loadableModuleIsAWarningWithModprobe() {
        var b = SnapshotBuilder.modular61()
        b.remove("net.netfilter.nf_conntrack_max")
        b.module("nf_conntrack", .available, "/lib/modules/6.1.0-27-amd64/kernel/net/netfilter/nf_conntrack.ko")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_max is not present"))
        #expect(f.observed.contains("nf_conntrack not loaded, loadable"))
        #expect(f.argvs == [["modprobe", "nf_conntrack"]])
        #expect(f.undos == [["modprobe", "-r", "nf_conntrack"]])
        #expect(f.remediation?.steps.first?.scope == .needsModule)
    }

    @Test func kernelWithoutConntrackIsAnErrorWithoutCommand() {
        var b = SnapshotBuilder()
        b.snapshot.sysctls.entries = .absent("/proc/sys/net/netfilter does not exist")
        b.snapshot.kernelConfig.options["CONFIG_NF_CONNTRACK"] = nil
        b.module("nf_conntrack", .missing, "not in modules.builtin")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .error)
        #expect(f.observed.contains("CONFIG_NF_CONNTRACK=n"))
        #expect(f.argvs == [nil])
    }

    @Test func unknownModuleAndConfigIsAWarning() {
        var b = SnapshotBuilder()
        b.remove("net.netfilter.nf_conntrack_max")
        b.snapshot.kernelConfig = KernelConfig(source: .absent("no /proc/config.gz or /boot/config-6.18.44"))
        b.snapshot.modules = ModuleInventory()
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.explanation.contains("neither the module tree nor the kernel configuration could be read"))
    }

    @Test func unreadableListingMapsToSkippedAndError() {
        var b = SnapshotBuilder()
        b.snapshot.sysctls.entries = .denied("permission denied")
        #expect(check.evaluate(b.snapshot).status == .skipped)
        b.snapshot.sysctls.entries = .failed("I/O error")
        #expect(check.evaluate(b.snapshot).status == .error)
    }
}
