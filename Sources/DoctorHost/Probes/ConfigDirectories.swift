import DoctorCore
/// systemd's rules for `*.d` configuration folders (sysctl.d(5), modules-load.d(5); kmod reads modprobe.d alike):
/// files from several folders are merged and sorted by file name; a file hides one of the same name in a later
/// folder of the list; a file that is a link to /dev/null masks that name.
struct ConfigDirectories {
    struct File {
        /// The entry in the folder, e.g. /etc/sysctl.d/99-sysctl.conf.
        var path: String
        /// Where it leads when it is a link (normalised host path), e.g. /etc/sysctl.conf.
        var target: String?
        var text: Reading<String>

        /// The file to edit: the link's target, or the file itself.
        var source: String { target ?? path }
    }

    let directories: [String]
    let suffix: String

    /// The files that apply, in the order they are read. Folders that exist but cannot be listed are added to `problems`.
    func files(_ host: HostRoot, problems: inout [String]) -> [File] {
        var chosen: [String: String] = [:]
        for directory in directories {
            switch host.list(directory) {
            case .value(let names):
                for name in names where name.hasSuffix(suffix) && chosen[name] == nil {
                    chosen[name] = directory + "/" + name
                }
            case .absent:
                continue
            case .denied(let why), .failed(let why):
                problems.append(why)
            }
        }
        return chosen.keys.sorted().compactMap { name in
            Self.open(host, chosen[name]!)
        }
    }

    /// Reads a file, following a link inside the root (an absolute target is taken under the root, never on the live
    /// host); nil when it is a link to /dev/null, which masks the name. A name that is not UTF-8 is read all the same
    /// and shown with its raw bytes escaped (`\xFF`).
    static func open(_ host: HostRoot, _ path: String) -> File? {
        let shown = HostRoot.displayPath(path)
        guard case .value(let link) = host.readLink(path) else {
            return File(path: shown, target: nil, text: host.read(path, limit: .configFile))
        }
        let target = normalise(link.hasPrefix("/") ? link : parent(path) + "/" + link)
        if target == "/dev/null" { return nil }
        return File(path: shown, target: HostRoot.displayPath(target), text: host.read(target, limit: .configFile))
    }

    static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// "/etc/sysctl.d/../sysctl.conf" → "/etc/sysctl.conf".
    static func normalise(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": _ = parts.popLast()
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Lines that carry something: trimmed, without blank lines and `#` or `;` comments, with their 1-based numbers.
    /// Split on line feeds as bytes, as systemd and kmod read these files (a `\r` before one is trimmed with the
    /// rest of the white space); only the lines kept become Strings.
    static func lines(_ text: String) -> [(number: Int, text: String)] {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { index, raw in
            let start = raw.firstIndex { !Bytes.isSpace($0) }
            guard let start, raw[start] != UInt8(ascii: "#"), raw[start] != UInt8(ascii: ";") else { return nil }
            let line = String(Substring(raw[start...])).trimmingWhitespace()
            return line.isEmpty ? nil : (index + 1, line)
        }
    }

    /// The folders systemd and kmod search for `name` (e.g. "sysctl.d"), highest precedence first.
    static func standard(_ name: String, suffix: String = ".conf") -> ConfigDirectories {
        ConfigDirectories(
            directories: ["/etc/", "/run/", "/usr/local/lib/", "/usr/lib/", "/lib/"].map { $0 + name },
            suffix: suffix)
    }
}
