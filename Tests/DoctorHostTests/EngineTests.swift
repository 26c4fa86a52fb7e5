import Testing
@testable import DoctorCore

/// A check with a fixed outcome, to drive the engine without a host.
struct FixedCheck: Check {
    var info: CheckInfo
    var outcome: @Sendable (CheckInfo) -> Finding

    init(_ id: String, weight: Int, _ outcome: @escaping @Sendable (CheckInfo) -> Finding) {
        self.info = CheckInfo(id: id, title: "title of \(id)", weight: weight, rationale: "why \(id)")
        self.outcome = outcome
    }

    func evaluate(_ snapshot: HostSnapshot) -> Finding { outcome(info) }
}

func passing(_ id: String, _ weight: Int) -> FixedCheck {
    FixedCheck(id, weight: weight) { $0.pass(observed: "ok", expected: "ok", explanation: "fine") }
}

func failing(_ id: String, _ weight: Int, _ severity: Severity, steps: [RemediationStep] = []) -> FixedCheck {
    FixedCheck(id, weight: weight) {
        $0.fail(severity, observed: "bad", expected: "good", explanation: "because",
                remediation: steps.isEmpty ? nil : Remediation(summary: "fix it", steps: steps))
    }
}

@Suite struct EngineTests {
    @Test func everyCheckYieldsOneFindingWhateverItsStatus() {
        let checks: [any Check] = [passing("a.one", 10), failing("a.two", 10, .warning), passing("b.three", 5)]
        let findings = CheckEngine.run(checks, on: HostSnapshot(), skip: ["b.three"])
        #expect(findings.map(\.id) == ["a.one", "a.two", "b.three"])
        #expect(findings.map(\.status) == [.pass, .fail, .skipped])
    }

    @Test func onlyReportsTheSelectedChecksAndNoOthers() {
        let checks: [any Check] = [passing("a.one", 10), failing("a.two", 10, .warning), passing("b.three", 5)]
        let findings = CheckEngine.run(checks, on: HostSnapshot(), only: ["a.two", "b.three"], skip: [])
        #expect(findings.map(\.id) == ["a.two", "b.three"])
        #expect(findings.map(\.status) == [.fail, .pass])
    }

    @Test func skipWinsOverRunning() {
        let findings = CheckEngine.run([failing("a.two", 10, .error)], on: HostSnapshot(), skip: ["a.two"])
        #expect(findings[0].status == .skipped)
        #expect(findings[0].observed == CheckEngine.skippedOnRequest)
    }

    @Test func unknownIDsAreReported() {
        #expect(CheckEngine.unknownIDs(["a.one", "nope"], in: [passing("a.one", 1)]) == ["nope"])
    }

    @Test func scoreTakesWeightTimesSeverityFactorOverApplicableWeight() {
        // 40 applicable weight; a warning on weight 20 loses 20 × 0.5 = 10 of 40 → 25 points.
        var findings = CheckEngine.run(
            [passing("a", 20), failing("b", 20, .warning),
             FixedCheck("c", weight: 50) { $0.notApplicable("absent") }],
            on: HostSnapshot())
        let score = Scoring.score(&findings)
        #expect(score == 75)
        #expect(findings.map(\.scoreImpact) == [0, 25, 0])
    }

    @Test func scoreIsHundredWhenNothingApplies() {
        var findings = CheckEngine.run([FixedCheck("c", weight: 5) { $0.error("broken") }], on: HostSnapshot())
        #expect(Scoring.score(&findings) == 100)
    }

    @Test func criticalFailureOnEverythingScoresZero() {
        var findings = CheckEngine.run([failing("a", 10, .critical), failing("b", 3, .critical)], on: HostSnapshot())
        #expect(Scoring.score(&findings) == 0)
    }
}

@Suite struct GateTests {
    func report(_ checks: [any Check], only: Set<String>? = nil, skip: Set<String> = []) -> Report {
        Report(snapshot: HostSnapshot(), findings: CheckEngine.run(checks, on: HostSnapshot(), only: only, skip: skip))
    }

    @Test func warningDoesNotTripTheDefaultThreshold() {
        let r = report([failing("a", 10, .warning), passing("b", 10)])
        #expect(Gate().outcome(for: r) == .ok)
        #expect(Gate(failOn: .warning).outcome(for: r) == .thresholdReached)
    }

    @Test func errorTripsTheDefaultThreshold() {
        #expect(Gate().outcome(for: report([failing("a", 10, .error)])) == .thresholdReached)
    }

    @Test func lowScoreTripsMinScore() {
        let r = report([failing("a", 10, .info), passing("b", 10)])
        #expect(r.score == 88)
        #expect(Gate(minScore: 88).outcome(for: r) == .ok)
        #expect(Gate(minScore: 89).outcome(for: r) == .thresholdReached)
    }

    @Test func nothingJudgedIsCouldNotRun() {
        let r = report([FixedCheck("a", weight: 1) { $0.skipped("permission denied") },
                        FixedCheck("b", weight: 1) { $0.error("EIO") }])
        #expect(Gate().outcome(for: r) == .couldNotRun)
    }

    @Test func checksLeftOutOnRequestDoNotMakeItCouldNotRun() {
        let r = report([passing("a", 1), failing("b", 1, .critical)], only: ["a"])
        #expect(Gate().outcome(for: r) == .ok)
    }

    /// Issue 15: nothing reached a verdict, so the 100 the score shows counts no weight: exit 3, not 0.
    @Test func allNotApplicableJudgedNothing() {
        #expect(Gate().outcome(for: report([FixedCheck("a", weight: 1) { $0.notApplicable("old kernel") }])) == .couldNotRun)
        #expect(Gate().outcome(for: report([FixedCheck("a", weight: 1) { $0.notApplicable("old kernel") }, passing("b", 1)])) == .ok)
    }

    @Test func skippingEveryCheckJudgedNothing() {
        #expect(Gate().outcome(for: report([passing("a", 1), failing("b", 1, .critical)], skip: ["a", "b"])) == .couldNotRun)
    }
}
