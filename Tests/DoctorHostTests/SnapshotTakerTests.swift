import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct SnapshotTakerTests {
    @Test func standardOrderLetsLaterProbesReadEarlierOnes() {
        #expect(Probes.standard.map(\.name) == [
            HostIdentityProbe().name, KernelConfigProbe().name, SysctlProbe().name,
            NfLogProbe().name, ModuleProbe().name, ConntrackStatsProbe().name, CtnetlinkProbe().name,
            ExpectationProbe().name, ConntrackListsProbe().name, SlabProbe().name, RulesetProbe().name, HelperProbe().name,
            KernelLogProbe().name, DynamicDebugProbe().name, PersistenceProbe().name, CounterSampleProbe().name,
            TableDumpProbe().name, ConntrackListingProbe().name,
        ])
    }

    @Test(arguments: Fixtures.all)
    func takesAWholeSnapshotThatSurvivesJSON(_ name: String) throws {
        let root = Fixtures.root(name)
        let context = ProbeContext(host: root, runner: RecordedCommandRunner(), toolVersion: "9.9.9", now: "2025-06-01T12:00:00Z")
        let snapshot = SnapshotTaker.take(context)
        #expect(snapshot.schema == HostSnapshot.schemaID)
        #expect(snapshot.takenAt == "2025-06-01T12:00:00Z")
        #expect(snapshot.toolVersion == "9.9.9")
        #expect(snapshot.root == root.path)
        #expect(snapshot.host.kernelRelease.value != nil)
        #expect(snapshot.sysctls.entries.value?.isEmpty == false)
        #expect(snapshot.nfLog.families.value?.isEmpty == false)
        #expect(snapshot.stats.value != nil)
        #expect(snapshot.modules.modules.count == ModuleInventory.tracked.count)
        // A copied root runs no command: every ruleset tool is recorded as not run.
        #expect(snapshot.ruleset.nothingRead)

        let data = try JSONEncoder().encode(snapshot)
        #expect(try JSONDecoder().decode(HostSnapshot.self, from: data) == snapshot)
    }

    @Test func customProbeListRunsOnlyThose() {
        let context = Fixtures.context(Fixtures.root(Fixtures.monolithic))
        let snapshot = SnapshotTaker.take(context, probes: [NfLogProbe()])
        #expect(snapshot.nfLog.family(2)?.bound == "nf_log_ipv4")
        #expect(snapshot.host == HostInfo())
        #expect(snapshot.stats == .failed("not probed"))
    }
}
