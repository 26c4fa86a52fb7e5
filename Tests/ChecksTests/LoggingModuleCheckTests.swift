import DoctorCore
import Testing
@testable import Checks

@Suite struct LoggingModuleCheckTests {
    let check = LoggingModuleCheck()
    let wantKey = "net.netfilter.nf_conntrack_log_invalid"

    @Test func builtInLoggerPasses() {
        var b = SnapshotBuilder()
        b.set(wantKey, "255")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("nf_log_ipv4 registered for IPv4, provided by nf_log_syslog built into the kernel (CONFIG_NF_LOG_SYSLOG=y)"))
        #expect(f.observed.contains("nf_log_ipv6 registered for IPv6"))
        #expect(f.argvs.isEmpty)
    }

    /// With nothing asking for log lines, no logger is needed: not-applicable, never a pass on a logger that is not there.
    @Test func loadableButNotWantedIsNotApplicable() {
        let f = check.evaluate(SnapshotBuilder.modular61().snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed == "net.netfilter.nf_conntrack_log_invalid = 0 (off): conntrack asks for no log lines, so no syslog logger is needed; logging.log-invalid judges the setting")
    }

    @Test func loadableAndWantedIsAWarningWithModprobe() {
        var b = SnapshotBuilder.modular61()
        b.set(wantKey, "6")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "nf_log_ipv4 (IPv4) and nf_log_ipv6 (IPv6) are not registered; nf_log_syslog not loaded, loadable (/lib/modules/6.1.0-27-amd64/kernel/net/netfilter/nf_log_syslog.ko)")
        // One module provides both families: load it once.
        #expect(f.argvs == [["modprobe", "nf_log_syslog"]])
        #expect(f.undos == [["modprobe", "-r", "nf_log_syslog"]])
        #expect(f.remediation?.steps.first?.scope == .needsModule)
    }

    @Test func noSyslogLoggerWhileWantedIsAnError() {
        var b = SnapshotBuilder()
        b.set(wantKey, "1")
        b.register(pf: 2, ["nfnetlink_log"])
        b.bind(pf: 2, nil)
        b.module("nf_log_syslog", .missing, "CONFIG_NF_LOG_SYSLOG is not set")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .error)
        #expect(f.observed.contains("nf_log_syslog not on this kernel"))
        #expect(f.argvs == [nil])
        #expect(f.remediation?.steps.first?.purpose.contains("net.netfilter.nf_log.2=nfnetlink_log") == true)
        #expect(f.remediation?.steps.first?.purpose.contains("ulogd2") == true)
    }

    @Test func noSyslogLoggerWhileNotWantedIsNotApplicable() {
        var b = SnapshotBuilder()
        b.register(pf: 2, ["nfnetlink_log"])
        b.module("nf_log_syslog", .missing, "CONFIG_NF_LOG_SYSLOG is not set")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.evidence.contains(Evidence("/proc/net/netfilter/nf_log", "2 nf_log_ipv4 (nfnetlink_log)")))
    }

    @Test func hiddenSettingIsSkipped() {
        var b = SnapshotBuilder()
        b.setReading(wantKey, .denied("permission denied"))
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }

    @Test func unreadableRegistryMapsLikeAnyReading() {
        var b = SnapshotBuilder()
        b.snapshot.nfLog.families = .denied("permission denied")
        #expect(check.evaluate(b.snapshot).status == .skipped)
        b.snapshot.nfLog.families = .absent("no /proc/net/netfilter/nf_log")
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.snapshot.nfLog.families = .failed("EIO")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .error)
        #expect(f.observed.contains("/proc/net/netfilter/nf_log"))
    }
}
