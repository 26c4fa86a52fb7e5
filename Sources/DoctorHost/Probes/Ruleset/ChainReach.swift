import DoctorCore
/// Which netfilter hooks reach each chain: a base chain is reached from its own hook, any other chain from the hooks
/// of the chains that jump (or go) to it, followed to the end.
enum ChainReach {
    static let hookOrder = ["ingress", "prerouting", "input", "forward", "output", "postrouting", "egress"]

    /// `base`: chain → its hook; `jumps`: (from, to) pairs within one table. Chains are numbered and each one's
    /// hooks are a bit mask, so a kube-proxy table of 30,000 chains costs a few arrays, not a set per chain; a walk
    /// from each base chain visits each jump at most once per hook (at most seven).
    static func hooks(base: [String: String], jumps: [(from: String, to: String)]) -> [String: [String]] {
        var ids: [String: Int] = [:]
        var names: [String] = []
        func id(_ name: String) -> Int {
            if let known = ids[name] { return known }
            ids[name] = names.count
            names.append(name)
            return names.count - 1
        }
        let edges = jumps.map { (id($0.from), id($0.to)) }
        let hookNames = Array(Set(base.values)).sorted {
            (hookOrder.firstIndex(of: $0) ?? hookOrder.count, $0) < (hookOrder.firstIndex(of: $1) ?? hookOrder.count, $1)
        }
        let starts = base.map { (id($0.key), hookNames.firstIndex(of: $0.value)!) }
        // Jumps grouped by the chain they leave (compressed rows).
        var first = [Int](repeating: 0, count: names.count + 1)
        for (from, _) in edges { first[from + 1] += 1 }
        for i in 0..<names.count { first[i + 1] += first[i] }
        var next = [Int](repeating: 0, count: edges.count)
        var fill = first
        for (from, to) in edges {
            next[fill[from]] = to
            fill[from] += 1
        }
        var reached = [UInt64](repeating: 0, count: names.count)
        for (chain, hook) in starts where hook < 64 {
            let bit = UInt64(1) << UInt64(hook)
            var stack = [chain]
            while let current = stack.popLast() {
                guard reached[current] & bit == 0 else { continue }
                reached[current] |= bit
                stack += next[first[current]..<first[current + 1]]
            }
        }
        // One array per combination of hooks, shared by every chain that has it.
        var shared: [UInt64: [String]] = [:]
        var result: [String: [String]] = [:]
        for (i, mask) in reached.enumerated() where mask != 0 {
            if shared[mask] == nil { shared[mask] = hookNames.indices.filter { mask & (UInt64(1) << UInt64($0)) != 0 }.map { hookNames[$0] } }
            result[names[i]] = shared[mask]
        }
        return result
    }
}
