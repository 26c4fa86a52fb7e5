import DoctorCore
import Testing
@testable import Checks

@Suite struct LoggingBackendCheckTests {
    let check = LoggingBackendCheck()
    let wantKey = "net.netfilter.nf_conntrack_log_invalid"

    /// issue 13 defect 2: with logging not requested the check never claims a backend is bound.
    @Test func notWantedIsNotApplicableAndNamesTheNoneBindings() {
        let f = check.evaluate(SnapshotBuilder.modular61().snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed == "net.netfilter.nf_conntrack_log_invalid = 0 (off): conntrack logs nothing, so no logger needs to be bound (net.netfilter.nf_log.2 = NONE, net.netfilter.nf_log.10 = NONE); logging.log-invalid judges the setting")
        #expect(!f.observed.contains("is bound"))
    }

    @Test func wantedAndBoundPasses() {
        var b = SnapshotBuilder()
        b.set(wantKey, "255")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "net.netfilter.nf_log.2 = nf_log_ipv4, net.netfilter.nf_log.10 = nf_log_ipv6")
    }

    @Test func boundToNfnetlinkLogCountsAsBound() {
        var b = SnapshotBuilder()
        b.set(wantKey, "6")
        b.bind(pf: 2, "nfnetlink_log")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.explanation.contains("group 0"))
    }

    @Test func registeredButUnboundGetsOnlyTheBinding() {
        var b = SnapshotBuilder()
        b.set(wantKey, "6")
        b.bind(pf: 2, nil)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "net.netfilter.nf_log.2 = NONE")
        #expect(f.expected == "an IPv4 logger bound (nf_log_ipv4) and an IPv6 logger bound (nf_log_ipv6)")
        #expect(f.explanation.contains("nf_log_packet has no logger bound for IPv4"))
        // Built in, so there is nothing to modprobe.
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_log.2=nf_log_ipv4"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_log.2=NONE"]])
        #expect(f.remediation?.steps.first?.scope == .runtime)
        #expect(f.evidence.contains(Evidence("/proc/sys/net/netfilter/nf_log/2", "NONE")))
        #expect(f.evidence.contains(Evidence("/proc/net/netfilter/nf_log", "2 NONE (nf_log_ipv4,nfnetlink_log)")))
    }

    @Test func modularAndMissingLoggerIsLoadedFirst() {
        var b = SnapshotBuilder.modular61()
        b.set(wantKey, "255")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "net.netfilter.nf_log.2 = NONE, net.netfilter.nf_log.10 = NONE")
        #expect(f.argvs == [
            ["modprobe", "nf_log_syslog"],
            ["sysctl", "-w", "net.netfilter.nf_log.2=nf_log_ipv4"],
            ["sysctl", "-w", "net.netfilter.nf_log.10=nf_log_ipv6"],
        ])
        #expect(f.undos.first == ["modprobe", "-r", "nf_log_syslog"])
        #expect(f.remediation?.steps.map(\.scope) == [.needsModule, .runtime, .runtime])
        #expect(f.evidence.filter { $0.value == "nf_log_syslog: available" }.count == 1)
    }

    @Test func icmpNeedsOnlyIPv4AndICMPv6OnlyIPv6() {
        var b = SnapshotBuilder.modular61()
        b.set(wantKey, "1")
        #expect(check.evaluate(b.snapshot).observed == "net.netfilter.nf_log.2 = NONE")
        b.set(wantKey, "58")
        let f = check.evaluate(b.snapshot)
        #expect(f.observed == "net.netfilter.nf_log.10 = NONE")
        #expect(f.argvs.last == ["sysctl", "-w", "net.netfilter.nf_log.10=nf_log_ipv6"])
    }

    @Test func preMergeKernelLoadsTheOldModule() {
        var b = SnapshotBuilder.modular61()
        b.kernel("5.4.0-99-generic")
        b.module("nf_log_syslog", .missing, "no nf_log_syslog.ko under /lib/modules/5.4.0-99-generic")
        b.module("nf_log_ipv4", .available, "/lib/modules/5.4.0-99-generic/kernel/net/ipv4/netfilter/nf_log_ipv4.ko")
        b.set(wantKey, "1")
        #expect(check.evaluate(b.snapshot).argvs == [
            ["modprobe", "nf_log_ipv4"], ["sysctl", "-w", "net.netfilter.nf_log.2=nf_log_ipv4"],
        ])
    }

    @Test func fallsBackToNfnetlinkLogWhenNoSyslogLoggerExists() {
        var b = SnapshotBuilder()
        b.set(wantKey, "6")
        b.remove("net.netfilter.nf_log.10")
        b.bind(pf: 2, nil)
        b.register(pf: 2, ["nfnetlink_log"])
        b.module("nf_log_syslog", .missing, "CONFIG_NF_LOG_SYSLOG is not set")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_log.2=nfnetlink_log"]])
        #expect(f.undos == [["sysctl", "-w", "net.netfilter.nf_log.2=NONE"]])
        #expect(f.explanation.contains("group 0"))
    }

    @Test func unreadableRegistryStillJudgesTheBinding() {
        var b = SnapshotBuilder()
        b.set(wantKey, "6")
        b.remove("net.netfilter.nf_log.10")
        b.set("net.netfilter.nf_log.2", "NONE")
        b.snapshot.nfLog.families = .denied("permission denied")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_log.2=nf_log_ipv4"]])
        #expect(f.explanation.contains("could not be read"))
    }

    @Test func absentBindingIsNotApplicable() {
        var b = SnapshotBuilder()
        b.set(wantKey, "1")
        b.remove("net.netfilter.nf_log.2")
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.setReading("net.netfilter.nf_log.2", .denied("permission denied"))
        #expect(check.evaluate(b.snapshot).status == .skipped)
    }
}
