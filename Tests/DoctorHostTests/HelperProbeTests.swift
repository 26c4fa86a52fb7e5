import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct HelperProbeTests {
    func facts(_ root: HostRoot, _ runner: any CommandRunner, config: KernelConfig = KernelConfig()) -> HelperFacts {
        var snapshot = HostSnapshot()
        snapshot.kernelConfig = config
        HelperProbe().collect(into: &snapshot, context: ProbeContext(host: root, runner: runner, toolVersion: "t", now: "n"))
        return snapshot.helpers
    }

    @Test func expectationsAreCountedOneLineEach() throws {
        let temp = try TemporaryRoot()
        try temp.write(HelperProbe.expectPath, """
            297 l3proto = 2 proto=6 src=10.0.0.1 dst=10.0.0.2 sport=0 dport=40123 ftp
            -1 l3proto = 2 proto=17 src=10.0.0.5 dst=10.0.0.9 sport=0 dport=5062 PERMANENT sip/signalling

            """)
        let f = facts(temp.root, ToolTable(answers: [:]))
        #expect(f.expectations == .value(ExpectationCount(count: 2, source: "/proc/net/nf_conntrack_expect (one line per expectation)")))
        try temp.write(HelperProbe.expectPath, "")
        #expect(facts(temp.root, ToolTable(answers: [:])).expectations.value?.count == 0)
    }

    @Test func noExpectFileIsAbsent() {
        guard case .absent(let why) = facts(Fixtures.root(Fixtures.monolithic), ToolTable(answers: [:])).expectations else {
            Issue.record("expected absent")
            return
        }
        #expect(why.contains("/proc/net/nf_conntrack_expect"))
    }

    @Test func nfctWithoutCthelperSupportIsAbsent() {
        let config = KernelConfig(source: .value("/proc/config.gz"), options: ["CONFIG_NF_CT_NETLINK": "y"])
        let f = facts(Fixtures.root(Fixtures.monolithic), RecordedCommands.runner("empty"), config: config)
        #expect(f.userspace == .absent(
            "nfct helper list exited with status 1: nfct v1.4.7: netlink error: Invalid argument "
                + "(this kernel is built without CONFIG_NF_CT_NETLINK_HELPER: no userspace helpers)"))
        // Without a configuration to explain it, the failure stays a failure.
        if case .failed = facts(Fixtures.root(Fixtures.monolithic), RecordedCommands.runner("empty")).userspace {} else {
            Issue.record("expected failed")
        }
    }

    @Test func nfctDeniedAndMissing() {
        #expect(facts(HostRoot("/nonexistent"), RecordedCommands.runner("nobody")).userspace
            == .denied("nfct helper list: nfct v1.4.7: netlink error: Operation not permitted"))
        #expect(facts(HostRoot("/nonexistent"), ToolTable(answers: [:])).userspace == .absent("nfct is not installed"))
    }

    /// The block libnetfilter_cthelper's nfct_helper_snprintf prints per helper (its format string, filled in).
    @Test func nfctListNamesEachHelper() {
        let listing = """
            {
            \t.name = ftp,
            \t.queuenum = 0,
            \t.l3protonum = 2,
            \t.l4protonum = 6,
            \t.priv_data_len = 24,
            \t.status = enabled,
            };{
            \t.name = tns,
            \t.queuenum = 1,
            \t.l3protonum = 2,
            \t.l4protonum = 6,
            \t.priv_data_len = 0,
            \t.status = disabled,
            };
            """
        #expect(HelperProbe.parseNfct(listing) == ["ftp", "tns"])
    }
}
