import Foundation
import DoctorCore

/// One step of a flow, as data.
public struct Step: Sendable {
    public enum Kind: Sendable {
        /// Read-only: performed as soon as the step is reached, without asking.
        case auto(Effect)
        /// Ask for one field of the request (skipped when a flag gave it).
        case question(FlowRequest.Field)
        /// Propose a step: run / skip / explain / quit.
        case propose(Effect)
        /// A yes/no choice recorded under `name`: run = yes, skip = no.
        case confirm(name: String)
        /// Evidence to read; any key goes on.
        case show
    }

    public var id: String
    public var title: String
    public var lines: [String]
    public var explain: String
    public var kind: Kind

    public init(id: String, title: String, lines: [String] = [], explain: String, kind: Kind) {
        self.id = id
        self.title = title
        self.lines = lines
        self.explain = explain
        self.kind = kind
    }
}

/// What a flow has learnt and done so far; its JSON form is `--format json`'s result.
public struct FlowState: Sendable, Codable {
    public struct Record: Sendable, Codable, Equatable {
        public var id: String
        public var title: String
        /// ran, skipped, shown, answered, failed.
        public var outcome: String
        public var lines: [String]
    }

    public var symptom: Symptom
    public var request: FlowRequest
    public var findings: [Finding] = []
    public var choices: [String: Bool] = [:]
    public var route: Route?
    public var trace: TraceResult?
    public var traceBackend: TracePlan.Backend?
    public var invalid: InvalidResult?
    public var table: TableEvidence?
    public var fixes: [FixResult] = []
    public var failures: [String] = []
    public var steps: [Record] = []
    /// The flow named a cause (a dropping rule, INVALID reasons, a failing check it could fix).
    public var causeFound = false
    public var conclusion: [String] = []
    public var escalation: [String] = []
    public var quit = false

    public init(symptom: Symptom, request: FlowRequest) {
        self.symptom = symptom
        self.request = request
    }

    public func finding(_ id: String) -> Finding? { findings.last { $0.id == id } }

    mutating func merge(_ found: [Finding]) {
        findings.removeAll { f in found.contains { $0.id == f.id } }
        findings += found
    }

    mutating func record(_ result: EffectResult) {
        switch result {
        case .findings(let found), .report(_, let found, _):
            merge(found)
            if case .report(_, _, let causes) = result, !causes.isEmpty {
                causeFound = true
                conclusion += causes
            }
        case .table(let evidence, let found):
            merge(found)
            table = evidence
            if !evidence.causes().isEmpty {
                causeFound = true
                conclusion += evidence.causes()
            }
        case .fixed(let fix): fixes.append(fix)
        case .located(let r): route = r
        case .traced(let t): trace = t
        case .backend(let b, _): traceBackend = b
        case .invalid(let i): invalid = i
        case .failed(let why): failures.append(why)
        }
    }
}

/// A flow: stages that each expand, when reached, into the steps that fit what was learnt so far.
public struct FlowMachine: Sendable {
    public typealias Stage = @Sendable (FlowState) -> [Step]

    public private(set) var state: FlowState
    private let stages: [Stage]
    private var nextStage = 0
    private var queue: [Step] = []

    public init(state: FlowState, stages: [Stage]) {
        self.state = state
        self.stages = stages
        fill()
    }

    /// The step to show now; nil when the flow is finished.
    public var current: Step? { queue.first }

    /// Record what happened to the current step and move on.
    public mutating func advance(_ outcome: String, result: EffectResult? = nil) {
        guard let step = queue.first else { return }
        var lines: [String] = []
        if let result {
            state.record(result)
            lines = Self.summary(result)
        }
        state.steps.append(.init(id: step.id, title: step.title, outcome: outcome, lines: lines))
        queue.removeFirst()
        fill()
    }

    public mutating func choose(_ name: String, _ yes: Bool) {
        state.choices[name] = yes
        advance(yes ? "ran" : "skipped")
    }

    public mutating func answer(_ field: FlowRequest.Field, _ text: String) -> String? {
        if let refusal = state.request.set(field, text) { return refusal }
        advance("answered")
        return nil
    }

    public mutating func quit() {
        state.quit = true
        queue.removeAll()
        nextStage = stages.count
    }

    private mutating func fill() {
        while queue.isEmpty && nextStage < stages.count {
            queue = stages[nextStage](state).filter { step in
                if case .question(let field) = step.kind { return !state.request.has(field) }
                return true
            }
            nextStage += 1
        }
    }

    static func summary(_ result: EffectResult) -> [String] {
        switch result {
        case .findings(let f): f.map { "\($0.id): \($0.status.rawValue)" }
        case .report(let lines, _, let causes): lines + causes.map { "⇒ \($0)" }
        case .table(let evidence, _): evidence.lines()
        case .fixed(let fix): fix.applied + (fix.failure.map { ["failed: \($0)"] } ?? [])
        case .located(let r): [r.text]
        case .traced(let t): t.analysis.paths.map(\.verdict)
        case .backend(_, let why): [why]
        case .invalid(let i): i.groups.map { "\($0.count)× \($0.reason)" }
        case .failed(let why): ["failed: \(why)"]
        }
    }
}
