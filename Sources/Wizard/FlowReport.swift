import Foundation
import DoctorCore

/// The result of a wizard run as one JSON document (`--format json`): steps, evidence, trace paths, reasons,
/// changes made and undone.
public struct FlowReport: Sendable, Codable {
    public static let schemaID = "ctdoctor.wizard/1"

    public struct Change: Sendable, Codable, Equatable {
        public var what: String
        /// made, restored, kept, not-restored, failed.
        public var state: String
        public var message: String?

        public init(what: String, state: String, message: String? = nil) {
            self.what = what
            self.state = state
            self.message = message
        }
    }

    public var schema = schemaID
    public var symptom: Symptom?
    public var dryRun: Bool
    public var request: FlowRequest?
    public var steps: [FlowState.Record]
    public var findings: [Finding]
    public var route: Route?
    public var trace: TraceResult?
    public var invalid: InvalidResult?
    public var table: TableEvidence?
    public var conclusion: [String]
    public var fixes: [FixResult]
    public var failures: [String]
    public var causeFound: Bool
    public var quit: Bool
    public var escalation: [String]
    public var changes: [Change]
    public var journal: String?

    public init(state: FlowState?, dryRun: Bool, changes: [Change], journal: String?) {
        symptom = state?.symptom
        self.dryRun = dryRun
        request = state?.request
        steps = state?.steps ?? []
        findings = state?.findings ?? []
        route = state?.route
        trace = state?.trace
        invalid = state?.invalid
        table = state?.table
        conclusion = state?.conclusion ?? []
        fixes = state?.fixes ?? []
        failures = state?.failures ?? []
        causeFound = state.map(Self.causeFound) ?? false
        quit = state?.quit ?? false
        let found = causeFound
        escalation = state.map { s in found ? [] : Escalation.commands(for: s.request, symptom: s.symptom, backend: s.traceBackend) } ?? []
        self.changes = changes
        self.journal = journal
    }

    /// A dropping rule named, INVALID reasons seen, a cause an effect named, a failing check that is this symptom's
    /// cause, or a fix that made its check pass.
    public static func causeFound(_ state: FlowState) -> Bool {
        if state.causeFound { return true }
        if state.findings.contains(where: { $0.status == .fail && state.symptom.causeChecks.contains($0.id) }) { return true }
        if let path = state.trace?.analysis.deciding, case .dropped = path.fate { return true }
        if let invalid = state.invalid, invalid.total > 0 { return true }
        return state.fixes.contains { $0.failure == nil && $0.recheck.values.contains("pass") }
    }
}
