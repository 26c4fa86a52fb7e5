import Foundation
import DoctorCore

/// Something a card asks the driver to do on the host. Cards stay pure: they describe the effect, the driver
/// performs it (journaling every change first) and hands back an `EffectResult`.
public enum Effect: Sendable {
    /// Read-only: take a snapshot and run these checks.
    case runChecks([String])
    /// A fix the person chose: journaled, applied, verified, then the checks it fixes run again.
    case applyFix([FixPlan.Item])
    /// Read-only: how this host reaches `destination` (local, a route, none).
    case locate(destination: String)
    /// Read-only: which rules the trace must follow (only iptables-legacy rules: the legacy TRACE path).
    case traceBackend
    /// Temporary trace table, listen, collect the flow's conntrack entry and events.
    case trace(TracePlan)
    /// Temporary log_invalid and logger binding, listen on nfnetlink_log.
    case listenInvalid(InvalidPlan)
    /// Read-only: counters sampled over `seconds` and the table streamed once.
    case sampleTable(seconds: Int)
    /// Read-only: helper checks, the expectation table, and the connections to the service's port with their helper.
    case inspectHelpers(port: UInt16, proto: FlowRequest.Proto)
    /// Create a flow and watch for its NEW event.
    case eventsLiveTest
    /// Read-only: who subscribes to conntrack events in this namespace.
    case eventListeners
    /// Read-only: the unconfirmed and dying lists, sampled `times` times a second apart.
    case sampleLists(times: Int)

    /// What the effect changes, shown before it runs (empty: read-only).
    public var changes: [RemediationStep] {
        switch self {
        case .applyFix(let items): items.map(\.step)
        case .trace(let plan): plan.changes
        case .listenInvalid(let plan): plan.changes
        default: []
        }
    }
}

/// What happened when an effect ran.
public enum EffectResult: Sendable {
    case findings([Finding])
    case fixed(FixResult)
    case located(Route)
    case traced(TraceResult)
    case backend(TracePlan.Backend, why: String)
    case invalid(InvalidResult)
    /// Lines of evidence from a read-only effect, with the findings it ran and the causes it named (none: not found).
    case report(lines: [String], findings: [Finding], causes: [String] = [])
    /// The table-full flow's sample, with the findings of the same snapshot.
    case table(TableEvidence, findings: [Finding])
    /// The effect could not run; why.
    case failed(String)
}

public struct FixResult: Sendable, Codable, Equatable {
    public var applied: [String]
    public var failure: String?
    /// Check id → status after the fix.
    public var recheck: [String: String]

    public init(applied: [String], failure: String?, recheck: [String: String]) {
        self.applied = applied
        self.failure = failure
        self.recheck = recheck
    }
}

public struct Route: Sendable, Codable, Equatable {
    /// The destination is an address of this namespace.
    public var local: Bool
    /// Some route leads there.
    public var reachable: Bool
    /// `ip route get` as it printed it.
    public var text: String

    public init(local: Bool, reachable: Bool, text: String) {
        self.local = local
        self.reachable = reachable
        self.text = text
    }
}
