// `--policy FILE`: the nesting pre-scan, Yams, the alias budget and the policy walk; then evaluation on an empty snapshot.
import DoctorCore
import FuzzSupport
import PolicyFile

runFuzzer { bytes in
    guard let policy = try? PolicyParser.decode(bytes, path: "fuzz.yaml", knownChecks: ["tcp.loose", "table.usage", "rules.backend-mix"]) else { return }
    let snapshot = HostSnapshot(takenAt: "2026-01-01T00:00:00Z", toolVersion: "fuzz")
    _ = PolicyEvaluator.evaluate(policy, snapshot: snapshot, findings: [], today: "2026-01-01")
}
