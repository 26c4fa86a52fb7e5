import DoctorCore
/// Where each tracked module stands: loaded, built in, on disk, missing, or unknown, with the source that decided.
/// Run after `HostIdentityProbe` (release), `KernelConfigProbe` (options) and `NfLogProbe` (registered loggers).
public struct ModuleProbe: Probe {
    public let name = "modules"

    /// The Kconfig option that builds each tracked module.
    public static let configOption: [String: String] = [
        "nf_conntrack": "CONFIG_NF_CONNTRACK",
        "nf_conntrack_netlink": "CONFIG_NF_CT_NETLINK",
        "nf_log_syslog": "CONFIG_NF_LOG_SYSLOG",
        "nf_log_ipv4": "CONFIG_NF_LOG_IPV4",
        "nf_log_ipv6": "CONFIG_NF_LOG_IPV6",
        "nf_log_arp": "CONFIG_NF_LOG_ARP",
        "nf_log_bridge": "CONFIG_NF_LOG_BRIDGE",
        "nf_log_netdev": "CONFIG_NF_LOG_NETDEV",
        "nf_log_common": "CONFIG_NF_LOG_COMMON",
        "nfnetlink_log": "CONFIG_NETFILTER_NETLINK_LOG",
    ].merging(ConntrackHelperModule.known.map { ($0.module, $0.config) }) { first, _ in first }

    /// Since 5.13 these are no longer modules of their own: nf_log_syslog provides the loggers of these names and
    /// carries them as MODULE_ALIAS, so `modprobe nf_log_ipv4` loads nf_log_syslog.
    public static let nfLogSyslogAliases: Set<String> = ["nf_log_arp", "nf_log_bridge", "nf_log_ipv4", "nf_log_ipv6", "nf_log_netdev"]
    static let nfLogSyslogSince = KernelVersion(5, 13)

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        let facts = Facts.read(context.host, snapshot: snapshot)
        var inventory = ModuleInventory(loadableModules: facts.loadableModules, moduleTree: facts.moduleTree)
        for name in ModuleInventory.tracked {
            inventory.modules[name] = facts.status(of: name)
        }
        snapshot.modules = inventory
    }

    /// Everything the decision looks at, read once.
    struct Facts {
        /// Loaded module → where that was read ("/proc/modules", or "sos_commands/kernel/lsmod:45" in a sosreport).
        var procModules: Reading<[String: String]>
        var release: String?
        var version: KernelVersion?
        /// "/lib/modules/<release>" when it exists.
        var moduleTree: String?
        /// Basenames (without .ko…) listed in modules.builtin.
        var builtin: Reading<Set<String>>
        /// Basename → host path of the module file, from modules.dep.
        var onDisk: Reading<[String: String]>
        var sysModule: (String) -> Bool
        var config: KernelConfig
        /// Logger names registered (or bound) for any family in /proc/net/netfilter/nf_log.
        var registeredLoggers: Set<String>

        var loadableModules: Bool? {
            switch procModules {
            case .value: true
            case .absent: false
            case .denied, .failed: nil
            }
        }

        static func read(_ host: HostRoot, snapshot: HostSnapshot) -> Facts {
            let release = snapshot.host.kernelRelease.value
            var tree: String?
            if let release, host.isDirectory("/lib/modules/" + release) { tree = "/lib/modules/" + release }
            let treeMissing: Reading<String> = .absent(
                release.map { "/lib/modules/\($0) is missing" } ?? "/lib/modules/<release>: the kernel release is unknown")
            let builtin: Reading<Set<String>> = tree.map { tree in
                host.read(tree + "/modules.builtin", limit: .configFile).map { text in
                    Set(text.split(whereSeparator: \.isNewline).map { ModuleProbe.moduleName(fromPath: String($0)) })
                }
            } ?? treeMissing.map { _ in [] }
            let onDisk: Reading<[String: String]> = tree.map { tree in
                host.read(tree + "/modules.dep", limit: .configFile).map { ModuleProbe.parseModulesDep($0, tree: tree) }
            } ?? treeMissing.map { _ in [:] }
            var loggers: Set<String> = []
            for family in snapshot.nfLog.families.value ?? [] {
                loggers.formUnion(family.registered)
                if let bound = family.bound { loggers.insert(bound) }
            }
            return Facts(
                procModules: ModuleProbe.loadedWithSource(host),
                release: release, version: snapshot.host.kernelVersion, moduleTree: tree,
                builtin: builtin, onDisk: onDisk, sysModule: { host.isDirectory("/sys/module/" + $0) },
                config: snapshot.kernelConfig, registeredLoggers: loggers)
        }

        /// nf_log_syslog for the old per-family logger names on kernels that merged them; the name itself otherwise.
        func provider(of name: String) -> String {
            guard ModuleProbe.nfLogSyslogAliases.contains(name) else { return name }
            if let version { return version >= ModuleProbe.nfLogSyslogSince ? "nf_log_syslog" : name }
            // Release unknown: a module tree that ships nf_log_syslog is a 5.13+ tree.
            return onDisk.value?["nf_log_syslog"] != nil ? "nf_log_syslog" : name
        }

        func status(of name: String) -> ModuleStatus {
            let module = provider(of: name)
            let via = module == name ? "" : " (\(name) is part of nf_log_syslog since 5.13)"
            let option = ModuleProbe.configOption[module]
            let configSource = config.source.value ?? "the kernel configuration"

            // Loaded.
            if let source = procModules.value?[module] {
                return ModuleStatus(state: .loaded, evidence: "\(source) lists \(module)" + via)
            }
            // Built in.
            if let builtin = builtin.value, builtin.contains(module), let tree = moduleTree {
                return ModuleStatus(state: .builtIn, evidence: "\(tree)/modules.builtin lists \(module)" + via)
            }
            if loadableModules != nil, sysModule(module) {
                let why = loadableModules == true ? "/proc/modules does not list it" : "there is no /proc/modules"
                return ModuleStatus(state: .builtIn, evidence: "/sys/module/\(module) exists and \(why)" + via)
            }
            if let option, config.tristate(option) == .builtIn {
                return ModuleStatus(state: .builtIn, evidence: "\(option)=y in \(configSource)" + via)
            }
            if loadableModules == false {
                if registeredLoggers.contains(name) {
                    return ModuleStatus(state: .builtIn, evidence:
                        "logger \(name) is registered in \(NfLogProbe.path) and the kernel has no /proc/modules")
                }
                if module == "nf_log_syslog", name == module, let version, version >= ModuleProbe.nfLogSyslogSince {
                    let provided = ModuleProbe.nfLogSyslogAliases.intersection(registeredLoggers).sorted()
                    if !provided.isEmpty {
                        return ModuleStatus(state: .builtIn, evidence:
                            "loggers \(provided.joined(separator: ", ")) are registered in \(NfLogProbe.path), "
                            + "the kernel has no /proc/modules, and since 5.13 nf_log_syslog provides them")
                    }
                }
            }
            // On disk.
            if let path = onDisk.value?[module] {
                return ModuleStatus(state: .available, evidence: path + via)
            }
            // Missing.
            if onDisk.value != nil, let tree = moduleTree {
                let notLoaded = procModules.value != nil ? "not in /proc/modules, " : ""
                return ModuleStatus(state: .missing, evidence:
                    "\(module) is \(notLoaded)not in \(tree)/modules.builtin and not in \(tree)/modules.dep" + via)
            }
            if let option, config.tristate(option) == .notSet {
                let how = config.options[option] == "n" ? "\(option) is not set" : "\(option) does not appear"
                return ModuleStatus(state: .missing, evidence: "\(how) in \(configSource)" + via)
            }
            // Unknown.
            var why: [String] = []
            switch procModules {
            case .value: why.append("/proc/modules does not list \(module)")
            case .absent: why.append("there is no /proc/modules")
            case .denied(let p), .failed(let p): why.append(p)
            }
            if let problem = onDisk.problem { why.append(problem) }
            if let option {
                if let problem = config.source.problem { why.append("\(option) unknown: \(problem)") }
                else if let value = config.options[option] { why.append("\(option)=\(value) in \(configSource)") }
            }
            return ModuleStatus(state: .unknown, evidence: why.joined(separator: "; ") + via)
        }
    }

    /// Where a sosreport keeps `lsmod`.
    public static let sosreportLsmod = "/sos_commands/kernel/lsmod"

    /// Loaded modules from /proc/modules; in a copied sosreport without that copy, from its `lsmod` output (the
    /// same first column after a "Module Size Used by" header).
    static func loaded(_ host: HostRoot) -> Reading<Set<String>> {
        loadedWithSource(host).map { Set($0.keys) }
    }

    /// The same, each with where it was read: the file on a live host, file and line in a sosreport.
    static func loadedWithSource(_ host: HostRoot) -> Reading<[String: String]> {
        let proc = host.read("/proc/modules")
        guard case .absent = proc, !host.isLive, case .value(let lsmod) = host.read(sosreportLsmod, limit: .commandOutput) else {
            // A sosreport without either list says nothing about modules (not "a kernel without modules").
            if host.isSosreport, case .absent = proc {
                return .notCollected("neither proc/modules nor \(host.cite(sosreportLsmod)) is in this sosreport")
            }
            return proc.map { lines($0, cite: { host.isSosreport ? host.cite("/proc/modules", line: $0) : "/proc/modules" }) }
        }
        var listed = lines(lsmod, cite: { host.cite(sosreportLsmod, line: $0) })
        listed["Module"] = nil
        return .value(listed)
    }

    private static func lines(_ text: String, cite: (Int) -> String) -> [String: String] {
        var modules: [String: String] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let name = line.split(whereSeparator: \.isWhitespace).first else { continue }
            modules[String(name)] = cite(index + 1)
        }
        return modules
    }

    /// First column of each /proc/modules line.
    public static func parseProcModules(_ text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isNewline).compactMap { $0.split(whereSeparator: \.isWhitespace).first.map(String.init) })
    }

    /// Module name → host path, from lines like `kernel/net/netfilter/nf_log_syslog.ko: dep.ko …`.
    public static func parseModulesDep(_ text: String, tree: String) -> [String: String] {
        var files: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let relative = String(line[..<colon]).trimmingWhitespace()
            if relative.isEmpty { continue }
            let path = relative.hasPrefix("/") ? relative : tree + "/" + relative
            files[moduleName(fromPath: relative)] = path
        }
        return files
    }

    /// `kernel/net/netfilter/nf_log_syslog.ko.zst` → `nf_log_syslog` (dashes read as underscores, as the kernel does).
    public static func moduleName(fromPath path: String) -> String {
        var base = Substring(path.trimmingWhitespace())
        if let slash = base.lastIndex(of: "/") { base = base[base.index(after: slash)...] }
        for suffix in [".ko.xz", ".ko.zst", ".ko.gz", ".ko"] where base.hasSuffix(suffix) {
            base = base.dropLast(suffix.count)
            break
        }
        return String(base.map { $0 == "-" ? "_" : $0 })
    }
}
