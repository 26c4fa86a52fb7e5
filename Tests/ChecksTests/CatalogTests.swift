import DoctorCore
import Testing
@testable import Checks

@Suite struct CatalogTests {
    @Test func holdsEveryCheckInReportOrder() {
        #expect(Catalog.all.map(\.info.id) == [
            "conntrack.present", "logging.log-invalid", "logging.backend", "logging.module", "logging.all-netns",
            "tcp.be-liberal", "tcp.loose", "events.enabled", "timeouts.tcp-established",
            "rules.invalid-drop", "rules.trace-leftover", "rules.notrack", "rules.backend-mix",
            "helpers.auto-assign", "helpers.unassigned", "helpers.broad", "helpers.expectations",
            "ctnetlink.available", "table.usage", "table.drops", "table.insert-failed", "table.buckets",
            "table.invalid", "table.tunnel-traffic", "lists.unconfirmed-dying", "debug.dynamic-debug", "sysctl.persistence",
        ])
    }

    @Test func idsAreUnique() {
        let ids = Catalog.all.map(\.info.id)
        #expect(Set(ids).count == ids.count)
    }

    @Test func weightsMatchTheCatalog() {
        #expect(Catalog.all.map(\.info.weight) == [15, 6, 10, 10, 6, 6, 8, 6, 8, 10, 4, 6, 6, 6, 4, 6, 6, 6, 15, 12, 8, 6, 6, 6, 4, 4, 8])
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
