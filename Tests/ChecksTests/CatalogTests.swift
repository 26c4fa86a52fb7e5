import DoctorCore
import Foundation
import Testing
@testable import Checks

@Suite struct CatalogTests {
    /// The README's check table is the catalog's documentation: same ids, same order, same weights. Adding a check
    /// is its file, its catalog entry and its tests; this fails until the README row is added too.
    @Test func readmeTableMatchesTheCatalog() throws {
        let readme = try String(contentsOf: Self.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "\n## Checks\n").dropFirst().first)
        let rows = section.components(separatedBy: "\n## ").first!.split(separator: "\n").compactMap { line -> (String, Int)? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[0].hasPrefix("`"), let weight = Int(cells[1]) else { return nil }
            return (cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")), weight)
        }
        #expect(rows.map(\.0) == Catalog.all.map(\.info.id))
        #expect(rows.map(\.1) == Catalog.all.map(\.info.weight))
    }

    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test func idsAreUnique() {
        let ids = Catalog.all.map(\.info.id)
        #expect(Set(ids).count == ids.count)
    }

    @Test func everyCheckExplainsItselfAndCitesTheKernelDocs() {
        for check in Catalog.all {
            #expect(!check.info.rationale.isEmpty, "\(check.info.id)")
            #expect(check.info.references.contains { $0.hasPrefix("https://docs.kernel.org/networking/") }, "\(check.info.id)")
        }
    }

    @Test func everyFindingCarriesItsCheckIdOnTheDefaultSnapshot() {
        let snapshot = SnapshotBuilder().snapshot
        for check in Catalog.all {
            let f = check.evaluate(snapshot)
            #expect(f.id == check.info.id)
            // The default host is a 6.18 kernel, which no longer has the helper auto-assign switch, and logs nothing
            // (nf_conntrack_log_invalid = 0), so no logger binding or module is asked for.
            // A plain check never reads the table, so the tunnel check has nothing to judge.
            let notApplicable = ["helpers.auto-assign", "logging.backend", "logging.module"]
            let expected: CheckStatus = notApplicable.contains(f.id) ? .notApplicable : f.id == "table.tunnel-traffic" ? .skipped : .pass
            #expect(f.status == expected, "\(f.id): \(f.observed)")
        }
    }
}
