import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct KernelLogProbeTests {
    static var dmesg618: String {
        let path = Fixtures.rootsPath + "/../kernel-log/dmesg-6.18.txt"
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    /// The live path with /dev/kmsg out of reach (a root without it) and `dmesg` answered from a recording.
    func fromDmesg(_ output: Result<CommandResult, CommandFailure>) throws -> Reading<KernelLog> {
        let temp = try TemporaryRoot()
        let context = ProbeContext(
            host: temp.root, runner: RecordedCommandRunner([KernelLogProbe.dmesgCommand: output]), toolVersion: "test", now: "now")
        return KernelLogProbe.live(context)
    }

    @Test func everyKindFromRecordedDmesg() throws {
        let log = try #require(try fromDmesg(.success(CommandResult(exitStatus: 0, stdout: Self.dmesg618))).value)
        #expect(log.source == "dmesg")
        #expect(log.recordsRead == 29)
        #expect(log.firstSeconds == 0 && log.lastSeconds == 600)
        #expect(log.kinds.map(\.kind) == [
            .tableFull, .invalid, .helperDrop, .helperAssignment, .expectationTableFull, .noSuchHelper, .trace,
            .rateLimited, .vmallocFallback,
        ])
        #expect(log.count(.tableFull) == 7)
        #expect(log.count(.invalid) == 6)
        #expect(log.count(.helperDrop) == 1)
        #expect(log.count(.helperAssignment) == 2)
        #expect(log.count(.expectationTableFull) == 1)
        #expect(log.count(.noSuchHelper) == 1)
        #expect(log.count(.trace) == 2)
        #expect(log.count(.vmallocFallback) == 1)
        // Next to table-full lines (before one, after one); the one between two unrelated lines is dropped.
        #expect(log.summary(.rateLimited)?.recent.map(\.suppressed) == [42, 7])

        let full = try #require(log.summary(.tableFull))
        #expect(full.firstSeconds == 300 && full.lastSeconds == 402)
        #expect(full.recent.count == KernelLogSummary.recentLimit)
        #expect(full.recent.last?.text == "nf_conntrack: nf_conntrack: table full in netns 4026532999, dropping packet")
        #expect(full.recent.map(\.netns) == [nil, nil, 4_026_532_246, 4_026_532_246, 4_026_532_999])
        #expect(log.tableFullByNetns == [
            TableFullOrigin(netns: nil, count: 4, firstSeconds: 300, lastSeconds: 310),
            TableFullOrigin(netns: 4_026_532_246, count: 2, firstSeconds: 400, lastSeconds: 401),
            TableFullOrigin(netns: 4_026_532_999, count: 1, firstSeconds: 402, lastSeconds: 402),
        ])

        #expect(log.invalidReasons.first == InvalidReasonCount(
            proto: 6, reason: "SEQ is over upper bound N (over the window of the receiver)", count: 2, lastSeconds: 104.25))
        #expect(Set(log.invalidReasons.map { "\($0.proto) \($0.reason)" }) == [
            "6 SEQ is over upper bound N (over the window of the receiver)", "6 invalid tcp flag combination",
            "6 invalid new", "17 bad checksum", "6 invalid packet ignored in state ESTABLISHED",
        ])
        let invalid = try #require(log.summary(.invalid)?.recent.first)
        #expect(invalid.proto == 6 && invalid.detail == "invalid new" && invalid.seconds == 102.000002)

        let drop = try #require(log.summary(.helperDrop)?.recent.first)
        #expect(drop.helper == "sip" && drop.detail == "cannot parse SDP message")
        #expect(log.summary(.noSuchHelper)?.recent.first?.helper == "ftp")
        #expect(log.summary(.trace)?.recent.map(\.detail) == ["raw:PREROUTING:rule:2", "raw:PREROUTING:policy:3"])
    }

    @Test func tableFullIsAttributedToTheNamespaceChecked() throws {
        let log = try #require(try fromDmesg(.success(CommandResult(exitStatus: 0, stdout: Self.dmesg618))).value)
        let child = NetnsIdentity(inode: .value(4_026_532_246), initial: false)
        let initial = NetnsIdentity(inode: .value(4_026_531_840), initial: true)
        // 6.17+: lines without a namespace are the initial namespace's.
        #expect(log.tableFull(for: child, kernel: KernelVersion(6, 18)) == TableFullCounts(
            thisNamespace: 2, otherNamespaces: 5, unattributed: 0, lastThisNamespace: 401))
        #expect(log.tableFull(for: initial, kernel: KernelVersion(6, 18)) == TableFullCounts(
            thisNamespace: 4, otherNamespaces: 3, unattributed: 0, lastThisNamespace: 310))
        // Before 6.17 a line without a namespace may be anyone's.
        #expect(log.tableFull(for: initial, kernel: KernelVersion(6, 12)) == TableFullCounts(
            thisNamespace: 0, otherNamespaces: 3, unattributed: 4, lastThisNamespace: nil))
    }

    /// The namespace's lines (400 s and 401 s) against when it is known to exist: lines all older than that may
    /// be an earlier namespace's with the same number; a namespace dated during them keeps them.
    @Test(arguments: [(399.0, 2, 0), (400.5, 2, 0), (401.5, 0, 2)])
    func tableFullLinesOlderThanTheNamespaceAreCountedApart(_ since: Double, _ mine: Int, _ before: Int) throws {
        let log = try #require(try fromDmesg(.success(CommandResult(exitStatus: 0, stdout: Self.dmesg618))).value)
        let child = NetnsIdentity(inode: .value(4_026_532_246), initial: false, datedSince: since)
        let counts = log.tableFull(for: child, kernel: KernelVersion(6, 18))
        #expect(counts.thisNamespace == mine)
        #expect(counts.beforeThisNamespace == before)
        #expect(counts.otherNamespaces == 5)
    }

    @Test func deniedKmsgAndFailingDmesgSayWhy() throws {
        let temp = try TemporaryRoot()
        try temp.write(KernelLogProbe.kmsg, "")
        chmod(temp.root.resolve(KernelLogProbe.kmsg), 0)
        try temp.write("/proc/sys/kernel/dmesg_restrict", "1\n")
        let context = ProbeContext(
            host: temp.root,
            runner: RecordedCommandRunner([KernelLogProbe.dmesgCommand: .success(CommandResult(
                exitStatus: 1, stdout: "", stderr: "dmesg: read kernel buffer failed: Operation not permitted"))]),
            toolVersion: "test", now: "now")
        let reading = KernelLogProbe.live(context)
        if getuid() == 0 {
            // Root opens a mode-000 file anyway; the empty file reads as no records.
            #expect(reading.value?.recordsRead == 0)
        } else {
            guard case .denied(let why) = reading else { Issue.record("expected denied, got \(reading)"); return }
            #expect(why.contains("needs CAP_SYSLOG (kernel.dmesg_restrict = 1)"))
            #expect(why.contains("`dmesg` exited 1: dmesg: read kernel buffer failed"))
        }
    }

    @Test func missingKmsgAndNoDmesgIsAbsent() throws {
        let reading = try fromDmesg(.failure(.notFound("dmesg")))
        guard case .absent(let why) = reading else { Issue.record("expected absent, got \(reading)"); return }
        #expect(why == "/dev/kmsg: No such file or directory; dmesg: not installed (not found on PATH)")
    }

    @Test func kmsgRecords() {
        let record = Array("4,1234,305000001,-;nf_conntrack: nf_conntrack: table full, dropping packet\n SUBSYSTEM=net\n".utf8)
        let parsed = KernelLogProbe.parseKmsgRecord(record[...])
        #expect(parsed?.seconds == 305.000001)
        #expect(parsed?.message == "nf_conntrack: nf_conntrack: table full, dropping packet")
        #expect(KernelLogProbe.parseKmsgRecord(Array("garbage".utf8)[...]) == nil)
        // A record no conntrack line could be keeps its time but is not made a String.
        let other = KernelLogProbe.parseKmsgRecord(Array("6,12,2000000,-;usb 1-1: new high-speed USB device\n".utf8)[...])
        #expect(other?.seconds == 2 && other?.message == "")
        #expect(KernelLogProbe.parseKmsgRecord(Array("6,12,-5,-;x".utf8)[...]) == nil, "a negative time is not a time")
    }

    @Test func syslogFileKeepsOnlyTheLastBoot() throws {
        let temp = try TemporaryRoot()
        try temp.write("/var/log/kern.log", """
            Feb 10 09:00:00 node kernel: [    0.000000] Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045)
            Feb 10 12:00:00 node kernel: [10800.000000] nf_conntrack: nf_conntrack: table full, dropping packet
            Feb 11 08:00:00 node kernel: [    0.000000] Linux version 5.15.0-91-generic (buildd@lcy02-amd64-045)
            Feb 11 08:00:01 node kernel: [    1.250000] nf_conntrack: falling back to vmalloc.
            Feb 11 08:10:00 node kernel: [  600.000000] nf_ct_proto_17: short packet IN=eth0 OUT= SRC=10.0.0.9
            Feb 11 08:10:00 node kernel: [  599.800000] CPU clocks differ a little: not a new boot
            Feb 11 08:11:00 node systemd[1]: Started Daily apt download activities.

            """)
        let log = try #require(KernelLogProbe.copied(temp.root).value)
        #expect(log.source == "/var/log/kern.log")
        #expect(log.count(.tableFull) == 0)
        #expect(log.count(.vmallocFallback) == 1)
        #expect(log.summary(.invalid)?.recent.first?.detail == "short packet")
        #expect(log.firstSeconds == 0 && log.lastSeconds == 599.8)
    }

    @Test func textLineFormats() {
        #expect(KernelLogProbe.parseTextLine("[ 1234.567890] nf_conntrack: expectation table full") ?? (nil, "")
            == (1234.56789, "nf_conntrack: expectation table full"))
        #expect(KernelLogProbe.parseTextLine("[    0.000000] kernel: Linux version 5.4.0") ?? (nil, "") == (0, "Linux version 5.4.0"))
        #expect(KernelLogProbe.parseTextLine("Feb 11 18:58:28 host kernel: [   12.5] xt_CT: No such helper \"sip\"") ?? (nil, "")
            == (12.5, "xt_CT: No such helper \"sip\""))
        #expect(KernelLogProbe.parseTextLine("[Firmware Bug]: TSC doesn't count") ?? (0, "") == (nil, "[Firmware Bug]: TSC doesn't count"))
        #expect(KernelLogProbe.parseTextLine("    continuation of the line before") == nil)
    }

    @Test func copiedRootWithoutALogIsAbsent() {
        let reading = KernelLogProbe.copied(Fixtures.root(Fixtures.monolithic))
        #expect(reading.value == nil)
        #expect(reading.problem?.hasPrefix("no kernel log in this root: /var/log/kern.log.1") == true)
    }
}
