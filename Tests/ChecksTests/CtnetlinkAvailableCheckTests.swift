import DoctorCore
import Glibc
import Testing
@testable import Checks

@Suite struct CtnetlinkAvailableCheckTests {
    let check = CtnetlinkAvailableCheck()

    @Test func answeredPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "IPCTNL_MSG_CT_GET_STATS answered: 1532 entries in this namespace, nf_conntrack_max = 262144")
        #expect(f.remediation == nil)
    }

    @Test func epermIsSkippedWithTheReason() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.permissionDenied, errno: EPERM, name: "EPERM")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed == "ctnetlink refused the request: EPERM (no CAP_NET_ADMIN in this network namespace)")
        #expect(f.explanation.contains("CAP_NET_ADMIN on every request"))
        #expect(f.explanation.contains("/proc/net/stat/nf_conntrack"))
        #expect(f.argvs == [nil])
        #expect(f.remediation?.steps.first?.purpose.contains("sudo ctdoctor check") == true)
    }

    @Test func notAskedBecauseAskingWouldLoadTheModuleIsSkippedNotFailed() {
        var b = SnapshotBuilder.modular61()
        b.snapshot.ctnetlink = .withheld("not asked: nf_conntrack_netlink is not loaded")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed == "ctnetlink was not asked: nf_conntrack_netlink is not loaded")
        #expect(f.explanation.hasPrefix("not asked: nf_conntrack_netlink is not loaded"))
        #expect(f.argvs == [nil], "advice only: loading a module is the operator's call")
        #expect(f.remediation?.steps.first?.purpose.contains("modprobe nf_conntrack_netlink") == true)
    }

    @Test func einvalWithALoadableModuleFailsWithModprobe() {
        var b = SnapshotBuilder.modular61()
        b.ctnetlinkFails(.noCtnetlink, errno: EINVAL, name: "EINVAL")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("IPCTNL_MSG_CT_GET_STATS failed: EINVAL"))
        #expect(f.observed.contains("nf_conntrack_netlink not loaded, loadable"))
        #expect(f.argvs == [["modprobe", "nf_conntrack_netlink"]])
        #expect(f.undos == [["modprobe", "-r", "nf_conntrack_netlink"]])
        #expect(f.remediation?.steps.first?.scope == .needsModule)
    }

    @Test func einvalWithoutAModuleAdvisesAnotherKernel() {
        var b = SnapshotBuilder()
        b.module("nf_conntrack_netlink", .missing, "CONFIG_NF_CT_NETLINK is not set")
        b.ctnetlinkFails(.noCtnetlink, errno: EINVAL, name: "EINVAL")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.argvs == [nil])
        #expect(f.remediation?.steps.first?.purpose.contains("CONFIG_NF_CT_NETLINK") == true)
    }

    @Test func noNfnetlinkFails() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.noNfnetlink, errno: EPROTONOSUPPORT, name: "EPROTONOSUPPORT")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.observed.contains("EPROTONOSUPPORT"))
        #expect(f.remediation?.steps.first?.purpose.contains("CONFIG_NETFILTER_NETLINK") == true)
    }

    @Test func otherErrnoIsAnError() {
        var b = SnapshotBuilder()
        b.ctnetlinkFails(.other, errno: ENOBUFS, name: "ENOBUFS")
        #expect(check.evaluate(b.snapshot).status == .error)
    }

    @Test func copiedRootIsNotApplicable() {
        var b = SnapshotBuilder()
        b.snapshot.ctnetlink = .absent("not a live host: ctnetlink answers only for the running kernel, and /tmp/root is a copied root")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed.contains("not a live host"))
    }
}
