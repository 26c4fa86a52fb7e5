import DoctorKit

/// Hand-built snapshots for check tests. `SnapshotBuilder()` is a monolithic 6.18 kernel in its initial
/// network namespace with default sysctls and the nf_log registry the build machine shows; tests
/// override single facts and read `snapshot`.
struct SnapshotBuilder {
    var snapshot: HostSnapshot

    /// Linux 6.18, everything built in (no loadable modules), like the build machine.
    init() {
        var sysctls: [String: String] = [
            "net.netfilter.nf_conntrack_acct": "0",
            "net.netfilter.nf_conntrack_buckets": "262144",
            "net.netfilter.nf_conntrack_checksum": "1",
            "net.netfilter.nf_conntrack_count": "1532",
            "net.netfilter.nf_conntrack_events": "2",
            "net.netfilter.nf_conntrack_expect_max": "4096",
            "net.netfilter.nf_conntrack_frag6_high_thresh": "4194304",
            "net.netfilter.nf_conntrack_frag6_low_thresh": "3145728",
            "net.netfilter.nf_conntrack_frag6_timeout": "60",
            "net.netfilter.nf_conntrack_generic_timeout": "600",
            "net.netfilter.nf_conntrack_icmp_timeout": "30",
            "net.netfilter.nf_conntrack_icmpv6_timeout": "30",
            "net.netfilter.nf_conntrack_log_invalid": "0",
            "net.netfilter.nf_conntrack_max": "262144",
            "net.netfilter.nf_conntrack_tcp_be_liberal": "0",
            "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst": "0",
            "net.netfilter.nf_conntrack_tcp_loose": "1",
            "net.netfilter.nf_conntrack_tcp_max_retrans": "3",
            "net.netfilter.nf_conntrack_tcp_timeout_close": "10",
            "net.netfilter.nf_conntrack_tcp_timeout_close_wait": "60",
            "net.netfilter.nf_conntrack_tcp_timeout_established": "432000",
            "net.netfilter.nf_conntrack_tcp_timeout_fin_wait": "120",
            "net.netfilter.nf_conntrack_tcp_timeout_last_ack": "30",
            "net.netfilter.nf_conntrack_tcp_timeout_max_retrans": "300",
            "net.netfilter.nf_conntrack_tcp_timeout_syn_recv": "60",
            "net.netfilter.nf_conntrack_tcp_timeout_syn_sent": "120",
            "net.netfilter.nf_conntrack_tcp_timeout_time_wait": "120",
            "net.netfilter.nf_conntrack_tcp_timeout_unacknowledged": "300",
            "net.netfilter.nf_conntrack_timestamp": "0",
            "net.netfilter.nf_conntrack_udp_timeout": "30",
            "net.netfilter.nf_conntrack_udp_timeout_stream": "120",
            "net.netfilter.nf_conntrack_sctp_timeout_established": "210",
            "net.netfilter.nf_conntrack_gre_timeout": "30",
            "net.netfilter.nf_conntrack_gre_timeout_stream": "180",
            "net.netfilter.nf_hooks_lwtunnel": "0",
            "net.netfilter.nf_log_all_netns": "0",
        ]
        for (pf, logger) in Self.bindings618 {
            sysctls["net.netfilter.nf_log.\(pf)"] = logger ?? "NONE"
        }
        let entries = sysctls.mapValues { value in
            SysctlEntry(value: .value(value), mode: 0o644)
        }
        snapshot = HostSnapshot(
            takenAt: "2026-01-10T12:00:00Z",
            toolVersion: "test",
            host: HostInfo(
                hostname: .value("node1"),
                kernelRelease: .value("6.18.44"),
                uptimeSeconds: .value(3 * 86400 + 4 * 3600),
                netns: NetnsIdentity(inode: .value(4_026_531_840), initial: true, basis: "inode 4026531840 is the initial namespace's"),
                privileges: Privileges(euid: 0, netAdmin: true)),
            kernelConfig: KernelConfig(
                source: .value("/proc/config.gz"),
                options: [
                    "CONFIG_NETFILTER": "y", "CONFIG_NF_CONNTRACK": "y", "CONFIG_NF_CONNTRACK_EVENTS": "y",
                    "CONFIG_NF_LOG_SYSLOG": "y", "CONFIG_NETFILTER_NETLINK_LOG": "y", "CONFIG_NF_CT_NETLINK": "y",
                ]),
            sysctls: SysctlTable(entries: .value(entries)),
            nfLog: NfLogRegistry(families: .value(Self.bindings618.map { pf, logger in
                NfLogFamily(pf: pf, bound: logger, registered: (logger.map { [$0] } ?? []) + ["nfnetlink_log"])
            })),
            modules: ModuleInventory(
                loadableModules: false,
                moduleTree: nil,
                modules: [
                    "nf_conntrack": ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_CONNTRACK=y"),
                    "nf_conntrack_netlink": ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_CT_NETLINK=y"),
                    "nf_log_syslog": ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_LOG_SYSLOG=y"),
                    "nfnetlink_log": ModuleStatus(state: .builtIn, evidence: "CONFIG_NETFILTER_NETLINK_LOG=y"),
                    "nf_log_ipv4": ModuleStatus(state: .missing, evidence: "merged into nf_log_syslog since 5.13"),
                    "nf_log_ipv6": ModuleStatus(state: .missing, evidence: "merged into nf_log_syslog since 5.13"),
                    "nf_conntrack_ftp": ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_CONNTRACK_FTP=y"),
                    "nf_conntrack_sip": ModuleStatus(state: .builtIn, evidence: "CONFIG_NF_CONNTRACK_SIP=y"),
                ]),
            stats: .value(ConntrackStats(
                source: "/proc/net/stat/nf_conntrack",
                cpus: 2,
                counters: [
                    "found": 0, "invalid": 0, "insert": 0, "insert_failed": 0, "drop": 0,
                    "early_drop": 0, "error": 0, "search_restart": 3, "clash_resolve": 0, "chaintoolong": 0,
                ])),
            ruleset: Self.gatewayRuleset,
            helpers: HelperFacts(
                expectations: .value(ExpectationCount(count: 3, source: "/proc/net/nf_conntrack_expect (one line per expectation)")),
                userspace: .absent("nfct is not installed")))
    }

    /// pf → bound logger on a 6.18 kernel with nf_log_syslog and nfnetlink_log present (nil = NONE).
    static let bindings618: [(Int, String?)] = [
        (0, nil), (1, nil), (2, "nf_log_ipv4"), (3, "nf_log_arp"), (4, nil), (5, "nf_log_netdev"),
        (6, nil), (7, "nf_log_bridge"), (8, nil), (9, nil), (10, "nf_log_ipv6"),
    ]

    /// Debian 12 style: Linux 6.1 with modules, nf_conntrack loaded, nf_log_syslog and nfnetlink_log
    /// on disk but not loaded, so no logger is registered and every family is NONE.
    static func modular61() -> SnapshotBuilder {
        var b = SnapshotBuilder()
        let tree = "/lib/modules/6.1.0-27-amd64"
        b.snapshot.host.kernelRelease = .value("6.1.0-27-amd64")
        b.snapshot.kernelConfig = KernelConfig(
            source: .value("/boot/config-6.1.0-27-amd64"),
            options: [
                "CONFIG_MODULES": "y", "CONFIG_NETFILTER": "y", "CONFIG_NF_CONNTRACK": "m",
                "CONFIG_NF_CONNTRACK_EVENTS": "y", "CONFIG_NF_LOG_SYSLOG": "m", "CONFIG_NF_LOG_IPV4": "m",
                "CONFIG_NF_LOG_IPV6": "m", "CONFIG_NETFILTER_NETLINK_LOG": "m", "CONFIG_NF_CT_NETLINK": "m",
            ])
        b.snapshot.modules = ModuleInventory(
            loadableModules: true,
            moduleTree: tree,
            modules: [
                "nf_conntrack": ModuleStatus(state: .loaded, evidence: "/proc/modules"),
                "nf_conntrack_netlink": ModuleStatus(state: .available, evidence: "\(tree)/kernel/net/netfilter/nf_conntrack_netlink.ko"),
                "nf_log_syslog": ModuleStatus(state: .available, evidence: "\(tree)/kernel/net/netfilter/nf_log_syslog.ko"),
                "nfnetlink_log": ModuleStatus(state: .available, evidence: "\(tree)/kernel/net/netfilter/nfnetlink_log.ko"),
                "nf_log_ipv4": ModuleStatus(state: .missing, evidence: "no nf_log_ipv4.ko under \(tree)"),
                "nf_log_ipv6": ModuleStatus(state: .missing, evidence: "no nf_log_ipv6.ko under \(tree)"),
            ])
        b.snapshot.nfLog = NfLogRegistry(families: .value((0...10).map { NfLogFamily(pf: $0, bound: nil, registered: []) }))
        for pf in 0...10 { b.set("net.netfilter.nf_log.\(pf)", "NONE") }
        return b
    }

    // MARK: overrides

    mutating func set(_ key: String, _ value: String) {
        setReading(key, .value(value))
    }

    mutating func setReading(_ key: String, _ value: Reading<String>) {
        guard var entries = snapshot.sysctls.entries.value else { return }
        entries[key] = SysctlEntry(value: value, mode: 0o644)
        snapshot.sysctls.entries = .value(entries)
    }

    mutating func remove(_ key: String) {
        guard var entries = snapshot.sysctls.entries.value else { return }
        entries[key] = nil
        snapshot.sysctls.entries = .value(entries)
    }

    /// Sets the binding sysctl and the registry row together, as the kernel shows them.
    mutating func bind(pf: Int, _ logger: String?) {
        set("net.netfilter.nf_log.\(pf)", logger ?? "NONE")
        guard var rows = snapshot.nfLog.families.value, let i = rows.firstIndex(where: { $0.pf == pf }) else { return }
        rows[i].bound = logger
        snapshot.nfLog.families = .value(rows)
    }

    mutating func register(pf: Int, _ loggers: [String]) {
        guard var rows = snapshot.nfLog.families.value, let i = rows.firstIndex(where: { $0.pf == pf }) else { return }
        rows[i].registered = loggers
        snapshot.nfLog.families = .value(rows)
    }

    mutating func module(_ name: String, _ state: ModuleStatus.State, _ evidence: String) {
        snapshot.modules.modules[name] = ModuleStatus(state: state, evidence: evidence)
    }

    mutating func counter(_ name: String, _ value: UInt64) {
        guard var stats = snapshot.stats.value else { return }
        stats.counters[name] = value
        snapshot.stats = .value(stats)
    }

    mutating func kernel(_ release: String) {
        snapshot.host.kernelRelease = .value(release)
    }

    /// A container's view: not the initial namespace, so nf_log_all_netns is not listed.
    mutating func childNamespace() {
        snapshot.host.netns = NetnsIdentity(inode: .value(4_026_532_246), initial: false, basis: "inode differs from PID 1's")
        remove("net.netfilter.nf_log_all_netns")
    }
}

extension Finding {
    var argvs: [[String]?] { remediation?.steps.map(\.argv) ?? [] }
    var undos: [[String]?] { remediation?.steps.map(\.undo) ?? [] }
}
