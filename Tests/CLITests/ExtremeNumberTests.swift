import Checks
import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Every number of a real snapshot, and every string that holds an integer (sysctl values), set to an extreme —
/// one section at a time, then all at once — is judged or refused, never a trap: the checks, the score and gate,
/// every report format, the fix script and `top`'s table all run in this process, so a trap ends the test run.
/// The bases are real: each sosreport under test as `snapshot --sos` reads it, and (as root) this kernel's
/// `snapshot --deep` of a namespace with traffic, rules and entries. UInt64.max is there for the counters. Found
/// the unchecked sums of "table full" line counts, rule counts and dynamic-debug sites.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct ExtremeNumberTests {
    static let extremes: [NSNumber] = ([Int64.max, .min, 1 << 62, 1 << 32, -1, 0] as [Int64]).map { NSNumber(value: $0) }
        + [NSNumber(value: UInt64.max)]
    static let metadata: Set<String> = ["schema", "toolVersion", "takenAt"]

    /// `node` with every number and integer string replaced by `value`; booleans and other strings stay.
    static func extreme(_ node: Any, _ value: NSNumber) -> Any {
        switch node {
        case is Bool: return node
        case is NSNumber: return value
        case let text as String: return Int64(text) != nil ? value.stringValue : text
        case let array as [Any]: return array.map { extreme($0, value) }
        case let object as [String: Any]: return object.mapValues { extreme($0, value) }
        default: return node
        }
    }

    /// Judges `snapshot` and renders it every way a person or a pipeline can see it.
    static func judgeAndRenderAll(_ snapshot: HostSnapshot) throws {
        let findings = CheckEngine.run(Catalog.all, on: snapshot)
        let report = Report(snapshot: snapshot, findings: findings)
        _ = Gate().outcome(for: report)
        _ = TextReporter(detail: .verbose).render(report)
        _ = MarkdownReporter.render(report)
        _ = TAPReporter.render(report)
        _ = JUnitReporter.render(report)
        _ = PrometheusReporter.render(report, snapshot: snapshot)
        _ = try JSONReporter.render(report)
        _ = try SARIFReporter.render(report)
        let plan = FixPlan(findings: findings, only: nil, includeDisruptive: true, initialNamespace: snapshot.host.netns.initial ?? true)
        _ = FixScript.render(plan, header: FixScript.Header(hostname: "h", kernel: "k", netns: "n", time: "t"))
        if let summary = snapshot.tableSummary.value {
            _ = TableReporter().render(TopReport(snapshot: snapshot, summary: summary))
        }
    }

    /// Runs every extreme over every section of `base` (a snapshot document); returns how many variants decoded
    /// (the others were refused as bad input, which is allowed).
    static func sweep(_ base: Data) throws -> Int {
        let document = try #require(try JSONSerialization.jsonObject(with: base) as? [String: Any])
        let sections = document.keys.filter { !metadata.contains($0) }.sorted()
        var decoded = 0
        for value in extremes {
            for changed in sections.map({ [$0] }) + [sections] {
                var variant = document
                for key in changed { variant[key] = extreme(document[key] as Any, value) }
                let bytes = [UInt8](try JSONSerialization.data(withJSONObject: variant))
                guard let snapshot = try? SnapshotFile.decode(bytes, path: "variant.json") else { continue }
                try judgeAndRenderAll(snapshot)
                decoded += 1
            }
        }
        return decoded
    }

    static let sosreports = ["ubuntu-5.4-kubernetes-node", "ubuntu-5.4-lxd-container-rabbitmq", "ubuntu-6.8-sunbeam-partial"]

    @Test(arguments: sosreports)
    func sosreportSnapshotAtTheExtremes(_ name: String) throws {
        let dir = Binary.packageRoot.appendingPathComponent("Tests/DoctorHostTests/Fixtures/sosreport/\(name)").path
        let result = try Binary.run(["snapshot", "--sos", dir])
        try #require(result.exitStatus == 0, "\(result.stderr)")
        let decoded = try Self.sweep(Data(result.stdout.utf8))
        #expect(decoded > Self.extremes.count, "most variants decode: the sweep reached the checks")
    }

    @Test(.enabled(if: Binary.isRoot, "a live snapshot with a table dump needs root and a network namespace"))
    func liveDeepSnapshotAtTheExtremes() throws {
        let ns = try Namespace()
        let tools = Binary.packageRoot.appendingPathComponent("Tests/Scenarios/tools").path
        try ns.exec(["sh", "-ec", """
            nft add table inet ctd
            nft add chain inet ctd out '{ type filter hook output priority 0; }'
            nft add rule inet ctd out ct state new counter
            nft add rule inet ctd out ct state invalid drop
            python3 \(tools)/make-traffic 5 3
            python3 \(tools)/fill-conntrack 300
            """], mustSucceed: true)
        let result = try ns.ctdoctor(["snapshot", "--deep"])
        try #require(result.exitStatus == 0, "\(result.stderr)")
        let snapshot = try SnapshotFile.decode([UInt8](result.stdout.utf8), path: "live.json")
        try #require(snapshot.tableSummary.value?.entries == 308, "the dump is part of the base")
        #expect(try Self.sweep(Data(result.stdout.utf8)) > Self.extremes.count)
    }
}
