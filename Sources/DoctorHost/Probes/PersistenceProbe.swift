import DoctorCore
/// What the boot configuration sets for netfilter: sysctl.d (as systemd-sysctl applies it), modules-load.d,
/// modprobe.d options for nf_conntrack, the kernel command line, and udev rules that re-run systemd-sysctl.
public struct PersistenceProbe: Probe {
    public let name = "boot configuration"

    public static let sysctlConf = "/etc/sysctl.conf"
    public static let etcModules = "/etc/modules"
    public static let cmdline = SourcePath.cmdline

    static let sysctlDirectories = ConfigDirectories.standard("sysctl.d")
    static let modulesLoadDirectories = ConfigDirectories.standard("modules-load.d")
    static let modprobeDirectories = ConfigDirectories.standard("modprobe.d")
    static let udevDirectories = ConfigDirectories.standard("udev/rules.d", suffix: ".rules")

    public init() {}

    /// Files only, none of them netfilter's own state: read on a thread of its own while the other probes run.
    public func prefetch(into batch: CommandBatch, context: ProbeContext) {
        let host = context.host
        batch.startWork(name) { Self.read(host) }
    }

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.persisted = prefetched(context) { Self.read(context.host) }
    }

    static func read(_ host: HostRoot) -> Reading<PersistedSettings> {
        guard host.isDirectory("/etc") else { return .absent("\(host.resolve("/etc")) does not exist: no boot configuration to read") }
        var settings = PersistedSettings()
        var problems: [String] = []
        readSysctls(host, into: &settings, problems: &problems)
        readModulesLoad(host, into: &settings, problems: &problems)
        readModprobe(host, into: &settings, problems: &problems)
        readUdev(host, into: &settings, problems: &problems)
        settings.problems = problems
        return .value(settings)
    }

    // MARK: sysctl.d

    /// systemd-sysctl reads only the sysctl.d folders; /etc/sysctl.conf reaches it through a link such as Debian's
    /// /etc/sysctl.d/99-sysctl.conf. Without such a link it is read last, as `sysctl --system` (procps) does.
    static func readSysctls(_ host: HostRoot, into settings: inout PersistedSettings, problems: inout [String]) {
        var files = sysctlDirectories.files(host, problems: &problems)
        if !files.contains(where: { $0.target == sysctlConf }), host.exists(sysctlConf) {
            files.append(ConfigDirectories.File(path: sysctlConf, target: nil, text: host.read(sysctlConf, limit: .configFile)))
        }
        for file in files {
            settings.sysctlFiles.append(file.target.map { "\(file.path) -> \($0)" } ?? file.path)
            guard let text = file.text.value else {
                problems.append(file.text.problem ?? file.path)
                continue
            }
            for (number, line) in ConfigDirectories.lines(text) {
                guard let assignment = parseSysctl(line), isNetfilter(assignment.key) else { continue }
                var entry = PersistedSysctl(
                    value: assignment.value, file: file.source, line: number, written: assignment.written,
                    ignoreErrors: assignment.ignoreErrors)
                if let earlier = settings.sysctls[assignment.key] {
                    entry.overrides = earlier.overrides + [ConfigEntry(value: earlier.value, file: earlier.file, line: earlier.line)]
                }
                settings.sysctls[assignment.key] = entry
            }
        }
    }

    static func isNetfilter(_ key: String) -> Bool {
        key.hasPrefix("net.netfilter.") || key == "net.nf_conntrack_max"
    }

    /// `[-]key = value`, the key with `.` or `/` separators (if the first separator is `/`, the key is a path).
    /// Glob keys (`net.netfilter.*`) and lines without `=` give nil.
    static func parseSysctl(_ line: String) -> (key: String, value: String, written: String, ignoreErrors: Bool)? {
        guard let eq = line.firstIndex(of: "=") else { return nil }
        let written = String(line[..<eq]).trimmingWhitespace()
        let value = String(line[line.index(after: eq)...]).trimmingWhitespace()
        var key = Substring(written)
        let ignoreErrors = key.hasPrefix("-")
        if ignoreErrors { key = key.dropFirst() }
        while key.hasPrefix("/") { key = key.dropFirst() }
        guard !key.isEmpty, !key.contains(where: { "*?[".contains($0) }) else { return nil }
        let firstSeparator = key.first { $0 == "." || $0 == "/" }
        let parts = key.split(separator: firstSeparator == "/" ? "/" : ".")
        return (parts.joined(separator: "."), value, written, ignoreErrors)
    }

    // MARK: modules-load.d, /etc/modules, modules-load= on the kernel command line

    static func readModulesLoad(_ host: HostRoot, into settings: inout PersistedSettings, problems: inout [String]) {
        var files = modulesLoadDirectories.files(host, problems: &problems)
        // Debian reads /etc/modules through /etc/modules-load.d/modules.conf; read it directly when nothing links to it.
        if !files.contains(where: { $0.target == etcModules }), host.exists(etcModules) {
            files.append(ConfigDirectories.File(path: etcModules, target: nil, text: host.read(etcModules, limit: .configFile)))
        }
        for file in files {
            guard let text = file.text.value else {
                problems.append(file.text.problem ?? file.path)
                continue
            }
            for (number, line) in ConfigDirectories.lines(text) {
                guard let word = line.split(whereSeparator: \.isWhitespace).first, let module = moduleName(word) else { continue }
                settings.modulesLoad.append(ConfigEntry(value: module, file: file.source, line: number))
            }
        }
        for word in cmdlineWords(host) {
            for prefix in ["modules-load=", "rd.modules-load="] where word.hasPrefix(prefix) {
                for name in word.dropFirst(prefix.count).split(separator: ",") {
                    if let module = moduleName(name) { settings.modulesLoad.append(ConfigEntry(value: module, file: cmdline, line: 1)) }
                }
            }
        }
    }

    /// A module name as the kernel spells it (dashes become underscores); nil for anything that is not a name.
    static func moduleName(_ word: Substring) -> String? {
        guard !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        return String(word.map { $0 == "-" ? "_" : $0 })
    }

    static func cmdlineWords(_ host: HostRoot) -> [Substring] {
        host.read(cmdline).value.map { $0.split(whereSeparator: \.isWhitespace) } ?? []
    }

    // MARK: modprobe.d options and nf_conntrack.NAME= on the kernel command line

    /// Later `options` lines override earlier ones for the same parameter, as the kernel takes the last of each.
    static func readModprobe(_ host: HostRoot, into settings: inout PersistedSettings, problems: inout [String]) {
        for file in modprobeDirectories.files(host, problems: &problems) {
            guard let text = file.text.value else {
                problems.append(file.text.problem ?? file.path)
                continue
            }
            for (number, line) in ConfigDirectories.lines(text) {
                let words = line.split(whereSeparator: \.isWhitespace)
                guard words.count >= 3, words[0] == "options", moduleName(words[1]) == "nf_conntrack" else { continue }
                for option in words.dropFirst(2) {
                    guard let eq = option.firstIndex(of: "=") else { continue }
                    settings.conntrackOptions[String(option[..<eq])] = ConfigEntry(
                        value: String(option[option.index(after: eq)...]), file: file.source, line: number)
                }
            }
        }
        for word in cmdlineWords(host) where word.hasPrefix("nf_conntrack.") {
            guard let eq = word.firstIndex(of: "=") else { continue }
            let name = String(word[word.index(word.startIndex, offsetBy: "nf_conntrack.".count)..<eq])
            settings.conntrackOptions[name] = ConfigEntry(value: String(word[word.index(after: eq)...]), file: cmdline, line: 1)
        }
    }

    // MARK: udev rules that re-run systemd-sysctl when nf_conntrack appears

    static func readUdev(_ host: HostRoot, into settings: inout PersistedSettings, problems: inout [String]) {
        for file in udevDirectories.files(host, problems: &problems) {
            // Most rules files never name systemd-sysctl: passed over without being split into lines.
            guard let text = file.text.value, text.utf8.withContiguousStorageIfAvailable({
                Bytes.contains(UnsafeRawBufferPointer($0), "systemd-sysctl")
            }) ?? true else { continue }
            for (number, line) in ConfigDirectories.lines(text) where line.contains("systemd-sysctl") && line.contains("nf_conntrack") {
                settings.udevSysctlRules.append(ConfigEntry(value: line, file: file.source, line: number))
            }
        }
    }
}
