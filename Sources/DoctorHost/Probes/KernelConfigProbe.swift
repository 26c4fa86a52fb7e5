import DoctorCore
/// Netfilter-related kernel build options, from /proc/config.gz or else /boot/config-<release>.
/// Run after `HostIdentityProbe`: the /boot file is named after the kernel release.
public struct KernelConfigProbe: Probe {
    public let name = "kernel config"

    /// Options whose name starts with one of these are kept; the rest of the configuration is dropped.
    public static let keptPrefixes = [
        "CONFIG_NF_", "CONFIG_NETFILTER", "CONFIG_NFT_", "CONFIG_IP_NF_", "CONFIG_IP6_NF_",
        "CONFIG_BRIDGE_NETFILTER", "CONFIG_MODULES", "CONFIG_DYNAMIC_DEBUG",
    ]

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        let host = context.host
        var problems: [Reading<String>] = []

        // 1. /proc/config.gz (CONFIG_IKCONFIG_PROC), gzip-compressed.
        let gzPath = "/proc/config.gz"
        switch host.readBytes(gzPath, limit: .configFile) {
        case .value(let bytes):
            switch Gzip.decompress(bytes) {
            case .success(let text):
                snapshot.kernelConfig = KernelConfig(
                    source: .value(gzPath), options: Self.parse(String(decoding: text, as: UTF8.self)))
                return
            case .failure(let failure):
                problems.append(.failed("\(gzPath): \(failure)"))
            }
        case .absent(let why): problems.append(.absent(why))
        case .denied(let why): problems.append(.denied(why))
        case .failed(let why): problems.append(.failed(why))
        }

        // 2. /boot/config-<release>, plain text.
        if let release = snapshot.host.kernelRelease.value {
            let bootPath = "/boot/config-" + release
            switch host.read(bootPath, limit: .configFile) {
            case .value(let text):
                snapshot.kernelConfig = KernelConfig(source: .value(bootPath), options: Self.parse(text))
                return
            case let other: problems.append(other)
            }
        } else {
            problems.append(.absent("/boot/config-<release>: the kernel release is unknown"))
        }

        snapshot.kernelConfig = KernelConfig(source: Self.combine(problems), options: [:])
    }

    /// `CONFIG_X=y|m` and `# CONFIG_X is not set`, for the kept prefixes only. Other values (numbers, strings) are dropped.
    public static func parse(_ text: String) -> [String: String] {
        var options: [String: String] = [:]
        // A configuration has thousands of lines and only the netfilter ones are kept: lines are picked by their bytes
        // first, so only those become Strings (splitting the whole text by Characters cost a quarter of a check).
        var kept: [String] = []
        var text = text
        text.withUTF8 { bytes in
            // One pass over the bytes: a line is looked at only when it starts (after blanks and `#`) with CONFIG_.
            var start = 0
            for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: "\n") || bytes[i] == UInt8(ascii: "\r") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
                start = i + 1
                if mayBeKept(raw) { kept.append(String(decoding: raw, as: UTF8.self)) }
            }
        }
        for raw in kept {
            let line = raw.trimmingWhitespace()
            if line.hasPrefix("#") {
                // "# CONFIG_FOO is not set"
                let words = line.dropFirst().split(separator: " ")
                guard words.count == 4, words[1] == "is", words[2] == "not", words[3] == "set" else { continue }
                let name = String(words[0])
                if isKept(name) { options[name] = "n" }
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<eq])
            let value = String(line[line.index(after: eq)...])
            guard isKept(name), value == "y" || value == "m" else { continue }
            options[name] = value
        }
        return options
    }

    static func isKept(_ name: String) -> Bool { keptPrefixes.contains { name.hasPrefix($0) } }

    private static let keptPrefixBytes = keptPrefixes.map { Array($0.utf8) }

    /// Whether a line, after blanks and a "#", starts with a kept prefix; the String logic then decides.
    static func mayBeKept(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < line.count, line[i] == UInt8(ascii: " ") || line[i] == UInt8(ascii: "\t") || line[i] == UInt8(ascii: "#") { i += 1 }
        // Every kept prefix starts with CONFIG_: most lines are turned away by their first bytes.
        guard line.count - i > 7, line[i] == UInt8(ascii: "C"), line[i + 6] == UInt8(ascii: "_") else { return false }
        let rest = UnsafeBufferPointer(rebasing: line[i...])
        return keptPrefixBytes.contains { prefix in rest.count >= prefix.count && rest.prefix(prefix.count).elementsEqual(prefix) }
    }

    /// Neither source was usable: the worst problem decides the case (failed > denied > absent), and the text lists all.
    static func combine(_ problems: [Reading<String>]) -> Reading<String> {
        .worst(of: problems, text: "no kernel configuration: " + problems.compactMap(\.problem).joined(separator: "; "))
    }
}
