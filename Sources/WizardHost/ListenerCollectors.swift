import Wizard

// Placeholders until the netlink listeners (branch `listeners`) are merged.
struct TraceCollector {
    let effects: HostEffects
    func run(_ plan: TracePlan) -> EffectResult { .failed("the nf_tables trace listener is not in this build yet") }
}

struct InvalidCollector {
    let effects: HostEffects
    func run(_ plan: InvalidPlan) -> EffectResult { .failed("the nfnetlink_log listener is not in this build yet") }
}

struct EventsLiveTest {
    func run() -> EffectResult { .failed("the conntrack event listener is not in this build yet") }
}
