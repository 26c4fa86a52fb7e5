import Foundation
import Netfilter
import Wizard

/// Is conntrack active in this namespace? It hooks in only when a rule, NAT or a ct expression needs it, and no
/// read-only fact says so (nfnetlink_hook is not always built): one UDP datagram to a closed port on 127.0.0.1, then
/// its entry looked up in the table. The entry (if any) expires with the UDP timeout.
enum TrackingProbe {
    /// The datagram sent (what was done) and whether its entry appeared; nil when the table could not be read.
    static func run() -> (sent: String, tracked: Bool?) {
        let port = UInt16.random(in: 20000...60000)
        let sent = TrafficGenerator.connect("127.0.0.1", port, tcp: false)
        // Not sent (lo down, a rule refused it): nothing can be concluded.
        guard sent.hasPrefix("one UDP datagram sent") else { return (sent, nil) }
        return (sent, tracked(udpPort: port))
    }

    static func tracked(udpPort port: UInt16) -> Bool? {
        var found = false
        do throws(NetlinkError) {
            var socket = try Ctnetlink()
            for _ in 0..<5 where !found {
                try socket.streamTable { entry in
                    if entry.l4proto == 17, entry.original.destinationPort == port { found = true }
                }
                if !found { usleep(50_000) }
            }
        } catch {
            return nil
        }
        return found
    }
}
