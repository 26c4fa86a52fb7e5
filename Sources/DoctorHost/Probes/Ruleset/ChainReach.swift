import DoctorCore
/// Which netfilter hooks reach each chain: a base chain is reached from its own hook, any other chain from the hooks
/// of the chains that jump (or go) to it, followed to the end.
enum ChainReach {
    static let hookOrder = ["ingress", "prerouting", "input", "forward", "output", "postrouting", "egress"]

    /// `base`: chain → its hook; `jumps`: (from, to) pairs within one table.
    static func hooks(base: [String: String], jumps: [(from: String, to: String)]) -> [String: [String]] {
        var reached = base.mapValues { Set([$0]) }
        var changed = true
        while changed {
            changed = false
            for (from, to) in jumps {
                guard let add = reached[from], !add.isSubset(of: reached[to, default: []]) else { continue }
                reached[to, default: []].formUnion(add)
                changed = true
            }
        }
        return reached.mapValues { hooks in
            hooks.sorted { (hookOrder.firstIndex(of: $0) ?? hookOrder.count, $0) < (hookOrder.firstIndex(of: $1) ?? hookOrder.count, $1) }
        }
    }
}
