import DoctorCore
import Foundation

/// events flow: who subscribes to conntrack events in this namespace, read from /proc/net/netlink (per namespace):
/// sockets of protocol NETLINK_NETFILTER (12) whose group mask has NFNLGRP_CONNTRACK_NEW, _UPDATE or _DESTROY
/// (groups 1–3, bits 0–2).
public struct EventListener: Sendable, Codable, Equatable {
    public var portID: UInt32
    public var groups: UInt32
    public var drops: UInt64

    public static let netfilterProtocol = 12
    static let kinds: [(bit: UInt32, name: String)] = [(1, "NEW"), (2, "UPDATE"), (4, "DESTROY")]

    public var events: [String] { Self.kinds.filter { groups & $0.bit != 0 }.map(\.name) }

    /// Every conntrack-event subscriber in the text; lines that do not parse are skipped (the file is the kernel's,
    /// but nothing read is trusted).
    public static func parse(_ text: String) -> [EventListener] {
        text.split(separator: "\n").dropFirst().compactMap { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 9, Int(f[1]) == netfilterProtocol, let groups = UInt32(f[3], radix: 16), groups & 0x7 != 0,
                  let port = UInt32(f[2]), let drops = UInt64(f[8]) else { return nil }
            return EventListener(portID: port, groups: groups, drops: drops)
        }
    }

    /// The subscribers as read from /proc/net/netlink; a file that could not be read says so, never "0".
    public static func lines(_ reading: Reading<[EventListener]>, eventsSetting: Int?) -> [String] {
        guard let listeners = reading.value else {
            return ["listeners subscribed to conntrack events in this namespace: not read (\(reading.problem ?? "no reason given"))"]
        }
        return lines(listeners, eventsSetting: eventsSetting)
    }

    /// What the listeners mean for `conntrack -E`, given nf_conntrack_events (nil: not read).
    public static func lines(_ listeners: [EventListener], eventsSetting: Int?) -> [String] {
        var out = ["listeners subscribed to conntrack events in this namespace: \(listeners.count)"]
        out += listeners.map { "    netlink port \($0.portID): \($0.events.joined(separator: ",")); drops \($0.drops)" }
        if listeners.contains(where: { $0.drops > 0 }) {
            out.append("a listener dropped messages (its socket overran): it misses events; it must read faster or enlarge its buffer")
        }
        if listeners.isEmpty, eventsSetting == 2 {
            out.append("nf_conntrack_events = 2: entries get the event extension only while a listener is subscribed, so entries created before `conntrack -E` started never report")
        }
        return out
    }
}
