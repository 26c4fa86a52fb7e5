import DoctorCore

public struct TableTunnelTrafficCheck: Check {
    public let info = CheckInfo(
        id: "table.tunnel-traffic",
        title: "Overlay tunnel traffic is not tracked",
        weight: 6,
        rationale: """
            VXLAN (udp/4789, and Linux's default udp/8472 that flannel uses) and Geneve (udp/6081) carry whole \
            networks inside UDP. When the host's conntrack tracks the outer packets, every tunnel flow costs a table \
            entry and every packet a lookup, for nothing: the inner connections are tracked where they end, and the \
            outer ones need no state. On busy overlay nodes (OpenStack with OVN, Kubernetes CNIs) that fills the \
            table and burns CPU; the fix is a NOTRACK rule for the tunnel port (Launchpad bug 1978806). The check \
            reads the table: live with `--deep`, in a sosreport from its `conntrack -L -o extended` or Open vSwitch's \
            `dpctl/dump-conntrack`.
            """,
        references: [
            References.conntrackSysctls,
            "https://bugs.launchpad.net/ubuntu/+source/openvswitch/+bug/1978806",
            "https://wiki.nftables.org/wiki-nftables/index.php/Setting_packet_connection_tracking_metainformation",
        ])

    public init() {}

    /// The entries the check reads: the live dump's exact counts, or a collection's listing.
    struct Table {
        let source: String
        let entries: Int
        let tunnels: [String: Int]
        let examples: [Evidence]
        /// Why the entries read are not the whole table, when they are not.
        let partial: String?
    }

    public func evaluate(_ snapshot: HostSnapshot) -> Finding {
        guard let table = Self.table(snapshot) else {
            return info.skipped(
                "the conntrack table was not read: `ctdoctor check --deep` dumps it (a plain check never does); a sosreport needs `conntrack -L -o extended`")
        }
        let tunnels = OverlayTunnel.all.compactMap { t in table.tunnels[t.key].map { (tunnel: t, count: $0) } }.filter { $0.count > 0 }
        let found = tunnels.map { "\($0.tunnel.name) \($0.tunnel.key) \($0.count)" }.joined(separator: ", ")
        let expected = "no entry for an overlay tunnel port (udp/4789, udp/6081, udp/8472): tunnel packets untracked"
        let evidence = [Evidence(table.source, "\(table.entries) entries read; tunnel ports: \(found.isEmpty ? "none" : found)")] + table.examples
        guard !tunnels.isEmpty else {
            if let partial = table.partial {
                return info.skipped(
                    "no tunnel entry among the \(table.entries) entries read, but \(partial)",
                    explanation: "The entries read hold no overlay tunnel flow, but they are not the whole table (\(partial)), so the rest may.",
                    evidence: evidence)
            }
            return info.pass(
                observed: "\(table.entries) entries, none for an overlay tunnel port",
                expected: expected,
                explanation: "Conntrack holds no VXLAN or Geneve flow: tunnel packets, if any, are not tracked.",
                evidence: evidence)
        }
        let total = tunnels.reduce(0) { $0.saturatingAdd($1.count) }
        return info.fail(
            .warning,
            observed: "\(total) of \(table.entries) entries are overlay tunnel flows: \(found)",
            expected: expected,
            explanation: """
                Conntrack tracks the outer UDP packets of overlay tunnels (\(found)). Each tunnel flow takes an \
                entry and each packet a lookup, although the inner connections are tracked where they end and the \
                outer ones need no state; on a busy overlay node this fills the table and costs CPU (Launchpad bug \
                1978806). A NOTRACK rule for the tunnel port in prerouting and output stops it. Stateful rules must \
                then accept the tunnel port, or `ct state untracked`, or they drop the untracked packets.
                """,
            evidence: evidence,
            remediation: Remediation(summary: "Do not track overlay tunnel packets.", steps: Self.notrackSteps(tunnels.map(\.tunnel))))
    }

    static func table(_ snapshot: HostSnapshot) -> Table? {
        if let summary = snapshot.tableSummary.value, let tunnels = summary.tunnelEntries {
            return Table(source: SourcePath.tableDump, entries: summary.entries, tunnels: tunnels, examples: [],
                         partial: summary.incomplete.map { "the dump stopped early: \($0)" })
        }
        guard let listing = snapshot.listing?.value else { return nil }
        var partial: String?
        if let counted = snapshot.datapathConntrack?.value?.total, counted > listing.entries {
            partial = "the listing holds \(listing.entries) of the \(counted) connections \(snapshot.datapathConntrack?.value?.source ?? "") counts"
        } else if let shown = listing.reportedTotal, shown > listing.entries {
            partial = "the listing holds \(listing.entries) of the \(shown) entries conntrack said it showed"
        }
        return Table(source: listing.source, entries: listing.entries, tunnels: listing.tunnelEntries,
                     examples: listing.tunnelExamples.map { Evidence(listing.source, $0) }, partial: partial)
    }

    /// NOTRACK for each tunnel port in both directions of this host's traffic, in ctdoctor's own table.
    static func notrackSteps(_ tunnels: [OverlayTunnel]) -> [RemediationStep] {
        let ports = tunnels.map { String($0.port) }
        let set = ports.count == 1 ? ports[0] : "{ " + ports.joined(separator: ", ") + " }"
        var steps = [Nft.addTable()]
        for hook in ["prerouting", "output"] {
            let chain = "notrack-\(hook)"
            steps.append(Nft.addChain(chain, hook: hook, priority: -300, purpose: "A \(hook) chain at raw priority in ctdoctor's table."))
            steps.append(Nft.addRule(
                chain, ["udp", "dport", set, "notrack"],
                purpose: "Leave the tunnel's outer packets (\(hook)) untracked. Stateful rules that drop what is not established drop them then: let the port or `ct state untracked` through first.",
                risk: .disruptive))
        }
        steps.append(.advice("With iptables instead: `iptables -t raw -A PREROUTING -p udp --dport \(ports[0]) -j CT --notrack` and the same in OUTPUT (and ip6tables), per port.", scope: .runtime))
        return steps
    }
}
