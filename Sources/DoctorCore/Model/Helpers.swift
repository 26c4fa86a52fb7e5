/// Conntrack helper facts besides the modules (those are in `ModuleInventory`, one module per helper family).
public struct HelperFacts: Codable, Sendable, Equatable {
    /// Expectations in the table now.
    public var expectations: Reading<ExpectationCount>
    /// Userspace helpers (`nfct helper list`); the kernel lists only these, never its own.
    public var userspace: Reading<[String]>

    public init(expectations: Reading<ExpectationCount> = .failed("not probed"), userspace: Reading<[String]> = .failed("not probed")) {
        self.expectations = expectations
        self.userspace = userspace
    }
}

public struct ExpectationCount: Codable, Sendable, Equatable {
    public var count: Int
    /// Where the count came from, e.g. "/proc/net/nf_conntrack_expect (one line per expectation)".
    public var source: String

    public init(count: Int, source: String) {
        self.count = count
        self.source = source
    }
}

/// The kernel's in-tree helpers: there is no kernel listing of them, so this table names each module, the option
/// that builds it, and the helpers it registers with the port each watches by default (Linux helper sources).
public struct ConntrackHelperModule: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        /// The name `CT --helper` and nft `ct helper { type … }` take.
        public var name: String
        public var l4proto: String
        /// nil for H.245, which has no fixed port (Q.931 opens it).
        public var port: Int?
    }

    public var module: String
    public var config: String
    public var services: [Service]

    public static let known: [ConntrackHelperModule] = [
        .init(module: "nf_conntrack_ftp", config: "CONFIG_NF_CONNTRACK_FTP", services: [.init(name: "ftp", l4proto: "tcp", port: 21)]),
        .init(module: "nf_conntrack_irc", config: "CONFIG_NF_CONNTRACK_IRC", services: [.init(name: "irc", l4proto: "tcp", port: 6667)]),
        .init(module: "nf_conntrack_sip", config: "CONFIG_NF_CONNTRACK_SIP", services: [
            .init(name: "sip", l4proto: "udp", port: 5060), .init(name: "sip", l4proto: "tcp", port: 5060),
        ]),
        .init(module: "nf_conntrack_tftp", config: "CONFIG_NF_CONNTRACK_TFTP", services: [.init(name: "tftp", l4proto: "udp", port: 69)]),
        .init(module: "nf_conntrack_amanda", config: "CONFIG_NF_CONNTRACK_AMANDA", services: [.init(name: "amanda", l4proto: "udp", port: 10080)]),
        .init(module: "nf_conntrack_sane", config: "CONFIG_NF_CONNTRACK_SANE", services: [.init(name: "sane", l4proto: "tcp", port: 6566)]),
        .init(module: "nf_conntrack_snmp", config: "CONFIG_NF_CONNTRACK_SNMP", services: [.init(name: "snmp", l4proto: "udp", port: 161)]),
        .init(module: "nf_conntrack_netbios_ns", config: "CONFIG_NF_CONNTRACK_NETBIOS_NS", services: [
            .init(name: "netbios-ns", l4proto: "udp", port: 137),
        ]),
        .init(module: "nf_conntrack_pptp", config: "CONFIG_NF_CONNTRACK_PPTP", services: [.init(name: "pptp", l4proto: "tcp", port: 1723)]),
        .init(module: "nf_conntrack_h323", config: "CONFIG_NF_CONNTRACK_H323", services: [
            .init(name: "RAS", l4proto: "udp", port: 1719), .init(name: "Q.931", l4proto: "tcp", port: 1720),
            .init(name: "H.245", l4proto: "tcp", port: nil),
        ]),
    ]

    /// The services watching `port` of `l4proto` by default.
    public static func services(on port: Int, l4proto: String) -> [Service] {
        known.flatMap(\.services).filter { $0.port == port && $0.l4proto == l4proto }
    }

    /// Every default port of a known helper, per protocol.
    public static var defaultPorts: [(l4proto: String, port: Int)] {
        known.flatMap(\.services).compactMap { s in s.port.map { (s.l4proto, $0) } }
    }
}
