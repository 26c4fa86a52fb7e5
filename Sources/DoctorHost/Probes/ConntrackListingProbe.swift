import DoctorCore
import Foundation

/// In a sosreport: the conntrack table as sos listed it (`conntrack -L -o extended`, else Open vSwitch's
/// `dpctl/dump-conntrack`) and OVS's datapath conntrack count (`dpctl/ct-stats-show`). Live, `--deep` dumps the table
/// itself (TableDumpProbe), so nothing is read here.
public struct ConntrackListingProbe: Probe {
    public let name = "conntrack listing"

    /// Where sos keeps `conntrack -L -o extended`: its conntrack plugin, or networking in older sos versions.
    public static let listings = [
        "/sos_commands/conntrack/conntrack_-L_-o_extended", "/sos_commands/networking/conntrack_-L_-o_extended",
    ]
    static let openvswitch = "/sos_commands/openvswitch"
    static let examplesKept = 3

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        let host = context.host
        guard host.isSosreport else { return }
        let ovs = (host.list(Self.openvswitch).value ?? []).sorted()
        let dumps = ovs.filter { $0.contains("dpctl.dump-conntrack") }.map { Self.openvswitch + "/" + $0 }
        for path in Self.listings + dumps {
            guard case .value(let text) = host.read(path, limit: .commandOutput) else { continue }
            snapshot.listing = .value(Self.parse(text, source: host.cite(path)))
            break
        }
        if let stats = ovs.first(where: { $0.contains("dpctl.ct-stats-show") }) {
            let path = Self.openvswitch + "/" + stats
            snapshot.datapathConntrack = host.read(path, limit: .commandOutput).flatMap { text in
                Self.parseCtStats(text, source: host.cite(path)).map { .value($0) }
                    ?? .failed("\(host.cite(path)): no \"Total:\" line")
            }
        }
    }

    /// `conntrack -L -o extended` or `dpctl/dump-conntrack` lines. conntrack's own summary goes to stderr, and sos
    /// keeps both streams in one file, so it may be spliced into a line ("ipv4conntrack v1.4.7 (conntrack-tools): 65
    /// flow entries have been shown.\n     2 udp …"): it is cut out, with its newline, before the lines are read.
    static func parse(_ text: String, source: String) -> ConntrackListing {
        var listing = ConntrackListing(source: source)
        var body = Substring(text)
        var rest = ""
        while let summary = body.range(of: "conntrack v") {
            let tail = body[summary.upperBound...]
            guard let shown = tail.range(of: " flow entries have been shown."), !tail[..<shown.lowerBound].contains("\n") else {
                rest += body[..<summary.upperBound]
                body = tail
                continue
            }
            let number = tail[..<shown.lowerBound].reversed().prefix { $0.isNumber }.reversed()
            listing.reportedTotal = Int(String(number))
            rest += body[..<summary.lowerBound]
            body = tail[shown.upperBound...]
            if body.first == "\n" { body = body.dropFirst() }
        }
        rest += body
        for line in rest.split(whereSeparator: \.isNewline) where !line.allSatisfy(\.isWhitespace) {
            guard let proto = protocolName(line) else { listing.unparsable += 1; continue }
            listing.entries += 1
            listing.protocols[proto, default: 0] += 1
            guard proto == "udp", let port = firstNumber(after: "dport=", in: line),
                  let tunnel = OverlayTunnel.all.first(where: { $0.port == port }) else { continue }
            listing.tunnelEntries[tunnel.key, default: 0] += 1
            if listing.tunnelExamples.count < examplesKept { listing.tunnelExamples.append(String(line)) }
        }
        return listing
    }

    /// "udp" from `ipv4     2 udp      17 29 src=…` or from `udp,orig=(src=…`.
    static func protocolName(_ line: Substring) -> String? {
        let words = line.split(whereSeparator: \.isWhitespace)
        if words.count >= 5, ["ipv4", "ipv6"].contains(words[0]), Int(words[1]) != nil, Int(words[3]) != nil {
            return words[2].lowercased()
        }
        if let comma = line.firstIndex(of: ","), line[comma...].hasPrefix(",orig=(") {
            let name = line[..<comma]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }) { return name.lowercased() }
        }
        return nil
    }

    /// The digits after the first `key` (the original direction's, in both formats); nil when there are none.
    static func firstNumber(after key: String, in line: Substring) -> Int? {
        guard let range = line.range(of: key) else { return nil }
        return Int(String(line[range.upperBound...].prefix { $0.isNumber }.prefix(9)))
    }

    /// `ovs-appctl dpctl/ct-stats-show`: "Total: 2725", "TCP: 2703", "[ESTABLISHED]=67".
    static func parseCtStats(_ text: String, source: String) -> DatapathConntrack? {
        var stats = DatapathConntrack(source: source, total: -1)
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = String(raw).trimmingWhitespace()
            if line.hasPrefix("["), let close = line.firstIndex(of: "]"), let eq = line.firstIndex(of: "="), eq > close,
               let n = Int(String(line[line.index(after: eq)...])), n >= 0 {
                stats.tcpStates[String(line[line.index(after: line.startIndex)..<close])] = n
                continue
            }
            guard let colon = line.firstIndex(of: ":"), let n = Int(String(line[line.index(after: colon)...]).trimmingWhitespace()), n >= 0 else { continue }
            let name = String(line[..<colon])
            if name == "Total" { stats.total = n } else if name.allSatisfy({ $0.isLetter || $0.isNumber }) { stats.protocols[name] = n }
        }
        return stats.total >= 0 ? stats : nil
    }
}
