/// The dynamic debug control file, reduced to netfilter's pr_debug sites.
public struct DynamicDebug: Codable, Sendable, Equatable {
    /// The control file read: /proc/dynamic_debug/control or <debugfs>/dynamic_debug/control.
    public var control: String
    /// Where debugfs is mounted (from /proc/mounts), nil when it is not mounted or that cannot be told.
    public var debugfs: String?
    /// Every site in the control file, netfilter's or not.
    public var totalSites: Int
    /// Netfilter's sites by module, sorted by module name.
    public var modules: [DynamicDebugModule]
    /// The netfilter sites that are enabled (flags contain `p`), in file order.
    public var enabled: [DynamicDebugSite]

    public init(control: String, debugfs: String? = nil, totalSites: Int = 0, modules: [DynamicDebugModule] = [], enabled: [DynamicDebugSite] = []) {
        self.control = control
        self.debugfs = debugfs
        self.totalSites = totalSites
        self.modules = modules
        self.enabled = enabled
    }

    public func module(_ name: String) -> DynamicDebugModule? { modules.first { $0.name == name } }
}

public struct DynamicDebugModule: Codable, Sendable, Equatable {
    public var name: String
    public var total: Int
    public var enabled: Int
    /// Sites per source file, sorted by path.
    public var files: [DynamicDebugFile]

    public init(name: String, total: Int, enabled: Int, files: [DynamicDebugFile]) {
        self.name = name
        self.total = total
        self.enabled = enabled
        self.files = files
    }
}

public struct DynamicDebugFile: Codable, Sendable, Equatable {
    /// As the control file names it, e.g. "net/netfilter/nf_conntrack_proto_tcp.c".
    public var path: String
    public var total: Int
    public var enabled: Int

    public init(path: String, total: Int, enabled: Int) {
        self.path = path
        self.total = total
        self.enabled = enabled
    }
}

/// One line of the control file: `filename:lineno [module]function flags "format"`.
public struct DynamicDebugSite: Codable, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var module: String
    public var function: String
    /// The flag letters without "=", e.g. "p", "pmf"; "_" when none is set.
    public var flags: String
    public var format: String

    public init(file: String, line: Int, module: String, function: String, flags: String, format: String) {
        self.file = file
        self.line = line
        self.module = module
        self.function = function
        self.flags = flags
        self.format = format
    }

    public var isEnabled: Bool { flags.contains("p") }

    /// The line as the control file shows it.
    public var controlLine: String { "\(file):\(line) [\(module)]\(function) =\(flags) \"\(format)\"" }
}
