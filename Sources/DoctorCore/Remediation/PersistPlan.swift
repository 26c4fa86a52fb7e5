/// `fix --persist`: the boot-time form of a fix plan's sysctl writes and module loads, in ctdoctor's own files,
/// with warnings where something else will win at boot anyway.
public struct PersistPlan: Sendable, Equatable {
    public var steps: [FixPlan.Item]
    public var warnings: [String]

    /// Keys kube-proxy sets when it starts (its `conntrack` configuration), whatever sysctl.d says.
    public static let kubeProxyKeys: Set<String> = [
        "net.netfilter.nf_conntrack_max", "net.netfilter.nf_conntrack_tcp_timeout_established",
        "net.netfilter.nf_conntrack_tcp_timeout_close_wait", "net.netfilter.nf_conntrack_tcp_be_liberal",
        "net.netfilter.nf_conntrack_udp_timeout", "net.netfilter.nf_conntrack_udp_timeout_stream",
    ]

    public init(for plan: FixPlan, snapshot: HostSnapshot) {
        steps = []
        warnings = []
        let persisted = snapshot.persisted.value
        var assignments: [(key: String, value: String)] = []
        var modules: [String] = []
        for item in plan.steps {
            switch item.step.action {
            case .sysctl(let key, let value): assignments.append((key, value))
            case .command(let argv) where argv.count == 2 && argv[0] == "modprobe": modules.append(argv[1])
            default: break
            }
        }
        if assignments.contains(where: { $0.key.hasPrefix("net.netfilter.nf_conntrack_") }),
           [.loaded, .available].contains(snapshot.modules.status("nf_conntrack").state),
           persisted?.loadsAtBoot("nf_conntrack") == nil {
            modules.append("nf_conntrack")
        }
        if !assignments.isEmpty {
            let contents = OwnFiles.sysctlContents(adding: assignments, persisted: persisted)
            steps.append(.init(checkID: "persist", why: "apply the same values at every boot",
                               step: .ownFile(OwnFiles.sysctl, contents: contents,
                                              purpose: "Write \(OwnFiles.sysctl), which systemd-sysctl applies at boot.")))
        }
        if !modules.isEmpty {
            let contents = OwnFiles.modulesLoadContents(adding: modules, persisted: persisted)
            steps.append(.init(checkID: "persist", why: "load the modules these settings need before systemd-sysctl runs",
                               step: .ownFile(OwnFiles.modulesLoad, contents: contents,
                                              purpose: "Write \(OwnFiles.modulesLoad), so \(modules.joined(separator: ", ")) load at boot before sysctl.d is applied.")))
        }
        for (key, value) in assignments {
            if let winner = persisted?.sysctls[key], winner.file != OwnFiles.sysctl, Self.appliedAfterOurs(winner.file) {
                warnings.append("\(winner.location) sets \(key) = \(winner.value) and is applied after \(OwnFiles.sysctl): at boot \(winner.value) wins over \(value); change or remove that line")
            }
            if Self.kubeProxyKeys.contains(key) {
                warnings.append("kube-proxy, where it runs, sets \(key) when it starts: change its conntrack settings (or set maxPerCore: 0) rather than relying on sysctl.d")
            }
        }
    }

    /// systemd-sysctl applies files in name order across its folders; /etc/sysctl.conf (procps) comes last.
    static func appliedAfterOurs(_ file: String) -> Bool {
        let name = String(file.split(separator: "/").last ?? "")
        return file == "/etc/sysctl.conf" || name > "90-ctdoctor.conf"
    }
}
