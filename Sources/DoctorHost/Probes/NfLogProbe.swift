import DoctorCore
/// /proc/net/netfilter/nf_log: per protocol family, the bound logger and the registered ones.
public struct NfLogProbe: Probe {
    public let name = "nf_log registry"

    public static let path = "/proc/net/netfilter/nf_log"

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.nfLog = NfLogRegistry(families: context.host.read(Self.path).flatMap(Self.parse))
    }

    /// Lines as the kernel prints them (`"%2d %s (%s)"`): ` 2 nf_log_ipv4 (nf_log_ipv4,nfnetlink_log)`,
    /// ` 0 NONE (nfnetlink_log)`, ` 4 NONE ()`. Blank lines are skipped; any other line fails the whole reading.
    public static func parse(_ text: String) -> Reading<[NfLogFamily]> {
        var families: [NfLogFamily] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = String(raw).trimmingWhitespace()
            if line.isEmpty { continue }
            guard let family = parseLine(line) else {
                return .failed("\(path) line \(index + 1): cannot parse \"\(line)\"")
            }
            families.append(family)
        }
        return .value(families)
    }

    static func parseLine(_ line: String) -> NfLogFamily? {
        guard let open = line.firstIndex(of: "("), line.hasSuffix(")") else { return nil }
        let head = line[..<open].split(whereSeparator: \.isWhitespace)
        guard head.count == 2, let pf = Int(head[0]), pf >= 0 else { return nil }
        let inside = line[line.index(after: open)..<line.index(before: line.endIndex)]
        guard !inside.contains("("), !inside.contains(")") else { return nil }
        let registered = inside.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        let bound = String(head[1])
        return NfLogFamily(pf: pf, bound: bound == "NONE" ? nil : bound, registered: registered)
    }
}
