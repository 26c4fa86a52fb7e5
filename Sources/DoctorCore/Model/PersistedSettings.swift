/// What the host's boot configuration would set for netfilter: sysctl.d files, modules-load.d, modprobe.d options.
public struct PersistedSettings: Codable, Sendable, Equatable {
    /// Dotted key (`net.netfilter.nf_conntrack_max`, also `net.nf_conntrack_max`) → the assignment that wins at boot.
    public var sysctls: [String: PersistedSysctl]
    /// The sysctl files read, in the order they are applied (the last assignment of a key wins).
    public var sysctlFiles: [String]
    /// Modules loaded at boot by systemd-modules-load (modules-load.d, /etc/modules, `modules-load=` on the
    /// kernel command line), with where each is listed.
    public var modulesLoad: [ConfigEntry]
    /// `options nf_conntrack NAME=VALUE` from modprobe.d, and `nf_conntrack.NAME=VALUE` from the kernel command line.
    public var conntrackOptions: [String: ConfigEntry]
    /// udev rules that re-run systemd-sysctl when a netfilter module appears (the way sysctl.d(5) recommends).
    public var udevSysctlRules: [ConfigEntry]
    /// Files or folders that exist but could not be read, with why.
    public var problems: [String]

    public init(sysctls: [String: PersistedSysctl] = [:], sysctlFiles: [String] = [], modulesLoad: [ConfigEntry] = [],
                conntrackOptions: [String: ConfigEntry] = [:], udevSysctlRules: [ConfigEntry] = [], problems: [String] = []) {
        self.sysctls = sysctls
        self.sysctlFiles = sysctlFiles
        self.modulesLoad = modulesLoad
        self.conntrackOptions = conntrackOptions
        self.udevSysctlRules = udevSysctlRules
        self.problems = problems
    }

    /// Whether `module` is loaded at boot by systemd-modules-load, and where it is listed.
    public func loadsAtBoot(_ module: String) -> ConfigEntry? { modulesLoad.first { $0.value == module } }
}

/// A value and the file and line that set it.
public struct ConfigEntry: Codable, Sendable, Equatable {
    public var value: String
    public var file: String
    public var line: Int

    public init(value: String, file: String, line: Int) {
        self.value = value
        self.file = file
        self.line = line
    }

    /// "/etc/sysctl.d/99-custom.conf:3".
    public var location: String { "\(file):\(line)" }
}

public struct PersistedSysctl: Codable, Sendable, Equatable {
    /// The winning assignment.
    public var value: String
    public var file: String
    public var line: Int
    /// The key as written there, e.g. `-net/netfilter/nf_conntrack_max`.
    public var written: String
    /// Written with a leading `-`: systemd-sysctl ignores a failure to set it (such as a missing key).
    public var ignoreErrors: Bool
    /// Earlier assignments of the same key that this one overrides, in the order they were read.
    public var overrides: [ConfigEntry]

    public init(value: String, file: String, line: Int, written: String, ignoreErrors: Bool = false, overrides: [ConfigEntry] = []) {
        self.value = value
        self.file = file
        self.line = line
        self.written = written
        self.ignoreErrors = ignoreErrors
        self.overrides = overrides
    }

    public var location: String { "\(file):\(line)" }
}
