// `--policy FILE`: the nesting pre-scan, Yams, the alias budget and the policy walk; then evaluation on an empty
// snapshot. It also tests the pre-scan itself: whatever it lets through must not nest deeper in what Yams builds
// (aliases aside, which add no recursion when composing), or the process traps and libFuzzer keeps the input.
import DoctorCore
import FuzzSupport
@testable import PolicyFile
import Yams

/// The deepest nesting of a composed node, walked without recursion.
func depth(_ root: Node) -> Int {
    var stack = [(root, 1)], deepest = 0
    while let (node, level) = stack.popLast() {
        deepest = max(deepest, level)
        switch node {
        case .scalar: break
        case .sequence(let s): stack += s.map { ($0, level + 1) }
        case .mapping(let m): for (k, v) in m { stack += [(k, level + 1), (v, level + 1)] }
        }
    }
    return deepest
}

runFuzzer { bytes in
    guard let policy = try? PolicyParser.decode(bytes, path: "fuzz.yaml", knownChecks: ["tcp.loose", "table.usage", "rules.backend-mix"]) else {
        guard let text = String(validating: bytes, as: UTF8.self), !text.contains("*"), YAMLNesting.firstTooDeep(text) == nil else { return }
        let composed = BigStack.run { (try? Yams.compose(yaml: text)).flatMap { $0 }.map(depth) }
        if let composed, composed > YAMLNesting.limit + 2 { fatalError("the pre-scan let through nesting \(composed) deep") }
        return
    }
    let snapshot = HostSnapshot(takenAt: "2026-01-01T00:00:00Z", toolVersion: "fuzz")
    _ = PolicyEvaluator.evaluate(policy, snapshot: snapshot, findings: [], today: "2026-01-01")
}
