import DoctorCore

public struct SysctlPersistenceCheck: Check {
    public let info = CheckInfo(
        id: "sysctl.persistence",
        title: "Conntrack settings survive a reboot",
        weight: 8,
        rationale: """
            Conntrack tuning that works today can silently vanish at the next boot. systemd-sysctl applies \
            sysctl.d early in boot; when nf_conntrack is a module that is loaded later (by the first firewall \
            rule), its net.netfilter.nf_conntrack_* keys do not exist yet, the write fails, and the kernel \
            default stays. Or the running value was changed after boot (by hand, kube-proxy, a script) and \
            differs from what the files say, so a reboot changes behaviour. The check compares the running values \
            with the winning sysctl.d assignment (same-named files: /etc over /run over /usr/local/lib over \
            /usr/lib; all files by name, the last one wins), and checks that nf_conntrack is built in or loaded \
            early (modules-load.d, /etc/modules, `modules-load=`), or that a udev rule re-applies the keys.
            """,
        references: [
            "https://www.freedesktop.org/software/systemd/man/latest/sysctl.d.html",
            "https://www.freedesktop.org/software/systemd/man/latest/modules-load.d.html",
            References.conntrackSysctls,
        ])

    public init() {}

    /// Lists nf_conntrack in ctdoctor's own modules-load.d file (keeping what it already lists there).
    static func loadEarly(_ persisted: PersistedSettings) -> RemediationStep {
        .ownFile(
            OwnFiles.modulesLoad,
            contents: OwnFiles.modulesLoadContents(adding: ["nf_conntrack"], persisted: persisted),
            purpose: """
                Load nf_conntrack at boot, before systemd-sysctl runs, so its net.netfilter.nf_conntrack_* keys exist \
                when sysctl.d is applied (this writes ctdoctor's own file \(OwnFiles.modulesLoad)).
                """)
    }

    /// Modules that need nf_conntrack, so listing one of them loads it too.
    static let pullsInConntrack: Set<String> = [
        "xt_conntrack", "xt_state", "xt_CT", "xt_nat", "xt_MASQUERADE", "xt_REDIRECT", "xt_connmark", "xt_helper",
        "xt_connlimit", "xt_connbytes", "iptable_nat", "ip6table_nat", "nft_ct", "nft_nat", "nft_masq", "nft_redir",
        "nft_chain_nat", "nf_flow_table",
    ]

    static func loadsConntrack(_ module: String) -> Bool {
        module.hasPrefix("nf_conntrack") || module.hasPrefix("nf_nat") || pullsInConntrack.contains(module)
    }

    static func needsConntrack(_ key: String) -> Bool {
        key.hasPrefix("net.netfilter.nf_conntrack_") || key == SysctlKey.legacyConntrackMax.name
    }

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        guard let persisted = snapshot.persisted.value else {
            return info.unreadable(snapshot.persisted, what: "the boot configuration (sysctl.d, modules-load.d)")
        }
        if snapshot.host.netns.initial == false {
            return info.notApplicable("""
                this is not the initial network namespace: sysctl.d is applied to the initial one at boot, and this \
                namespace's values start from the kernel's defaults whatever the files say
                """.trimmingWhitespace(), evidence: [Source.netns(snapshot)])
        }
        guard case .value = snapshot.sysctls.entries else {
            return info.unreadable(snapshot.sysctls.entries, what: "the running net.netfilter sysctls")
        }
        let review = Review(snapshot: snapshot, persisted: persisted)
        guard !review.issues.isEmpty else {
            return info.pass(
                observed: review.summary,
                expected: "every persisted net.netfilter key equal to its running value and applied at boot",
                explanation: review.persistsNothing
                    ? """
                        No net.netfilter key is set in the boot configuration, so nothing can drift from it; a value \
                        changed at run time (by hand or by an agent) is lost at reboot unless it is written to sysctl.d. \
                        \(review.conntrackNote).
                        """
                    : "Every persisted net.netfilter key runs with the value the boot configuration sets. \(review.conntrackNote).",
                evidence: review.evidence)
        }
        let severity: Severity = review.issues.contains { $0.severity == .warning } ? .warning : .info
        return info.fail(
            severity,
            observed: review.issues.map(\.observed).joined(separator: "; "),
            expected: "every persisted net.netfilter key equal to its running value and applied at boot",
            explanation: review.issues.map(\.explanation).joined(separator: " "),
            evidence: review.evidence,
            remediation: Remediation(
                summary: "Make the boot configuration and the running values agree.",
                steps: review.issues.flatMap(\.steps)))
    }
}

/// The comparison of running values with the boot configuration, as a list of issues.
private struct Review {
    struct Issue {
        var severity: Severity
        var observed: String
        var explanation: String
        var steps: [RemediationStep]
    }

    var issues: [Issue] = []
    var evidence: [Evidence] = []
    var summary = ""
    var conntrackNote = ""
    var persistsNothing = false

    init(snapshot: HostSnapshot, persisted: PersistedSettings) {
        let keys = persisted.sysctls.keys.sorted()
        var equal = 0
        for key in keys {
            let entry = persisted.sysctls[key]!
            evidence.append(Evidence(entry.location, "\(entry.written) = \(entry.value)"))
            guard let running = snapshot.sysctls.entry(key) else {
                missing(key, entry, snapshot)
                continue
            }
            evidence.append(Evidence(running.source ?? SysctlTable.path(of: key), Wording.reading(running.value)))
            guard let value = running.value.value else { continue }
            if Self.words(value) == Self.words(entry.value) { equal += 1 } else { differs(key, value, entry) }
        }
        // Keys this kernel lacks are reported as stale above, not as lost at boot.
        let conntrackKeys = keys.filter {
            SysctlPersistenceCheck.needsConntrack($0)
                && (snapshot.sysctls.entry($0) != nil || !snapshot.modules.status("nf_conntrack").isPresent)
        }
        bootOrder(conntrackKeys, snapshot, persisted)
        options(snapshot, persisted)
        persistsNothing = keys.isEmpty
        summary = keys.isEmpty
            ? "no net.netfilter key is set in sysctl.d or /etc/sysctl.conf"
            : "\(keys.count) net.netfilter key\(keys.count == 1 ? "" : "s") persisted, \(equal) equal to the running value"
        if !conntrackNote.isEmpty { summary += "; \(conntrackNote)" }
    }

    /// "4096\t87380" and "4096 87380" are the same value.
    static func words(_ text: String) -> [Substring] { text.split(whereSeparator: \.isWhitespace) }

    mutating func differs(_ key: String, _ running: String, _ entry: PersistedSysctl) {
        let overridden = entry.overrides.isEmpty ? "" : " (it overrides \(entry.overrides.map { "\($0.location) = \($0.value)" }.joined(separator: ", ")))"
        issues.append(Issue(
            severity: .warning,
            observed: "\(key) = \(running) running, \(entry.value) in \(entry.location)",
            explanation: """
                \(key) runs with \(running), but \(entry.location) sets \(entry.value)\(overridden): the value was \
                changed after boot (by hand, by kube-proxy or another agent, or the boot-time write failed), and \
                the next reboot brings \(entry.value) back.
                """,
            steps: [.advice("""
                Decide which value of \(key) is wanted. To keep \(running), change line \(entry.line) of \
                \(entry.file) to `\(key) = \(running)`; to go back to \(entry.value), run `sysctl -w \
                \(key)=\(entry.value)`. On Kubernetes nodes kube-proxy sets nf_conntrack_max and TCP timeouts at \
                start: change its conntrack settings instead.
                """, scope: .persistent)]))
    }

    mutating func missing(_ key: String, _ entry: PersistedSysctl, _ snapshot: HostSnapshot) {
        if SysctlPersistenceCheck.needsConntrack(key), !snapshot.modules.status("nf_conntrack").isPresent { return }
        // Only a key this kernel lacks is stale; one it has but that is not visible here says nothing.
        guard case .absent = snapshot.sysctlText(SysctlKey.named(key)) else { return }
        let ignored = entry.ignoreErrors ? " (its leading `-` makes systemd-sysctl ignore the failure)" : ", and systemd-sysctl reports an error at every boot"
        issues.append(Issue(
            severity: .info,
            observed: "\(key) is set in \(entry.location) but does not exist on this kernel",
            explanation: "\(entry.location) sets \(key), which this kernel does not have (removed, or built without it)\(ignored).",
            steps: [.advice("Remove line \(entry.line) (`\(entry.written) = \(entry.value)`) from \(entry.file).", scope: .persistent)]))
    }

    /// Keys under nf_conntrack exist only once the module is loaded; systemd-sysctl runs early in boot.
    mutating func bootOrder(_ keys: [String], _ snapshot: HostSnapshot, _ persisted: PersistedSettings) {
        let status = snapshot.modules.status("nf_conntrack")
        evidence.append(Source.module("nf_conntrack", snapshot))
        switch status.state {
        case .builtIn:
            conntrackNote = "nf_conntrack is built into the kernel, so its keys exist when systemd-sysctl runs"
            return
        case .unknown:
            conntrackNote = "whether nf_conntrack is built in cannot be told (\(status.evidence)), so boot ordering was not judged"
            return
        case .missing:
            conntrackNote = "this kernel has no nf_conntrack (\(status.evidence))"
            return
        case .loaded, .available:
            break
        }
        if let early = persisted.modulesLoad.first(where: { SysctlPersistenceCheck.loadsConntrack($0.value) }) {
            conntrackNote = "nf_conntrack is a module, loaded at boot by \(early.location) (\(early.value))"
            evidence.append(Evidence(early.location, early.value))
            return
        }
        if let rule = persisted.udevSysctlRules.first {
            conntrackNote = "nf_conntrack is a module and \(rule.location) re-applies sysctl.d when it is loaded"
            evidence.append(Evidence(rule.location, rule.value))
            return
        }
        conntrackNote = "nf_conntrack is a module that nothing loads at boot"
        guard !keys.isEmpty else { return }
        issues.append(Issue(
            severity: .warning,
            observed: "nf_conntrack is a module not loaded at boot, so \(keys.count == 1 ? keys[0] : "\(keys.count) nf_conntrack keys") from sysctl.d will not apply",
            explanation: """
                nf_conntrack is a module (\(status.evidence)) and neither modules-load.d, /etc/modules nor the \
                kernel command line loads it at boot, and no udev rule re-runs systemd-sysctl for it. \
                systemd-sysctl runs early, before a firewall rule loads nf_conntrack, so \(keys.joined(separator: ", ")) \
                do not exist yet and keep the kernel's defaults after every reboot, whatever runs now.
                """,
            steps: [
                SysctlPersistenceCheck.loadEarly(persisted),
                .advice("""
                    Alternatively, a udev rule can re-apply the keys whenever the module appears: \
                    `ACTION=="add", SUBSYSTEM=="module", KERNEL=="nf_conntrack", RUN+="/usr/lib/systemd/systemd-sysctl \
                    --prefix=/net/netfilter"` in /etc/udev/rules.d/.
                    """, scope: .persistent),
            ]))
    }

    /// `options nf_conntrack hashsize=` in modprobe.d: ignored when nf_conntrack is built in, and compared with buckets.
    mutating func options(_ snapshot: HostSnapshot, _ persisted: PersistedSettings) {
        guard let hashsize = persisted.conntrackOptions["hashsize"] else { return }
        evidence.append(Evidence(hashsize.location, "hashsize=\(hashsize.value)"))
        let builtIn = snapshot.modules.status("nf_conntrack").state == .builtIn
        if builtIn && hashsize.file != SourcePath.cmdline {
            issues.append(Issue(
                severity: .info,
                observed: "hashsize=\(hashsize.value) in \(hashsize.location) is ignored: nf_conntrack is built in",
                explanation: "modprobe.d options apply only when a module is loaded; nf_conntrack is built into this kernel, so \(hashsize.location) never takes effect.",
                steps: [.advice("""
                    Put `nf_conntrack.hashsize=\(hashsize.value)` on the kernel command line instead, or set \
                    net.netfilter.nf_conntrack_buckets in sysctl.d.
                    """, scope: .persistent)]))
            return
        }
        let key = SysctlKey.conntrackBuckets.name
        guard let buckets = snapshot.sysctls.value(key).value, buckets != hashsize.value,
              persisted.sysctls[key] == nil else { return }
        issues.append(Issue(
            severity: .warning,
            observed: "\(key) = \(buckets) running, hashsize=\(hashsize.value) in \(hashsize.location)",
            explanation: "The hash table was resized after boot (\(key) = \(buckets)), but \(hashsize.location) sets hashsize=\(hashsize.value), which the next boot brings back.",
            steps: [.advice("Make line \(hashsize.line) of \(hashsize.file) say `hashsize=\(buckets)` to keep the running size.", scope: .persistent)]))
    }
}
