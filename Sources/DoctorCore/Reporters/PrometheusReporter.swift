import Foundation

/// The Prometheus text exposition format (0.0.4), for node_exporter's textfile collector: the score, every check's
/// status (one series per status, 1 for the one it ended in, so series never vanish between runs), the severity of
/// failing checks, and the raw readings the probes took: entries, limit, buckets, expectations and the statistics
/// counters (as counters, by name). Pure: the report and the snapshot it was made from.
public enum PrometheusReporter {
    struct Family {
        var name: String
        var type: String
        var help: String
        var samples: [(labels: [(String, String)], value: String)]
    }

    public static func render(_ report: Report, snapshot: HostSnapshot) -> String {
        var families: [Family] = []
        let netns = report.host.netns.inode.map(String.init) ?? "unknown"
        families.append(Family(
            name: "ctdoctor_info", type: "gauge", help: "Always 1; the labels say which ctdoctor checked which host and network namespace.",
            samples: [([("version", report.tool.version), ("hostname", report.host.hostname ?? "unknown"),
                        ("kernel", report.host.kernel ?? "unknown"), ("netns", netns)], "1")]))
        families.append(Family(
            name: "ctdoctor_score", type: "gauge", help: "The ctdoctor health score, 0 to 100.", samples: [([], String(report.score))]))
        families.append(Family(
            name: "ctdoctor_checks", type: "gauge", help: "Checks that ended in each status.",
            samples: CheckStatus.allCases.map { ([("status", $0.rawValue)], String(report.summary[$0])) }))
        families.append(Family(
            name: "ctdoctor_check_status", type: "gauge",
            help: "1 for the status each check ended in (pass, fail, not-applicable, skipped, error, waived), 0 for the others.",
            samples: report.findings.flatMap { f in
                CheckStatus.allCases.map { s in ([("id", f.id), ("status", s.rawValue)], f.status == s ? "1" : "0") }
            }))
        families.append(Family(
            name: "ctdoctor_check_severity", type: "gauge", help: "1 per failing or waived check, labelled with its severity.",
            samples: report.findings.filter { $0.severity != nil && ($0.status == .fail || $0.status == .waived) }.map { f in
                ([("id", f.id), ("severity", f.severity!.rawValue)], "1")
            }))
        families.append(Family(
            name: "ctdoctor_check_score_impact", type: "gauge", help: "Points each check took off the score.",
            samples: report.findings.map { ([("id", $0.id)], number($0.scoreImpact)) }))
        families += readings(snapshot)
        var out: [String] = []
        for family in families where !family.samples.isEmpty {
            out.append("# HELP \(family.name) \(family.help)")
            out.append("# TYPE \(family.name) \(family.type)")
            for sample in family.samples {
                let labels = sample.labels.map { "\($0.0)=\"\(Escape.promLabel(Neutralise.text($0.1)))\"" }.joined(separator: ",")
                out.append(family.name + (labels.isEmpty ? "" : "{\(labels)}") + " " + sample.value)
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// The raw gauges and counters, each only when it was read.
    static func readings(_ snap: HostSnapshot) -> [Family] {
        func gauge(_ name: String, _ help: String, _ value: Int?) -> Family {
            Family(name: name, type: "gauge", help: help, samples: value.map { [([], String($0))] } ?? [])
        }
        let entries = snap.sysctl(.conntrackCount).value ?? snap.ctnetlink.table.value?.entries
        let max = snap.sysctl(.conntrackMax).value ?? snap.ctnetlink.table.value?.max
        let stats = snap.ctnetlink.statistics.value ?? snap.stats.value
        return [
            gauge("ctdoctor_conntrack_entries", "Conntrack entries in this network namespace (nf_conntrack_count).", entries),
            gauge("ctdoctor_conntrack_max", "The conntrack table limit (nf_conntrack_max).", max),
            gauge("ctdoctor_conntrack_buckets", "Hash table buckets (nf_conntrack_buckets).", snap.sysctl(.conntrackBuckets).value),
            gauge("ctdoctor_conntrack_expectations", "Expectations in this network namespace (a ctnetlink dump).", snap.ctnetlink.expectations.value?.count),
            gauge("ctdoctor_conntrack_expect_max", "The expectation limit (nf_conntrack_expect_max).", snap.sysctl(.expectMax).value),
            Family(
                name: "ctdoctor_conntrack_stat_total", type: "counter",
                help: "Conntrack statistics counters summed over CPUs, by name (insert_failed, drop, early_drop, invalid, ...).",
                samples: (stats?.counters ?? [:]).sorted { $0.key < $1.key }.map { ([("counter", $0.key)], String($0.value)) }),
        ]
    }

    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }
}
