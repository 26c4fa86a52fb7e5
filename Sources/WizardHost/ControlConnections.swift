import DoctorCore
import Foundation
import Netfilter
import Wizard

/// helpers flow: the tracked connections to the service's port, each with the helper it got. A control connection
/// without a helper is the cause: its data connection is neither RELATED nor, behind NAT, rewritten.
struct ControlConnections {
    var lines: [String]
    var causes: [String]

    static let shown = 10

    static func read(port: UInt16, proto: FlowRequest.Proto) -> ControlConnections {
        let number: UInt8 = proto == .udp ? 17 : 6
        var found: [(text: String, helper: String?)] = []
        var total = 0, withoutHelper = 0
        do throws(NetlinkError) {
            var socket = try Ctnetlink()
            try socket.streamTable { entry in
                guard entry.l4proto == number, entry.original.destinationPort == port else { return }
                total += 1
                let helper = entry.helper.map(\.description)
                if helper == nil { withoutHelper += 1 }
                if found.count < shown {
                    let state = entry.tcpState.map { " " + ConntrackEntry.tcpStateName($0) } ?? ""
                    found.append(("\(proto.rawValue) \(PacketHeader.endpoint(entry.source.description, entry.sourcePort)) → \(PacketHeader.endpoint(entry.destination.description, entry.destinationPort))\(state)", helper))
                }
            }
        } catch {
            return ControlConnections(lines: ["control connections: the table could not be read (\(error))"], causes: [])
        }
        guard total > 0 else {
            return ControlConnections(lines: ["control connections to \(proto.rawValue) port \(port): none tracked now (open one, e.g. log in with the client, and run the flow again)"], causes: [])
        }
        var lines = ["control connections to \(proto.rawValue) port \(port): \(total), \(withoutHelper) without a helper"]
        lines += found.map { "    \(Clean.line($0.text))   helper: \($0.helper.map(Clean.line) ?? "none")" }
        if total > found.count { lines.append("    … and \(total - found.count) more") }
        let causes = withoutHelper > 0
            ? ["\(withoutHelper) of \(total) control connection(s) to \(proto.rawValue) port \(port) got no helper: their data connections are not RELATED (and not rewritten behind NAT); assign one with the rule below"]
            : []
        return ControlConnections(lines: lines, causes: causes)
    }
}
