/// Overlay tunnels whose UDP packets a host encapsulates or receives: conntrack need not track them (they carry
/// their own flows inside), and tracking them costs an entry per flow and CPU per packet (Launchpad bug 1978806).
public struct OverlayTunnel: Sendable, Equatable {
    public let name: String
    public let port: Int

    /// "udp/4789", as `top` and the listings name a destination port.
    public var key: String { "udp/\(port)" }

    public static let all = [
        OverlayTunnel(name: "VXLAN", port: 4789),
        OverlayTunnel(name: "Geneve", port: 6081),
        /// Linux's own VXLAN default, which flannel uses.
        OverlayTunnel(name: "VXLAN (Linux default port)", port: 8472),
    ]

    public static func named(_ key: String) -> OverlayTunnel? { all.first { $0.key == key } }
}

/// The conntrack table as a collection lists it, summarised: a sosreport's `conntrack -L -o extended`, or Open
/// vSwitch's `dpctl/dump-conntrack` (the kernel's table as OVS's datapath sees it).
public struct ConntrackListing: Codable, Sendable, Equatable {
    /// The file, relative to the sosreport.
    public var source: String
    public var entries: Int
    /// "tcp" → entries.
    public var protocols: [String: Int]
    /// Entries whose original destination is an overlay tunnel port: "udp/4789" → entries.
    public var tunnelEntries: [String: Int]
    /// The first few of them as listed, for evidence.
    public var tunnelExamples: [String]
    /// Lines that were not entries (and not the tool's own summary).
    public var unparsable: Int
    /// What the tool said it had shown ("65 flow entries have been shown"), when its summary is in the file.
    public var reportedTotal: Int?

    public init(source: String, entries: Int = 0, protocols: [String: Int] = [:], tunnelEntries: [String: Int] = [:],
                tunnelExamples: [String] = [], unparsable: Int = 0, reportedTotal: Int? = nil) {
        self.source = source
        self.entries = entries
        self.protocols = protocols
        self.tunnelEntries = tunnelEntries
        self.tunnelExamples = tunnelExamples
        self.unparsable = unparsable
        self.reportedTotal = reportedTotal
    }
}

/// Open vSwitch's count of the connections its kernel datapath tracks (`ovs-appctl dpctl/ct-stats-show`): proof that
/// conntrack is active where the kernel's own counters were not collected.
public struct DatapathConntrack: Codable, Sendable, Equatable {
    public var source: String
    public var total: Int
    /// "TCP" → connections, as OVS prints them.
    public var protocols: [String: Int]
    /// "ESTABLISHED" → connections.
    public var tcpStates: [String: Int]

    public init(source: String, total: Int, protocols: [String: Int] = [:], tcpStates: [String: Int] = [:]) {
        self.source = source
        self.total = total
        self.protocols = protocols
        self.tcpStates = tcpStates
    }
}
