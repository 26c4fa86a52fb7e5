import Foundation

/// `ctdoctor top`: the streamed table summary for people (text) and programs (JSON, `ctdoctor.top/1`).
public struct TopReport: Codable, Sendable, Equatable {
    public static let schemaID = "ctdoctor.top/1"

    public var schema: String
    public var tool: Report.Tool
    public var host: Report.Host
    public var takenAt: String
    public var summary: TableSummary

    public init(snapshot: HostSnapshot, summary: TableSummary) {
        let report = Report(snapshot: snapshot, findings: [])
        schema = Self.schemaID
        tool = report.tool
        host = report.host
        takenAt = snapshot.takenAt
        self.summary = summary
    }
}

public struct TableReporter: Sendable {
    public var palette: Palette

    public init(palette: Palette = .plain) {
        self.palette = palette
    }

    public func render(_ report: TopReport) -> String {
        let s = report.summary
        var out = [palette.bold(Neutralise.line(header(report))), ""]
        if let incomplete = s.incomplete {
            let counted = s.countBefore.map { " (GET_STATS counted \($0) before it)" } ?? ""
            out += [palette.yellow(Neutralise.line(
                "INCOMPLETE: the dump stopped after \(s.entries) entries\(counted): \(incomplete). The figures below are "
                    + "only for the entries read.")), ""]
        }
        if s.entries == 0 && s.incomplete == nil {
            out.append("The table of this network namespace is empty. Conntrack tracks a namespace only once a rule, NAT or a ct expression there needs it; other namespaces have tables of their own.")
            return out.joined(separator: "\n") + "\n"
        }
        out.append(line("protocols", ranked(s.protocols, of: s.entries)))
        out.append(line("families", ranked(s.families, of: s.entries)))
        out.append(line("tcp states", s.tcpStates.isEmpty ? "(no TCP entries)" : ranked(s.tcpStates, of: s.protocols["tcp"] ?? 0)))
        out.append(line("flags", "[ASSURED] \(s.assured) · [UNREPLIED] \(s.unreplied)"))
        out.append(line("zones", tally(s.zones)))
        out.append(line("marks", tally(s.marks)))
        out.append(line("helpers", s.helpers.counts.isEmpty ? "(none)" : tally(s.helpers)))
        out.append("")
        out += top("top sources", s.topSources, of: s.entries)
        out += top("top destinations", s.topDestinations, of: s.entries)
        out += top("top destination ports", s.topDestinationPorts, of: s.entries)
        out += histogram("time left before expiry", s.timeouts)
        if let idle = s.establishedIdle {
            var basis = s.establishedTimeout.map { " (estimated from the ESTABLISHED timeout, \($0) s" } ?? " ("
            basis += s.establishedIdleBoundedByAge == true ? ", at most each entry's age)"
                : "; without nf_conntrack_timestamp an entry with a shorter timeout of its own looks idle)"
            out += histogram("ESTABLISHED entries by idle time\(basis)", idle)
            if let own = s.establishedOwnTimeout { out.append("  (\(own) ESTABLISHED with a longer timeout of their own: idle time unknown, left out)"); out.append("") }
        }
        if let ages = s.ages { out += histogram("age (nf_conntrack_timestamp)", ages) }
        if !s.oldest.isEmpty {
            out.append(palette.bold("oldest entries"))
            out += s.oldest.map { "  \(String($0.ageSeconds).leftPadded(9)) s  \($0.entry)" }
            out.append("")
        }
        let overcounted = (s.topSources + s.topDestinations + s.topDestinationPorts).contains { $0.overcount > 0 }
        if overcounted {
            out.append(palette.dim("Top lists come from a fixed-size sketch: a range is where the true count lies; a list of ranges means no value stands out."))
        }
        return out.joined(separator: "\n") + "\n"
    }

    func header(_ r: TopReport) -> String {
        let s = r.summary
        var ns = "netns " + (r.host.netns.inode.map(String.init) ?? "?")
        if let name = r.host.netns.name { ns += " (/run/netns/\(name))" } else if r.host.netns.initial == true { ns += " (initial)" }
        var counts = "\(s.entries) entries"
        if let before = s.countBefore, let after = s.countAfter { counts += " (count \(before) before, \(after) after)" }
        let seconds = String(format2: s.seconds)
        return "ctdoctor top · \(ns) · kernel \(r.host.kernel ?? "?") · \(counts) · dumped in \(seconds) s"
    }

    func line(_ label: String, _ text: String) -> String {
        palette.dim(label.padding(toLength: 12, withPad: " ", startingAt: 0)) + Neutralise.line(text)
    }

    func ranked(_ counts: [String: Int], of total: Int) -> String {
        guard !counts.isEmpty else { return "(none)" }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key) \($0.value) (\(percent($0.value, total)))" }.joined(separator: " · ")
    }

    func tally(_ t: Tally) -> String {
        var text = t.counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "\($0.key): \($0.value)" }.joined(separator: " · ")
        if t.other > 0 { text += " · other values: \(t.other)" }
        return text.isEmpty ? "(none)" : text
    }

    func top(_ title: String, _ items: [TopItem], of total: Int) -> [String] {
        guard !items.isEmpty else { return [] }
        var out = [palette.bold(title)]
        for item in items {
            // A sketched count is an upper bound; the true one is at least count − overcount.
            let count = item.overcount > 0 ? "\(item.count.saturatingSubtract(item.overcount))–\(item.count)" : String(item.count)
            out.append("  \(count.leftPadded(11))  \(percent(item.count, total).leftPadded(6))  \(item.key)")
        }
        out.append("")
        return out
    }

    func histogram(_ title: String, _ h: Histogram) -> [String] {
        let total = max(h.total, 1)
        let widest = h.buckets.map(\.count).max() ?? 0
        var out = [palette.bold(title)]
        for bucket in h.buckets {
            // Counts below 0 exist only in a hostile snapshot: no bar.
            let width = widest > 0 ? Int((Double(max(bucket.count, 0)) / Double(widest) * 30).rounded(.up)) : 0
            let bar = String(repeating: "█", count: width)
            out.append("  \(bucket.label.padding(toLength: 10, withPad: " ", startingAt: 0))\(String(bucket.count).leftPadded(9))  \(percent(bucket.count, total).leftPadded(6))  \(bar)")
        }
        out.append("")
        return out
    }

    func percent(_ part: Int, _ total: Int) -> String {
        guard total > 0 else { return "-" }
        return String(format1: 100 * Double(part) / Double(total)) + "%"
    }
}

extension String {
    /// Right-aligned in `width` columns.
    public func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
