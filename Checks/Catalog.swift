import DoctorCore

/// Every built-in check, in report order. A check is added here and nowhere else.
public enum Catalog {
    public static let all: [any Check] = [
        ConntrackPresentCheck(),
        LogInvalidCheck(),
        LoggingBackendCheck(),
        LoggingModuleCheck(),
        AllNetnsCheck(),
        TcpBeLiberalCheck(),
        TcpLooseCheck(),
        EventsEnabledCheck(),
        TcpEstablishedTimeoutCheck(),
        RulesInvalidDropCheck(),
        RulesTraceLeftoverCheck(),
        RulesNotrackCheck(),
        RulesBackendMixCheck(),
        HelpersAutoAssignCheck(),
        HelpersUnassignedCheck(),
        HelpersBroadCheck(),
        HelpersExpectationsCheck(),
        CtnetlinkAvailableCheck(),
        TableUsageCheck(),
        TableDropsCheck(),
        TableInsertFailedCheck(),
        TableBucketsCheck(),
        TableInvalidCheck(),
        TableTunnelTrafficCheck(),
        ConntrackListsCheck(),
        DynamicDebugCheck(),
        SysctlPersistenceCheck(),
    ]
}
