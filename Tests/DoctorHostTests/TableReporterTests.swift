import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct TableReporterTests {
    func report(_ summary: TableSummary) -> TopReport {
        var snapshot = HostSnapshot(takenAt: "t", toolVersion: "v")
        snapshot.host.kernelRelease = .value("6.18.44")
        snapshot.host.netns = NetnsIdentity(inode: .value(42), initial: false, basis: "b", name: "demo")
        return TopReport(snapshot: snapshot, summary: summary)
    }

    @Test func rendersCountsListsAndHistograms() {
        var summarizer = TableSummarizer(topK: 2, nowNanoseconds: TableSummarizerTests.now)
        for _ in 0..<5 { summarizer.add(TableSummarizerTests.entry(state: 7, timeout: 100)) }
        for _ in 0..<3 { summarizer.add(TableSummarizerTests.entry(17, dport: 53, status: 0, timeout: 25)) }
        let text = TableReporter().render(report(summarizer.summary(countBefore: 8, countAfter: 8, seconds: 0.25)))
        #expect(text.hasPrefix("ctdoctor top · netns 42 (/run/netns/demo) · kernel 6.18.44 · 8 entries (count 8 before, 8 after) · dumped in 0.25 s\n"))
        #expect(text.contains("protocols   tcp 5 (62.5%) · udp 3 (37.5%)"))
        #expect(text.contains("tcp states  TIME_WAIT 5 (100.0%)"))
        #expect(text.contains("flags       [ASSURED] 5 · [UNREPLIED] 3"))
        #expect(text.contains("top destination ports\n            5   62.5%  tcp/443\n            3   37.5%  udp/53\n"))
        #expect(text.contains("  ≤ 1 min           3   37.5%  ██████████████████"))
        #expect(!text.contains("sketch"))
    }

    @Test func sketchedCountsShowTheirRange() {
        let summary = TableSummary(entries: 100, topSources: [TopItem(key: "10.0.0.1", count: 32, overcount: 31)])
        let text = TableReporter().render(report(summary))
        #expect(text.contains("         1–32   32.0%  10.0.0.1"))
        #expect(text.contains("a range is where the true count lies"))
    }

    @Test func emptyTableSaysWhy() {
        let text = TableReporter().render(report(TableSummary(entries: 0, countBefore: 0, countAfter: 0)))
        #expect(text.contains("The table of this network namespace is empty."))
        #expect(!text.contains("time left"))
    }
}
