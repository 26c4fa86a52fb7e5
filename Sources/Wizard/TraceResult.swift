import Foundation
/// What a scoped trace collected: the packet paths, the flow's conntrack entries and events in the window.
public struct TraceResult: Sendable, Codable, Equatable {
    public var analysis: TraceAnalysis
    public var events: Int
    /// Trace messages the socket lost (ENOBUFS), as the listener counted them.
    public var lost: Int
    public var seconds: Double
    /// The test connection ctdoctor made, and how it ended ("refused", "timed out", "connected").
    public var generated: String?
    /// The flow's conntrack entries, as `conntrack -L` prints them (original and reply tuples).
    public var entries: [String]
    /// Conntrack events for the flow in the window ("[NEW] tcp …").
    public var conntrackEvents: [String]
    /// What could not be collected, and why.
    public var notes: [String]

    public init(analysis: TraceAnalysis, events: Int, lost: Int, seconds: Double, generated: String? = nil,
                entries: [String] = [], conntrackEvents: [String] = [], notes: [String] = []) {
        self.analysis = analysis
        self.events = events
        self.lost = lost
        self.seconds = seconds
        self.generated = generated
        self.entries = entries
        self.conntrackEvents = conntrackEvents
        self.notes = notes
    }
}

/// The next commands to run by hand when a flow did not find the cause: printed, never run.
public enum Escalation {
    public static func commands(for request: FlowRequest, symptom: Symptom, backend: TracePlan.Backend? = nil) -> [String] {
        switch symptom {
        case .portForward where backend == .iptablesLegacy:
            let match = LegacyTrace.match(request, inbound: true).joined(separator: " ")
            let program = request.isIPv6 ? "ip6tables-legacy" : "iptables-legacy"
            return [
                "# the same trace, by hand, for iptables-legacy rules (delete both rules after, with -D):",
                "\(program) -t raw -I PREROUTING 1 \(match) -j TRACE",
                "\(program) -t raw -I OUTPUT 1 \(LegacyTrace.match(request, inbound: false).joined(separator: " ")) -j TRACE",
                "# the lines go to the namespace's bound logger; through syslog (a namespace needs nf_log_all_netns=1 on the host):",
                "sysctl -w net.netfilter.nf_log.\(request.isIPv6 ? 10 : 2)=nf_log_\(request.isIPv6 ? "ipv6" : "ipv4"); dmesg -w | grep 'TRACE:'",
            ] + packetCommands(for: request, symptom: symptom).drop { !$0.hasPrefix("# conntrack events") }
        case .portForward, .invalid: return packetCommands(for: request, symptom: symptom)
        case .tableFull: return [
            "# the counters every second (drop, early_drop, insert_failed rising = refused now):",
            "conntrack -S; watch -n1 cat /proc/net/stat/nf_conntrack",
            "# what fills the table, by protocol and state:",
            "conntrack -L -o extended 2>/dev/null | awk '{print $3, $6}' | sort | uniq -c | sort -rn | head",
            "ctdoctor top",
            "# the kernel's own word (rate-limited): table full, dropping packet",
            "dmesg | grep -i 'nf_conntrack: table full'",
            "# where the new flows' packets are freed:",
            "pwru --output-tuple --filter-func 'nf_conntrack_in|__nf_conntrack_alloc' 'udp or tcp'",
        ]
        case .helpers:
            let port = request.destinationPort ?? 21
            let proto = (request.proto ?? .tcp).rawValue
            return [
                "# the control connection and the helper it got (helper=…):",
                "conntrack -L -p \(proto) --dport \(port) -o extended",
                "# expectations as the client opens the data connection:",
                "conntrack -E expect",
                "conntrack -L expect",
                "# the helpers and the rules that assign them:",
                "nft list ct helpers; nft list ruleset | grep -n 'ct helper'; iptables-save -t raw | grep -- '--helper'",
                "# the commands on the control connection (PORT/PASV/EPSV, INVITE…):",
                "tcpdump -ni any -A '\(proto) port \(port)'",
            ]
        case .events: return [
            "# events as they happen (one terminal), while a flow is created (another):",
            "conntrack -E -e NEW,DESTROY",
            "sysctl net.netfilter.nf_conntrack_events",
            "# who subscribes to conntrack events (protocol 12, groups 1-3):",
            "cat /proc/net/netlink; ss -f netlink -ap",
            "# events lost to slow listeners:",
            "conntrack -S | grep -o 'search_restart=[0-9]*'; dmesg | grep -i ctnetlink",
        ]
        case .stuck: return [
            "# the lists themselves (dying: listeners that do not read their socket):",
            "conntrack -L dying; conntrack -L unconfirmed",
            "# who subscribes to conntrack events, and whether their queues overflow (Drops column):",
            "cat /proc/net/netlink; ss -f netlink -ape",
            "# the tasks, if a process hangs in conntrack:",
            "echo t > /proc/sysrq-trigger; dmesg | tail -200",
        ]
        }
    }

    static func packetCommands(for request: FlowRequest, symptom: Symptom) -> [String] {
        let plan = TracePlan(request: request, generate: false)
        let proto = (request.proto ?? .tcp).rawValue
        var conntrack = ["conntrack", "-E", "-p", proto]
        if let dst = request.destination { conntrack += ["--orig-dst", dst] }
        if let port = request.destinationPort, request.proto != .icmp { conntrack += ["--orig-port-dst", String(port)] }
        var filter: [String] = [proto]
        if let dst = request.destination { filter.append("and dst host \(dst)") }
        if let port = request.destinationPort, request.proto != .icmp { filter.append("and dst port \(port)") }
        let pcap = filter.joined(separator: " ")
        let iface = request.interface.flatMap { $0.isEmpty ? nil : $0 } ?? "any"
        var lines = [
            "# the same trace, by hand (add the rule first, delete the table after):",
            "nft add table inet ctdoctor_trace",
            "nft 'add chain inet ctdoctor_trace pre { type filter hook prerouting priority -300; }'",
            "nft add rule inet ctdoctor_trace pre \(plan.match(inbound: true)) meta nftrace set 1",
            "nft monitor trace",
            "# conntrack events for the flow:",
            conntrack.joined(separator: " "),
            "# where the kernel drops it, function by function:",
            "pwru --output-tuple '\(pcap)'",
            "retis collect -c skb,skb-drop,ct -f '\(pcap)'",
            "# the packets on the wire:",
            "tcpdump -ni \(iface) '\(pcap)'",
        ]
        if symptom == .invalid {
            lines.insert(contentsOf: ["# INVALID reasons through syslog instead of ctdoctor's listener:",
                                      "sysctl -w net.netfilter.nf_conntrack_log_invalid=\(InvalidPlan(request: request).protocolNumber)",
                                      "dmesg -w | grep nf_ct_proto"], at: 0)
        }
        return lines
    }
}
