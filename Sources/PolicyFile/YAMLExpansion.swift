import DoctorCore
import Yams

/// Bounds what a YAML document expands to once its aliases are followed: `*big` under 2,000 keys costs a line each
/// in the file but 2,000 copies of the anchored text in every report (a 1 MB string gave a 2 GB report). Walked
/// without recursion, and stopped as soon as the budget is spent, so a chain of aliases ("billion laughs") costs no
/// more than the budget either.
enum YAMLExpansion {
    /// Scalar bytes a policy may expand to: four times the largest policy file read.
    static let textBudget = 4 * ReadLimit.policy.bytes
    /// Nodes a policy may expand to.
    static let nodeBudget = 100_000

    /// The node at which the expansion passes a budget, or nil when it stays within both.
    static func firstOverBudget(_ root: Node, text: Int = textBudget, nodes: Int = nodeBudget) -> Node? {
        var stack = [root]
        var bytes = 0, count = 0
        while let node = stack.popLast() {
            count += 1
            if count > nodes { return node }
            switch node {
            case .scalar(let scalar):
                bytes += scalar.string.utf8.count
                if bytes > text { return node }
            case .sequence(let sequence):
                stack.append(contentsOf: sequence)
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            }
        }
        return nil
    }
}
