import Foundation
import DoctorCore

/// The scoped trace: ctdoctor's own nftables table with a `meta nftrace set 1` rule behind the person's match on
/// prerouting and output, at priority -300 (raw), before conntrack (-200) and NAT see the packet.
public struct TracePlan: Sendable, Equatable {
    public static let table = "ctdoctor_trace"

    public enum Backend: String, Sendable, Codable, Equatable {
        /// `meta nftrace set 1` in ctdoctor's own table, events over NFNLGRP_NFTRACE.
        case nftables
        /// `-j TRACE` in the legacy raw table, lines through nfnetlink_log (`LegacyTrace`).
        case iptablesLegacy = "iptables-legacy"
    }

    public var request: FlowRequest
    /// Generate a test connection while tracing.
    public var generate: Bool
    public var backend: Backend

    public init(request: FlowRequest, generate: Bool, backend: Backend = .nftables) {
        self.request = request
        self.generate = generate
        self.backend = backend
    }

    /// The match as the trace rule has it, for people.
    public var matchText: String {
        backend == .iptablesLegacy ? LegacyTrace.match(request, inbound: true).joined(separator: " ") : match(inbound: true)
    }

    /// The match as nft words, from validated values only (FlowRequest refuses anything else).
    public func match(inbound: Bool) -> String {
        let r = request
        let ip = r.isIPv6 ? "ip6" : "ip"
        var words: [String] = []
        if inbound, let iface = r.interface, !iface.isEmpty { words.append("iifname \"\(iface)\"") }
        if let src = r.source, !src.isEmpty { words.append("\(ip) saddr \(src)") }
        if let dst = r.destination { words.append("\(ip) daddr \(dst)") }
        switch r.proto ?? .tcp {
        case .tcp, .udp:
            let p = (r.proto ?? .tcp).rawValue
            words.append(r.destinationPort.map { "\(p) dport \($0)" } ?? "meta l4proto \(p)")
        case .icmp: words.append(r.isIPv6 ? "meta l4proto ipv6-icmp" : "meta l4proto icmp")
        }
        return words.joined(separator: " ")
    }

    /// The table, both chains and both rules, one nft command each, so the same allow-list that guards `fix` can read
    /// every one of them; undone in reverse order, the table last.
    public var changes: [RemediationStep] {
        if backend == .iptablesLegacy { return LegacyTrace.changes(request) }
        let t = ["inet", Self.table]
        let purpose = "Add the temporary table inet \(Self.table): trace packets matching `\(match(inbound: true))` from prerouting and output, before conntrack"
        func step(_ argv: [String], undo: [String]) -> RemediationStep {
            RemediationStep(purpose: purpose, argv: ["nft"] + argv, scope: .runtime, undo: ["nft"] + undo)
        }
        return [
            step(["add", "table"] + t, undo: ["delete", "table"] + t),
            step(["add", "chain"] + t + ["pre", "{ type filter hook prerouting priority -300; }"], undo: ["delete", "chain"] + t + ["pre"]),
            step(["add", "chain"] + t + ["out", "{ type filter hook output priority -300; }"], undo: ["delete", "chain"] + t + ["out"]),
            step(["add", "rule"] + t + ["pre", match(inbound: true), "meta", "nftrace", "set", "1"], undo: ["flush", "chain"] + t + ["pre"]),
            step(["add", "rule"] + t + ["out", match(inbound: false), "meta", "nftrace", "set", "1"], undo: ["flush", "chain"] + t + ["out"]),
        ]
    }
}

/// What nfnetlink_log delivers for INVALID packets once log_invalid and the logger binding are set.
public struct InvalidPlan: Sendable, Equatable {
    public var request: FlowRequest

    public init(request: FlowRequest) { self.request = request }

    public var protocolNumber: Int { (request.proto ?? .tcp).number(ipv6: request.isIPv6) }

    /// log_invalid for the protocol, and nfnetlink_log bound for both families (the logger binding is per netns).
    public var changes: [RemediationStep] {
        [
            .sysctl("net.netfilter.nf_conntrack_log_invalid", String(protocolNumber), previous: nil,
                    purpose: "Log INVALID \((request.proto ?? .tcp).rawValue) packets with their reason (temporarily)"),
            .sysctl("net.netfilter.nf_log.2", "nfnetlink_log", previous: nil,
                    purpose: "Bind nfnetlink_log as the IPv4 logger in this namespace, so ctdoctor reads the reasons itself (temporarily)"),
            .sysctl("net.netfilter.nf_log.10", "nfnetlink_log", previous: nil,
                    purpose: "Bind nfnetlink_log as the IPv6 logger in this namespace (temporarily)"),
        ]
    }
}
