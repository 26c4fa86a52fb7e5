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
    public static func commands(for request: FlowRequest, symptom: Symptom) -> [String] {
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
