import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct ConntrackStatsProbeTests {
    func stats(_ root: HostRoot) -> Reading<ConntrackStats> {
        Fixtures.snapshot(root, [ConntrackStatsProbe()]).stats
    }

    @Test func monolithic618SumsByName() throws {
        let stats = try #require(stats(Fixtures.root(Fixtures.monolithic)).value)
        #expect(stats.source == "/proc/net/stat/nf_conntrack")
        #expect(stats.cpus == 2)
        #expect(stats.counters["entries"] == 3)
        #expect(stats.counters["clash_resolve"] == 3)
        #expect(stats.counters["found"] == 2)
        #expect(stats.counters["invalid"] == 0x0a + 0x10)
        #expect(stats.counters["chaintoolong"] == 1)
        #expect(stats.counters["insert"] == 0)
        #expect(stats.counters["insert_failed"] == 5)
        #expect(stats.counters["drop"] == 5)
        #expect(stats.counters["early_drop"] == 6)
        #expect(stats.counters["error"] == 8)
        #expect(stats.counters["search_restart"] == 10)
        #expect(stats.counters["expect_new"] == 0)
        #expect(stats.counters["new"] == 0)
        for procName in ["clashres", "chainlength", "icmp_error", "searched", "delete_list"] {
            #expect(stats.counters[procName] == nil, "\(procName) should not appear")
        }
        #expect(stats.counters.count == 17)
    }

    @Test func debian61FourCPUs() throws {
        let stats = try #require(stats(Fixtures.root(Fixtures.modular61)).value)
        #expect(stats.cpus == 4)
        #expect(stats.counters["entries"] == 12)
        #expect(stats.counters["invalid"] == 3)
    }

    @Test func debian510KeepsDeleteList() throws {
        let stats = try #require(stats(Fixtures.root(Fixtures.modular510)).value)
        #expect(stats.cpus == 2)
        #expect(stats.counters["entries"] == 250)
        #expect(stats.counters["clash_resolve"] == 7)
        #expect(stats.counters["delete_list"] == 0)
        #expect(stats.counters["chaintoolong"] == nil)
        #expect(stats.counters["invalid"] == 0x20 + 0x11)
        #expect(stats.counters["insert_failed"] == 2)
        #expect(stats.counters["search_restart"] == 1)
    }

    @Test func ubuntu515() throws {
        let stats = try #require(stats(Fixtures.root(Fixtures.modular515)).value)
        #expect(stats.counters["entries"] == 4096)
        #expect(stats.counters["clash_resolve"] == 0x30)
        #expect(stats.counters["invalid"] == 0x300)
        #expect(stats.counters["chaintoolong"] == 1)
        #expect(stats.counters["insert_failed"] == 7)
        #expect(stats.counters["drop"] == 2)
        #expect(stats.counters["search_restart"] == 4)
    }

    @Test func pre510HeaderKeepsSearchedAndDeleteList() throws {
        // As printed by 5.4 (and every kernel before the 5.10 rename), with the trailing space of old kernels.
        let text = """
            entries  searched found new invalid ignore delete delete_list insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
            00000385  00000000 00000000 00000000 00000007 00000000 00000000 00000000 00000000 00000001 00000000 00000000 00000002  00000000 00000000 00000000 00000003 
            00000385  00000000 00000001 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000 

            """
        let stats = try #require(ConntrackStatsProbe.parse(text).value)
        #expect(stats.cpus == 2)
        #expect(stats.counters["entries"] == 0x385)
        #expect(stats.counters["searched"] == 0)
        #expect(stats.counters["delete_list"] == 0)
        #expect(stats.counters["clash_resolve"] == nil)
        #expect(stats.counters["invalid"] == 8)
        #expect(stats.counters["error"] == 2)
        #expect(stats.counters["search_restart"] == 3)
    }

    @Test func columnsAreFoundByNameNotPosition() throws {
        let text = "drop invalid entries icmp_error\nff 1 9 2\n01 2 9 0\n"
        let stats = try #require(ConntrackStatsProbe.parse(text).value)
        #expect(stats.counters == ["drop": 0x100, "invalid": 3, "entries": 9, "error": 2])
    }

    @Test(arguments: [
        ("entries drop\n00000001\n", "line 2 has 1 values for 2 columns"),
        ("entries drop\n00000001 0000zz00\n", "line 2: drop = \"0000zz00\" is not hexadecimal"),
        ("entries drop\n\n00000001 00000002\n00000001\n", "line 4 has 1 values"),
        ("00000001 00000002\n00000001 00000002\n", "line 1 is not a header"),
        ("entries drop\n", "has a header but no rows"),
        ("", "is empty"),
    ])
    func malformedFilesFail(_ text: String, _ expected: String) {
        guard case .failed(let why) = ConntrackStatsProbe.parse(text) else {
            Issue.record("accepted \(text.debugDescription)")
            return
        }
        #expect(why.contains(expected), "\(why)")
    }

    @Test func missingFileSaysWhy() throws {
        let temp = try TemporaryRoot()
        guard case .absent(let why) = stats(temp.root) else {
            Issue.record("expected absent")
            return
        }
        #expect(why.contains("/proc/net/stat/nf_conntrack"))
        #expect(why.contains("kernel built without CONFIG_NF_CONNTRACK_PROCFS or conntrack not loaded"))
    }

    @Test func procfsRowsAreKeptPerCPU() throws {
        let text = """
            entries  clashres found invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart
            00000007  00000000 00000000 00000003 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000
            00000007  00000000 00000000 00000010 00000000 00000000 00000000 00000000 00000000 00000002 00000000 00000000  00000000 00000000 00000000 00000000
            """
        let rows = try #require(ConntrackStatsProbe.parseRows(text).value)
        #expect(rows.count == 2)
        #expect(rows[1]["invalid"] == 16 && rows[1]["drop"] == 2 && rows[0]["clash_resolve"] == 0)
        let summed = try #require(ConntrackStatsProbe.parse(text).value)
        #expect(summed.counters["invalid"] == 19 && summed.counters["entries"] == 7 && summed.cpus == 2)
    }
}
