import DoctorCore
import Testing
@testable import Checks

@Suite struct LogInvalidCheckTests {
    let check = LogInvalidCheck()
    let key = "net.netfilter.nf_conntrack_log_invalid"

    @Test func offWithoutInvalidPackets() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "net.netfilter.nf_conntrack_log_invalid = 0; invalid = 0 (lifetime total)")
    }

    @Test(arguments: [("6", "6 (TCP)"), ("255", "255 (all protocols)"), ("17", "17 (UDP)"), ("132", "132 (SCTP)")])
    func protocolNumberPasses(value: String, named: String) {
        var b = SnapshotBuilder()
        b.set(key, value)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "net.netfilter.nf_conntrack_log_invalid = \(named)")
    }

    @Test func offWhileInvalidPacketsAreCounted() {
        var b = SnapshotBuilder()
        b.counter("invalid", 1234)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_log_invalid = 0"))
        #expect(f.observed.contains("invalid = 1234"))
        #expect(f.explanation.contains("1234 packets were counted INVALID (lifetime total) and nothing records why"))
        #expect(f.explanation.contains("3 days 4 hours"))
        #expect(f.explanation.contains("ctdoctor check --sample SECONDS"))
        #expect(f.argvs == [["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=255"], nil])
        #expect(f.undos.first == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=0"])
        #expect(f.remediation?.steps.first?.scope == .runtime)
        #expect(f.remediation?.steps.last?.purpose.contains("logging.backend") == true)
    }

    @Test func icmpOnlyWithInvalidPacketsIsAWarning() {
        var b = SnapshotBuilder()
        b.set(key, "1")
        b.counter("invalid", 50)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("= 1 (ICMP)"))
        #expect(f.explanation.contains("1 selects ICMP only; the setting is a protocol number, not on/off"))
        #expect(f.argvs.first == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=255"])
        #expect(f.undos.first == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=1"])
    }

    @Test func icmpOnlyWithoutInvalidPacketsIsInfo() {
        var b = SnapshotBuilder()
        b.set(key, "1")
        #expect(check.evaluate(b.snapshot).severity == .info)
        b.snapshot.stats = .denied("conntrack -S needs CAP_NET_ADMIN")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .info)
    }

    @Test func offWithoutStatisticsIsSkipped() {
        var b = SnapshotBuilder()
        b.snapshot.stats = .absent("/proc/net/stat/nf_conntrack is missing (CONFIG_NF_CONNTRACK_PROCFS not set)")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .skipped)
        #expect(f.observed.hasPrefix("cannot tell whether INVALID packets occur: /proc/net/stat/nf_conntrack is missing"))
    }

    @Test func absentDeniedAndGarbage() {
        var b = SnapshotBuilder()
        b.remove(key)
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
        b.setReading(key, .denied("permission denied"))
        #expect(check.evaluate(b.snapshot).status == .skipped)
        b.setReading(key, .failed("EIO"))
        #expect(check.evaluate(b.snapshot).status == .error)
        b.set(key, "yes")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .error)
        #expect(f.observed.contains("\"yes\" is not a whole number"))
    }
}
