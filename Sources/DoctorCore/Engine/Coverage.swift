/// What a snapshot could not fill, part by part: for `check --sos`, whose sosreport holds only what its plugins
/// collected, so the reader knows which checks had nothing to go on and why.
public enum Coverage {
    /// "conntrack statistics (/proc/net/stat/nf_conntrack): /proc/net/stat/nf_conntrack: No such file or directory",
    /// one line per part without a value, in the order the probes run.
    public static func unfilled(_ s: HostSnapshot) -> [String] {
        var parts: [(String, String?)] = [
            ("kernel release", s.host.kernelRelease.problem),
            ("hostname", s.host.hostname.problem),
            ("kernel config", s.kernelConfig.source.problem),
            ("netfilter sysctls", s.sysctls.entries.problem),
            ("nf_log registry", s.nfLog.families.problem),
            ("modules", s.modules.loadableModules == nil ? "neither /proc/modules nor lsmod output" : nil),
            ("conntrack statistics", s.stats.problem),
            ("kernel log", s.kernelLog.problem),
            ("dynamic debug", s.dynamicDebug.problem),
            ("boot configuration", s.persisted.problem),
            ("ctnetlink", s.ctnetlink.table.problem),
            ("nf_conntrack slab", s.conntrackSlab.problem),
            ("expectations", s.helpers.expectations.problem),
            ("userspace helpers", s.helpers.userspace.problem),
        ]
        // Rules come from whichever source had them (a sosreport's listings, when no tool can run): the others'
        // problems matter only when none did.
        if !s.ruleset.sources.contains(where: { $0.rules.value != nil }) {
            parts += s.ruleset.sources.map { ("rules from \($0.origin)", $0.rules.problem) }
        } else {
            // Some rules were read, but a collection lacked a backend: "no such rule" cannot be concluded.
            parts += (s.ruleset.uncollected ?? []).map { ("rules", $0) }
        }
        return parts.compactMap { name, problem in problem.map { "\(name): \($0)" } }
    }
}
