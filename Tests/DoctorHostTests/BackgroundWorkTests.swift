import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// Probes whose reading needs nothing the others find run on threads of their own; the snapshot must not differ.
@Suite struct BackgroundWorkTests {
    @Test func workRunsOnAnotherThreadAndIsTakenOnce() throws {
        let batch = CommandBatch()
        let caller = pthread_self()
        batch.startWork("tid") { pthread_self() }
        let worker = try #require(batch.takeWork("tid") as? pthread_t)
        #expect(pthread_equal(worker, caller) == 0)
        #expect(batch.takeWork("tid") == nil)
        #expect(batch.takeWork("never started") == nil)
    }

    @Test func aSnapshotEqualsItsProbesRunOneByOne() throws {
        // The persistence fixture has a boot configuration to read; the kernel roots have none (absent, equally).
        for name in Fixtures.all + [PersistenceProbeTests.root] {
            let context = Fixtures.context(Fixtures.root(name))
            let taken = SnapshotTaker.take(context)
            var alone = HostSnapshot(takenAt: context.now, toolVersion: context.toolVersion, root: context.host.path)
            for probe in [SlabProbe(), PersistenceProbe()] as [any Probe] { probe.collect(into: &alone, context: context) }
            #expect(taken.conntrackSlab == alone.conntrackSlab, "\(name)")
            #expect(taken.persisted == alone.persisted, "\(name)")
            if name == PersistenceProbeTests.root { #expect(taken.persisted.value?.sysctls.isEmpty == false) }
        }
    }

    @Test func theFirstLiveSnapshotAdoptsTheEarlyRead() throws {
        KernelLogProbe.startEarly()
        let batch = CommandBatch()
        let context = ProbeContext(host: HostRoot("/"), runner: RecordedCommandRunner(), toolVersion: "test", now: "now")
        KernelLogProbe().prefetch(into: batch, context: context)
        #expect(KernelLogProbe.takeEarly() == nil)
        let read = try #require(batch.takeWork(KernelLogProbe.probeName) as? Reading<KernelLog>)
        // Readable as root (the test host); otherwise the reason, never an empty log.
        if geteuid() == 0 { #expect(read.value?.source == KernelLogProbe.kmsg) } else { #expect(read.problem != nil) }
    }

    @Test func aCopiedRootNeitherTakesNorStartsAKernelLogRead() throws {
        let batch = CommandBatch()
        KernelLogProbe().prefetch(into: batch, context: Fixtures.context(Fixtures.root(Fixtures.monolithic)))
        #expect(batch.takeWork(KernelLogProbe.probeName) == nil)
    }
}
