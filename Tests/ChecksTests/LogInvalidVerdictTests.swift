import DoctorCore
import Testing
@testable import Checks

/// The one verdict table of nf_conntrack_log_invalid (README "nf_conntrack_log_invalid: one meaning, one verdict"),
/// checked across every check that reads it: logging.log-invalid, logging.backend (which families need a logger)
/// and table.invalid (whether INVALID packets are explained). 1 (ICMP) and 58 (ICMPv6) get the same verdicts.
@Suite struct LogInvalidVerdictTests {
    struct Row: Sendable, CustomStringConvertible {
        let value: Int
        /// logging.log-invalid with no INVALID packet counted, and with 1234 counted.
        let quiet: (CheckStatus, Severity?)
        let counted: (CheckStatus, Severity?)
        /// The nf_log families a logger must be bound for.
        let families: [Int]
        /// table.invalid passes with INVALID packets counted and every logger bound.
        let explains: Bool
        var description: String { String(value) }
    }

    static let table: [Row] = [
        Row(value: 0, quiet: (.pass, nil), counted: (.fail, .warning), families: [], explains: false),
        Row(value: 1, quiet: (.fail, .info), counted: (.fail, .warning), families: [2], explains: false),
        Row(value: 6, quiet: (.pass, nil), counted: (.pass, nil), families: [2, 10], explains: true),
        Row(value: 17, quiet: (.pass, nil), counted: (.pass, nil), families: [2, 10], explains: true),
        Row(value: 58, quiet: (.fail, .info), counted: (.fail, .warning), families: [10], explains: false),
        Row(value: 132, quiet: (.pass, nil), counted: (.pass, nil), families: [2, 10], explains: true),
        Row(value: 255, quiet: (.pass, nil), counted: (.pass, nil), families: [2, 10], explains: true),
    ]

    func snapshot(_ value: Int, invalid: UInt64 = 0) -> HostSnapshot {
        var b = SnapshotBuilder()
        b.set(SysctlKey.logInvalid.name, String(value))
        b.counter("invalid", invalid)
        return b.snapshot
    }

    @Test(arguments: table) func logInvalidCheck(row: Row) {
        let quiet = LogInvalidCheck().evaluate(snapshot(row.value))
        #expect(quiet.status == row.quiet.0)
        #expect(quiet.severity == row.quiet.1)
        let counted = LogInvalidCheck().evaluate(snapshot(row.value, invalid: 1234))
        #expect(counted.status == row.counted.0)
        #expect(counted.severity == row.counted.1)
        if counted.status == .fail {
            #expect(counted.argvs.first == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=255"])
            #expect(counted.undos.first == ["sysctl", "-w", "net.netfilter.nf_conntrack_log_invalid=\(row.value)"])
        }
    }

    @Test(arguments: table) func familiesNeedingALogger(row: Row) throws {
        let s = snapshot(row.value)
        let log = try #require(s.logInvalid.value)
        #expect(s.loggedFamilies(log) == row.families)
        // Unbinding one family fails logging.backend exactly when that family is needed.
        for pf in [2, 10] {
            var b = SnapshotBuilder()
            b.set(SysctlKey.logInvalid.name, String(row.value))
            b.bind(pf: pf, nil)
            let f = LoggingBackendCheck().evaluate(b.snapshot)
            if row.families.isEmpty {
                #expect(f.status == .notApplicable)
            } else {
                #expect(f.status == (row.families.contains(pf) ? .fail : .pass), "pf \(pf)")
            }
        }
    }

    @Test(arguments: table) func tableInvalidExplains(row: Row) {
        let f = TableInvalidCheck().evaluate(snapshot(row.value, invalid: 1234))
        #expect(f.status == (row.explains ? .pass : .fail))
    }

    @Test func meaningOfEachValue() throws {
        let selections = try [0, 1, 6, 17, 58, 99, 132, 255].map { try #require(LogInvalid($0)).selection }
        #expect(selections == [.off, .icmpOnly, .transport, .transport, .icmpOnly, .untracked, .transport, .all])
        #expect(LogInvalid(256) == nil)
        #expect(LogInvalid(-1) == nil)
    }

    /// A protocol without a tracker of its own logs nothing: a fail like ICMP-only, and no logger is asked for.
    @Test func untrackedProtocolLogsNothing() {
        let f = LogInvalidCheck().evaluate(snapshot(99))
        #expect(f.status == .fail)
        #expect(f.severity == .info)
        #expect(f.explanation.contains("generic tracker"))
        #expect(LoggingBackendCheck().evaluate(snapshot(99)).status == .notApplicable)
    }

    @Test(arguments: ["256", "-1", "9223372036854775807", "1e3", "nan"])
    func outOfRangeIsAnErrorInEveryCheckThatReadsIt(text: String) {
        var b = SnapshotBuilder()
        b.set(SysctlKey.logInvalid.name, text)
        b.counter("invalid", 5)
        for check in [LogInvalidCheck(), LoggingBackendCheck(), LoggingModuleCheck()] as [any Check] {
            let f = check.evaluate(b.snapshot)
            #expect(f.status == .error, "\(f.id): \(f.observed)")
            #expect(f.observed.contains("nf_conntrack_log_invalid"), "\(f.id)")
        }
        #expect(TableInvalidCheck().evaluate(b.snapshot).status == .fail)
    }
}
