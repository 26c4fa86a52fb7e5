import DoctorCore

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
            kernelLog: .value(KernelLog(source: "/dev/kmsg", recordsRead: 812, firstSeconds: 0, lastSeconds: 273_000)),
            // Unlike the build machine, a distro kernel with dynamic debug and 6.12's conntrack sites, none enabled.
            dynamicDebug: .value(DynamicDebug(
                control: "/proc/dynamic_debug/control", totalSites: 2400,
                modules: [
                    DynamicDebugModule(name: "nf_conntrack", total: 10, enabled: 0, files: [
                        DynamicDebugFile(path: "net/netfilter/nf_conntrack_core.c", total: 3, enabled: 0),
                        DynamicDebugFile(path: "net/netfilter/nf_conntrack_proto_sctp.c", total: 6, enabled: 0),
                        DynamicDebugFile(path: "net/netfilter/nf_conntrack_proto_tcp.c", total: 1, enabled: 0),
                    ]),
                    DynamicDebugModule(name: "nf_conntrack_ftp", total: 19, enabled: 0, files: [
                        DynamicDebugFile(path: "net/netfilter/nf_conntrack_ftp.c", total: 19, enabled: 0),
                    ]),
                ])),
            persisted: .value(PersistedSettings(
                sysctls: ["net.netfilter.nf_conntrack_max": PersistedSysctl(
                    value: "262144", file: "/etc/sysctl.d/90-conntrack.conf", line: 1, written: "net.netfilter.nf_conntrack_max")],
                sysctlFiles: ["/etc/sysctl.d/90-conntrack.conf"])),
            ctnetlink: CtnetlinkFacts(
                table: .value(EntryCount(entries: 1532, max: 262144)),
                statistics: .absent("not in this hand-built snapshot: the /proc counters stand in"),
                expectations: .value(ExpectationFacts(count: 0, counters: ["expect_new": 0, "expect_create": 0, "expect_delete": 0])),
                lists: .value(ConntrackLists(unconfirmed: ListSample(first: 0), dying: ListSample(first: 0), resampleSeconds: 1))),
            conntrackSlab: .value(SlabCache(name: "nf_conntrack", objectSize: 256, activeObjects: 1600, totalObjects: 1632)),
            tableSummary: .absent("not dumped"),
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

    /// Sets a lifetime counter in every source that has counters.
    mutating func counter(_ name: String, _ value: UInt64) {
        if var stats = snapshot.stats.value {
            stats.counters[name] = value
            snapshot.stats = .value(stats)
        }
        if var stats = snapshot.ctnetlink.statistics.value {
            stats.counters[name] = value
            snapshot.ctnetlink.statistics = .value(stats)
        }
    }

    /// ctnetlink answered GET_STATS_CPU with the same counters as /proc.
    mutating func netlinkCounters() {
        guard var stats = snapshot.stats.value else { return }
        stats.source = "ctnetlink IPCTNL_MSG_CT_GET_STATS_CPU"
        snapshot.ctnetlink.statistics = .value(stats)
    }

    /// `--sample`: the counters as they are now, then grown by `deltas` after `seconds`.
    mutating func sample(seconds: Double = 10, _ deltas: [String: UInt64], countGrowth: Int = 0) {
        func grown(_ reading: Reading<ConntrackStats>) -> Reading<ConntrackStats> {
            reading.map { stats in
                var after = stats
                for (name, delta) in deltas { after.counters[name, default: 0] += delta }
                return after
            }
        }
        let table = snapshot.ctnetlink.table
        let first = CounterReadings(
            netlink: snapshot.ctnetlink.statistics, procfs: snapshot.stats, table: table,
            sysctlCount: snapshot.sysctls.int("net.netfilter.nf_conntrack_count"))
        let second = CounterReadings(
            netlink: grown(snapshot.ctnetlink.statistics), procfs: grown(snapshot.stats),
            table: table.map { EntryCount(entries: $0.entries + countGrowth, max: $0.max) },
            sysctlCount: first.sysctlCount.map { $0 + countGrowth })
        snapshot.sample = CounterSample(seconds: seconds, first: first, second: second)
        for (name, delta) in deltas { counter(name, (snapshot.stats.value?.counters[name] ?? 0) + delta) }
    }

    /// This namespace holds `entries` entries, as ctnetlink and the sysctl both say.
    mutating func count(_ entries: Int) {
        set("net.netfilter.nf_conntrack_count", String(entries))
        if case .value(var table) = snapshot.ctnetlink.table {
            table.entries = entries
            snapshot.ctnetlink.table = .value(table)
        }
    }

    /// ctnetlink refused or is missing: every netlink reading fails with this errno.
    mutating func ctnetlinkFails(_ kind: CtnetlinkFailure.Kind, errno: Int32, name: String) {
        let message = "IPCTNL_MSG_CT_GET_STATS: \(name) (test)"
        let reading: Reading<EntryCount> = kind == .permissionDenied ? .denied(message) : kind == .other ? .failed(message) : .absent(message)
        snapshot.ctnetlink = CtnetlinkFacts(
            table: reading,
            failure: CtnetlinkFailure(request: "IPCTNL_MSG_CT_GET_STATS", errno: errno, errnoName: name, kind: kind, message: message),
            statistics: reading.map { _ in ConntrackStats(source: "", cpus: 0, counters: [:]) },
            expectations: reading.map { _ in ExpectationFacts(count: 0, counters: [:]) },
            lists: reading.map { _ in ConntrackLists(unconfirmed: ListSample(first: 0), dying: ListSample(first: 0), resampleSeconds: 1) })
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
