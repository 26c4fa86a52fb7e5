import DoctorCore

/// What the kernel log adds to the counter checks: "table full" lines about this namespace (or others), how long
/// ago the last one was, and the INVALID reasons the kernel gave. The log is one buffer for the whole host.
struct KernelLogEvidence {
    let log: KernelLog
    let uptime: Double?

    init?(_ snapshot: HostSnapshot) {
        guard let log = snapshot.kernelLog.value else { return nil }
        self.log = log
        uptime = snapshot.host.uptimeSeconds.value
    }

    /// "12 minutes ago" from a kernel-log timestamp, or "at 1234 s after boot" when the uptime is unknown.
    func ago(_ seconds: Double) -> String {
        guard let uptime, uptime >= seconds else { return "at \(Wording.wholeSeconds(seconds)) s after boot" }
        return "\(Wording.seconds((uptime - seconds))) ago"
    }

    /// Whether a line at `seconds` falls within the last `window` seconds before the snapshot.
    func isWithin(_ window: Double, _ seconds: Double?) -> Bool {
        guard let uptime, let seconds else { return false }
        return uptime - seconds <= window
    }

    // MARK: table full

    func tableFull(_ snapshot: HostSnapshot) -> TableFullCounts {
        log.tableFull(for: snapshot.host.netns, kernel: snapshot.host.kernelVersion)
    }

    /// One sentence about the "table full" lines, or nil when there are none.
    func tableFullSentence(_ counts: TableFullCounts) -> String? {
        var parts: [String] = []
        if counts.thisNamespace > 0 {
            parts.append("the kernel log has \(counts.thisNamespace) \"table full, dropping packet\" line\(counts.thisNamespace == 1 ? "" : "s") about this namespace"
                + (counts.lastThisNamespace.map { ", the last \(ago($0))" } ?? ""))
        }
        if counts.otherNamespaces > 0 {
            parts.append("\(counts.otherNamespaces) about other network namespaces, whose tables filled up (check them with `ctdoctor check --all-netns`)")
        }
        if counts.unattributed > 0 {
            parts.append("\(counts.unattributed) that do not say which namespace (kernels before 6.17 print no namespace)")
        }
        if counts.beforeThisNamespace > 0 {
            parts.append("\(counts.beforeThisNamespace) naming this namespace's number from before it is known to exist (the kernel reuses namespace numbers, so they may be an earlier namespace's)")
        }
        guard !parts.isEmpty else { return nil }
        return "Also, " + parts.joined(separator: "; ") + "."
    }

    func tableFullEvidence(_ counts: TableFullCounts) -> [Evidence] {
        var evidence = [Evidence(log.source, "\"table full\" lines: \(counts.thisNamespace) about this namespace, \(counts.otherNamespaces) about others, \(counts.unattributed) unattributed"
            + (counts.beforeThisNamespace > 0 ? ", \(counts.beforeThisNamespace) with this namespace's number from before it is known to exist" : ""))]
        evidence += (log.summary(.tableFull)?.recent ?? []).prefix(3).map { Evidence(log.source, $0.text) }
        return evidence
    }

    // MARK: INVALID reasons

    /// The commonest reasons, e.g. "nf_ct_proto_6 SEQ is over upper bound N (…) ×12".
    func invalidSentence(limit: Int = 3) -> String? {
        guard !log.invalidReasons.isEmpty else { return nil }
        let top = log.invalidReasons.prefix(limit).map { "\"\($0.reason)\" (protocol \($0.proto), \($0.count)×\($0.lastSeconds.map { ", last \(ago($0))" } ?? ""))" }
        return "The host's kernel log gives these reasons: \(top.joined(separator: "; "))."
    }

    func invalidEvidence(limit: Int = 3) -> [Evidence] {
        log.invalidReasons.prefix(limit).map { Evidence(log.source, "nf_ct_proto_\($0.proto): \($0.reason) ×\($0.count)") }
    }
}
