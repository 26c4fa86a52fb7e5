import Foundation

/// Everything the checks need, as plain values. Probes fill it; checks only read it.
/// Serialised by `ctdoctor snapshot` and read back by `ctdoctor check --snapshot FILE`.
public struct HostSnapshot: Codable, Sendable, Equatable {
    public static let schemaID = "ctdoctor.snapshot/1"

    public var schema: String
    /// ISO 8601, UTC.
    public var takenAt: String
    public var toolVersion: String
    /// The root folder the files were read from ("/" on a live host).
    public var root: String
    public var host: HostInfo
    public var kernelConfig: KernelConfig
    public var sysctls: SysctlTable
    public var nfLog: NfLogRegistry
    public var modules: ModuleInventory
    /// /proc/net/stat/nf_conntrack, summed; ctnetlink's own reading is `ctnetlink.statistics`.
    public var stats: Reading<ConntrackStats>
    /// Conntrack lines of the kernel log (host-wide, not per namespace).
    public var kernelLog: Reading<KernelLog>
    /// Netfilter's dynamic debug sites; absent when the kernel has no dynamic debug.
    public var dynamicDebug: Reading<DynamicDebug>
    /// What sysctl.d, modules-load.d and modprobe.d would set at boot.
    public var persisted: Reading<PersistedSettings>
    public var ctnetlink: CtnetlinkFacts
    /// The nf_conntrack slab cache: what one entry costs.
    public var conntrackSlab: Reading<SlabCache>
    /// The counters read twice (`--sample SECONDS`); nil when they were read once.
    public var sample: CounterSample?
    /// The streamed table summary (`--deep`); absent for a plain check.
    public var tableSummary: Reading<TableSummary>
    /// Firewall rules that matter to conntrack, from nft and the iptables tools.
    public var ruleset: Ruleset
    public var helpers: HelperFacts
    /// What a reader should know about where values came from, e.g. a sosreport's two readings of one sysctl.
    public var sourceNotes: [String]?
    /// A collection's listing of the conntrack table (a sosreport's `conntrack -L`, OVS's dump); nil when none was read.
    public var listing: Reading<ConntrackListing>?
    /// Open vSwitch's datapath conntrack count (a sosreport's `dpctl/ct-stats-show`); nil when none was read.
    public var datapathConntrack: Reading<DatapathConntrack>?
    /// Keys only the initial namespace shows (nf_log_all_netns), as `--all-netns` read them there, for the other
    /// namespaces' checks; nil when no such reading was shared.
    public var initialNamespaceSysctls: [String: SysctlEntry]?

    public init(
        takenAt: String = "",
        toolVersion: String = "",
        root: String = "/",
        host: HostInfo = HostInfo(),
        kernelConfig: KernelConfig = KernelConfig(),
        sysctls: SysctlTable = SysctlTable(),
        nfLog: NfLogRegistry = NfLogRegistry(),
        modules: ModuleInventory = ModuleInventory(),
        stats: Reading<ConntrackStats> = .failed("not probed"),
        kernelLog: Reading<KernelLog> = .failed("not probed"),
        dynamicDebug: Reading<DynamicDebug> = .failed("not probed"),
        persisted: Reading<PersistedSettings> = .failed("not probed"),
        ctnetlink: CtnetlinkFacts = CtnetlinkFacts(),
        conntrackSlab: Reading<SlabCache> = .failed("not probed"),
        sample: CounterSample? = nil,
        tableSummary: Reading<TableSummary> = .failed("not probed"),
        ruleset: Ruleset = Ruleset(),
        helpers: HelperFacts = HelperFacts()
    ) {
        self.schema = Self.schemaID
        self.takenAt = takenAt
        self.toolVersion = toolVersion
        self.root = root
        self.host = host
        self.kernelConfig = kernelConfig
        self.sysctls = sysctls
        self.nfLog = nfLog
        self.modules = modules
        self.stats = stats
        self.kernelLog = kernelLog
        self.dynamicDebug = dynamicDebug
        self.persisted = persisted
        self.ctnetlink = ctnetlink
        self.conntrackSlab = conntrackSlab
        self.sample = sample
        self.tableSummary = tableSummary
        self.ruleset = ruleset
        self.helpers = helpers
    }
}

public struct HostInfo: Codable, Sendable, Equatable {
    public var hostname: Reading<String>
    /// `uname -r`, read from /proc/sys/kernel/osrelease.
    public var kernelRelease: Reading<String>
    /// Seconds since boot, from /proc/uptime: lifetime counters are totals over this span.
    public var uptimeSeconds: Reading<Double>
    /// Where the uptime was read when not from /proc/uptime (a sosreport's `uptime` output).
    public var uptimeSource: String?
    public var netns: NetnsIdentity
    public var privileges: Privileges

    public init(
        hostname: Reading<String> = .failed("not probed"),
        kernelRelease: Reading<String> = .failed("not probed"),
        uptimeSeconds: Reading<Double> = .failed("not probed"),
        netns: NetnsIdentity = NetnsIdentity(),
        privileges: Privileges = Privileges()
    ) {
        self.hostname = hostname
        self.kernelRelease = kernelRelease
        self.uptimeSeconds = uptimeSeconds
        self.netns = netns
        self.privileges = privileges
    }

    /// The parsed kernel version, when the release string has one.
    public var kernelVersion: KernelVersion? { kernelRelease.value.flatMap(KernelVersion.init(release:)) }
}

public struct NetnsIdentity: Codable, Sendable, Equatable {
    /// Inode of /proc/self/ns/net (`net:[N]`).
    public var inode: Reading<UInt64>
    /// Whether this is the initial network namespace; nil when it cannot be told.
    public var initial: Bool?
    /// How `initial` was decided, in words.
    public var basis: String
    /// The name under /run/netns that refers to this namespace, if any.
    public var name: String?
    /// How `--netns` / `--all-netns` reached it ("pid 812 (nginx)", "/run/netns/blue"); nil for a plain run.
    public var found: String?
    /// Seconds since boot (the kernel log's clock) from which this namespace surely exists: when its nsfs inode was
    /// made, if that is older than the run. The kernel reuses namespace numbers, so a "table full in netns N" line
    /// older than this may be an earlier namespace's. nil when it cannot be dated: a namespace nothing keeps open
    /// (no bind mount under /run/netns, no open descriptor) gets a new nsfs inode at every look.
    public var datedSince: Double?

    public init(
        inode: Reading<UInt64> = .failed("not probed"), initial: Bool? = nil, basis: String = "not probed",
        name: String? = nil, found: String? = nil, datedSince: Double? = nil
    ) {
        self.inode = inode
        self.initial = initial
        self.basis = basis
        self.name = name
        self.found = found
        self.datedSince = datedSince
    }
}

public struct Privileges: Codable, Sendable, Equatable {
    public var euid: UInt32?
    /// CAP_NET_ADMIN in the effective set (from /proc/self/status CapEff); nil when unknown.
    public var netAdmin: Bool?

    public init(euid: UInt32? = nil, netAdmin: Bool? = nil) {
        self.euid = euid
        self.netAdmin = netAdmin
    }
}

/// Kernel build options relevant to netfilter, from /proc/config.gz or /boot/config-<release>.
public struct KernelConfig: Codable, Sendable, Equatable {
    /// Where the options came from, or why there are none.
    public var source: Reading<String>
    /// `CONFIG_NAME` → "y", "m" or "n" (written as "is not set"). Only netfilter-related names are kept.
    public var options: [String: String]

    public init(source: Reading<String> = .failed("not probed"), options: [String: String] = [:]) {
        self.source = source
        self.options = options
    }

    public enum Tristate: String, Sendable { case builtIn = "y", module = "m", notSet = "n" }

    /// nil when the configuration is unknown; `.notSet` when it is known and the option is absent or off.
    public func tristate(_ name: String) -> Tristate? {
        guard source.value != nil else { return nil }
        return options[name].flatMap(Tristate.init(rawValue:)) ?? .notSet
    }
}

/// Every `net.netfilter.*` sysctl found by listing /proc/sys/net/netfilter (recursively), plus `net.nf_conntrack_max`.
/// Checks read them through `HostSnapshot.sysctl(_:)` (typed, bounded, absent vs not visible); the raw table serves
/// the policy file's arbitrary keys and the boot-configuration comparison.
public struct SysctlTable: Codable, Sendable, Equatable {
    /// Keyed by dotted name, e.g. `net.netfilter.nf_log.2`. A listing failure is kept as the reading's problem.
    public var entries: Reading<[String: SysctlEntry]>
    /// Set when the values come from a collection (a sosreport, a copied tree) that holds no listing at all: a key
    /// is then not visible rather than absent from the kernel. Says what the collection lacks.
    public var uncollected: String?

    public init(entries: Reading<[String: SysctlEntry]> = .failed("not probed"), uncollected: String? = nil) {
        self.entries = entries
        self.uncollected = uncollected
    }

    /// The text of `key`, trimmed; `.absent` when the listing has no such key. For keys that no check names (the
    /// policy file's); checks use `HostSnapshot.sysctl(_:)`.
    public func value(_ key: String) -> Reading<String> {
        entries.flatMap { table in
            guard let entry = table[key] else { return .absent("\(key) is not present on this kernel") }
            return entry.value
        }
    }

    /// The whole-number value of `key`, parsed as `SysctlKey.parse` does (bounded, never trapping).
    public func int(_ key: String) -> Reading<Int> {
        value(key).flatMap { SysctlKey.named(key).parse($0).reading }
    }

    public func entry(_ key: String) -> SysctlEntry? { entries.value?[key] }

    /// The /proc/sys path of a dotted key.
    public static func path(of key: String) -> String {
        "/proc/sys/" + String(key.map { $0 == "." ? "/" : $0 })
    }
}

public struct SysctlEntry: Codable, Sendable, Equatable {
    public var value: Reading<String>
    /// Permission bits of the /proc/sys file (e.g. 0o644, or 0o444 for a key read-only in this namespace).
    public var mode: UInt16?
    /// Where the value was read when not from its /proc/sys file: "sos_commands/kernel/sysctl_-a:812".
    public var source: String?

    public init(value: Reading<String>, mode: UInt16? = nil, source: String? = nil) {
        self.value = value
        self.mode = mode
        self.source = source
    }

    /// procfs sysctls check the owner write bit even for root.
    public var writable: Bool? { mode.map { $0 & 0o200 != 0 } }
}

/// /proc/net/netfilter/nf_log: per protocol family, the bound logger and every registered one.
public struct NfLogRegistry: Codable, Sendable, Equatable {
    public var families: Reading<[NfLogFamily]>

    public init(families: Reading<[NfLogFamily]> = .failed("not probed")) {
        self.families = families
    }

    public func family(_ pf: Int) -> NfLogFamily? { families.value?.first { $0.pf == pf } }
}

public struct NfLogFamily: Codable, Sendable, Equatable {
    /// NFPROTO number: 2 IPv4, 3 ARP, 5 netdev, 7 bridge, 10 IPv6.
    public var pf: Int
    /// The bound logger, nil for NONE.
    public var bound: String?
    /// Loggers registered for this family (LOG type first, then ULOG), e.g. ["nf_log_ipv4", "nfnetlink_log"].
    public var registered: [String]

    public init(pf: Int, bound: String?, registered: [String]) {
        self.pf = pf
        self.bound = bound
        self.registered = registered
    }
}

/// Where each module that matters to ctdoctor stands: loaded, built in, on disk, or not there.
public struct ModuleInventory: Codable, Sendable, Equatable {
    /// True when /proc/modules exists (the kernel loads modules); false for a monolithic kernel; nil if unknown.
    public var loadableModules: Bool?
    /// /lib/modules/<release>, when it exists in the root.
    public var moduleTree: String?
    public var modules: [String: ModuleStatus]

    public init(loadableModules: Bool? = nil, moduleTree: String? = nil, modules: [String: ModuleStatus] = [:]) {
        self.loadableModules = loadableModules
        self.moduleTree = moduleTree
        self.modules = modules
    }

    /// The modules the probes look for.
    public static let tracked = [
        "nf_conntrack", "nf_conntrack_netlink", "nf_log_syslog", "nf_log_ipv4", "nf_log_ipv6",
        "nf_log_arp", "nf_log_bridge", "nf_log_netdev", "nf_log_common", "nfnetlink_log", "nfnetlink_cthelper", "nf_tables",
    ] + ConntrackHelperModule.known.map(\.module)

    public func status(_ name: String) -> ModuleStatus {
        modules[name] ?? ModuleStatus(state: .unknown, evidence: "\(name) was not probed")
    }
}

public struct ModuleStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// Listed in /proc/modules.
        case loaded
        /// Part of the kernel image (modules.builtin, /sys/module without /proc/modules, or CONFIG_…=y).
        case builtIn = "built-in"
        /// Not loaded, but a module file exists under /lib/modules/<release>.
        case available
        /// Known not to exist for this kernel.
        case missing
        /// Cannot be told from what the root holds.
        case unknown
    }

    public var state: State
    /// What said so, e.g. "/proc/modules", "modules.builtin", "/lib/modules/6.1.0-27-amd64/kernel/net/netfilter/nf_log_syslog.ko".
    public var evidence: String

    public init(state: State, evidence: String) {
        self.state = state
        self.evidence = evidence
    }

    public var isPresent: Bool { state == .loaded || state == .builtIn }
}

/// Conntrack statistics summed over CPUs, for this network namespace.
public struct ConntrackStats: Codable, Sendable, Equatable {
    /// Where they came from, e.g. "/proc/net/stat/nf_conntrack".
    public var source: String
    public var cpus: Int
    /// Counter name → total. Names follow ctnetlink (`invalid`, `drop`, `early_drop`, `insert_failed`,
    /// `clash_resolve`, `chaintoolong`, `error`, `search_restart`, `found`, `insert`), whatever the source called them.
    public var counters: [String: UInt64]
    /// Each CPU's own counters, where the source gave them (`conntrack -S` lines, /proc rows, ctnetlink's per-CPU
    /// replies); nil in snapshots from before they were kept. Only for telling which CPU took a counter's share.
    public var perCPU: [CPUCounterRow]?

    public init(source: String, cpus: Int, counters: [String: UInt64], perCPU: [CPUCounterRow]? = nil) {
        self.source = source
        self.cpus = cpus
        self.counters = counters
        self.perCPU = perCPU
    }
}

/// One CPU's conntrack counters, by ctnetlink's names.
public struct CPUCounterRow: Codable, Sendable, Equatable {
    /// The CPU number (`cpu=N` of `conntrack -S`, the row of /proc/net/stat/nf_conntrack, ctnetlink's res_id).
    public var cpu: Int
    public var counters: [String: UInt64]

    public init(cpu: Int, counters: [String: UInt64]) {
        self.cpu = cpu
        self.counters = counters
    }
}

/// A snapshot written by a ctdoctor that lacked some probe still loads: each missing section reads as absent,
/// saying so, and the checks that need it say so too instead of the whole file being refused.
extension HostSnapshot {
    enum CodingKeys: String, CodingKey {
        case schema, takenAt, toolVersion, root, host, kernelConfig, sysctls, nfLog, modules, stats
        case kernelLog, dynamicDebug, persisted, ctnetlink, conntrackSlab, sample, tableSummary, ruleset, helpers
        case sourceNotes, listing, datapathConntrack, initialNamespaceSysctls
    }

    static func notInSnapshot(takenBy version: String) -> String {
        "not in this snapshot (taken by ctdoctor \(version), before it read this)"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let toolVersion = try c.decode(String.self, forKey: .toolVersion)
        let older = Self.notInSnapshot(takenBy: toolVersion)
        func section<T: Decodable>(_ key: CodingKeys, _ missing: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? missing
        }
        self.init(
            takenAt: try c.decode(String.self, forKey: .takenAt),
            toolVersion: toolVersion,
            root: try c.decode(String.self, forKey: .root),
            host: try c.decode(HostInfo.self, forKey: .host),
            kernelConfig: try section(.kernelConfig, KernelConfig(source: .absent(older))),
            sysctls: try section(.sysctls, SysctlTable(entries: .absent(older))),
            nfLog: try section(.nfLog, NfLogRegistry(families: .absent(older))),
            modules: try section(.modules, ModuleInventory()),
            stats: try section(.stats, .absent(older)),
            kernelLog: try section(.kernelLog, .absent(older)),
            dynamicDebug: try section(.dynamicDebug, .absent(older)),
            persisted: try section(.persisted, .absent(older)),
            ctnetlink: try section(.ctnetlink, .absent(older)),
            conntrackSlab: try section(.conntrackSlab, .absent(older)),
            sample: try c.decodeIfPresent(CounterSample.self, forKey: .sample),
            tableSummary: try section(.tableSummary, .absent(older)),
            ruleset: try section(.ruleset, Ruleset(sources: [RulesetSource(backend: .nftables, origin: "snapshot", rules: .absent(older))])),
            helpers: try section(.helpers, HelperFacts(expectations: .absent(older), userspace: .absent(older))))
        schema = try c.decode(String.self, forKey: .schema)
        sourceNotes = try c.decodeIfPresent([String].self, forKey: .sourceNotes)
        listing = try c.decodeIfPresent(Reading<ConntrackListing>.self, forKey: .listing)
        datapathConntrack = try c.decodeIfPresent(Reading<DatapathConntrack>.self, forKey: .datapathConntrack)
        initialNamespaceSysctls = try c.decodeIfPresent([String: SysctlEntry].self, forKey: .initialNamespaceSysctls)
    }
}
