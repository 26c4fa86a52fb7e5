import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct NfLogProbeTests {
    func registry(_ root: HostRoot) -> NfLogRegistry {
        Fixtures.snapshot(root, [NfLogProbe()]).nfLog
    }

    @Test func monolithic618() throws {
        let registry = registry(Fixtures.root(Fixtures.monolithic))
        let families = try #require(registry.families.value)
        #expect(families.map(\.pf) == Array(0...10))
        #expect(registry.family(2) == NfLogFamily(pf: 2, bound: "nf_log_ipv4", registered: ["nf_log_ipv4", "nfnetlink_log"]))
        #expect(registry.family(10) == NfLogFamily(pf: 10, bound: "nf_log_ipv6", registered: ["nf_log_ipv6", "nfnetlink_log"]))
        #expect(registry.family(7)?.bound == "nf_log_bridge")
        #expect(registry.family(0) == NfLogFamily(pf: 0, bound: nil, registered: ["nfnetlink_log"]))
        #expect(registry.family(11) == nil)
    }

    @Test func debian61NothingRegistered() throws {
        let families = try #require(registry(Fixtures.root(Fixtures.modular61)).families.value)
        #expect(families.count == 11)
        #expect(families.allSatisfy { $0.bound == nil && $0.registered.isEmpty })
    }

    @Test func debian510NfLogIpv4() throws {
        let registry = registry(Fixtures.root(Fixtures.modular510))
        #expect(registry.families.value?.count == 13)
        #expect(registry.family(2) == NfLogFamily(pf: 2, bound: "nf_log_ipv4", registered: ["nf_log_ipv4"]))
        #expect(registry.family(10) == NfLogFamily(pf: 10, bound: nil, registered: []))
        #expect(registry.family(12) == NfLogFamily(pf: 12, bound: nil, registered: []))
    }

    @Test func ubuntu515NfLogSyslog() {
        let registry = registry(Fixtures.root(Fixtures.modular515))
        #expect(registry.family(2)?.bound == "nf_log_ipv4")
        #expect(registry.family(10)?.bound == "nf_log_ipv6")
        #expect(registry.family(10)?.registered == ["nf_log_ipv6"])
        #expect(registry.family(0)?.bound == nil)
    }

    @Test func toleratesWhiteSpace() {
        let text = "\n  2\tnf_log_ipv4   ( nf_log_ipv4 , nfnetlink_log )  \r\n10 NONE ()\n\n 4 NONE (nfnetlink_log)"
        #expect(NfLogProbe.parse(text) == .value([
            NfLogFamily(pf: 2, bound: "nf_log_ipv4", registered: ["nf_log_ipv4", "nfnetlink_log"]),
            NfLogFamily(pf: 10, bound: nil, registered: []),
            NfLogFamily(pf: 4, bound: nil, registered: ["nfnetlink_log"]),
        ]))
        #expect(NfLogProbe.parse("") == .value([]))
    }

    @Test(arguments: [
        " 2 nf_log_ipv4 nf_log_ipv4\n",
        " x NONE ()\n",
        " 2 (nf_log_ipv4)\n",
        " 2 two words (nf_log_ipv4)\n",
        " 2 NONE (a(b))\n",
        "-1 NONE ()\n",
    ])
    func rejectsMalformedLines(_ bad: String) {
        let text = " 0 NONE ()\n 1 NONE ()\n" + bad
        guard case .failed(let why) = NfLogProbe.parse(text) else {
            Issue.record("accepted \(bad.debugDescription)")
            return
        }
        #expect(why.contains("line 3"))
        #expect(why.contains(NfLogProbe.path))
    }

    @Test func missingFileIsAbsent() throws {
        let temp = try TemporaryRoot()
        guard case .absent(let why) = registry(temp.root).families else {
            Issue.record("expected absent")
            return
        }
        #expect(why.contains("/proc/net/netfilter/nf_log"))
    }
}
