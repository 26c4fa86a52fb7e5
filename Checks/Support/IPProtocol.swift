/// Names of the L4 protocol numbers that `nf_conntrack_log_invalid` takes.
enum IPProtocol {
    /// IPPROTO_RAW: `nf_conntrack_log_invalid = 255` logs INVALID packets of every protocol.
    static let all = 255

    static func name(_ number: Int) -> String? {
        switch number {
        case 1: "ICMP"
        case 6: "TCP"
        case 17: "UDP"
        case 33: "DCCP"
        case 47: "GRE"
        case 58: "ICMPv6"
        case 132: "SCTP"
        case 136: "UDP-Lite"
        case all: "all protocols"
        default: nil
        }
    }

    /// "6 (TCP)", "255 (all protocols)", "99 (protocol 99)".
    static func describe(_ number: Int) -> String {
        "\(number) (\(name(number) ?? "protocol \(number)"))"
    }
}
