import DoctorCore
/// The probes a snapshot is made of, in the order they must run (later ones read what earlier ones found).
public enum Probes {
    public static let standard: [any Probe] = [
        HostIdentityProbe(),
        KernelConfigProbe(),
        SysctlProbe(),
        NfLogProbe(),
        ModuleProbe(),
        ConntrackStatsProbe(),
        CtnetlinkProbe(),
        ExpectationProbe(),
        ConntrackListsProbe(),
        SlabProbe(),
        RulesetProbe(),
        HelperProbe(),
        KernelLogProbe(),
        DynamicDebugProbe(),
        PersistenceProbe(),
        CounterSampleProbe(),
        TableDumpProbe(),
        ConntrackListingProbe(),
    ]
}

/// Takes a snapshot: stamps when, by which version and from which root, then runs the probes in order.
public enum SnapshotTaker {
    public static func take(_ context: ProbeContext, probes: [any Probe] = Probes.standard) -> HostSnapshot {
        var snapshot = HostSnapshot(takenAt: context.now, toolVersion: context.toolVersion, root: context.host.path)
        for probe in probes {
            probe.collect(into: &snapshot, context: context)
        }
        SosreportCoverage.mark(&snapshot, context.host)
        return snapshot
    }
}
