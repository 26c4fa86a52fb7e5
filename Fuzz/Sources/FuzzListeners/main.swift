// The listeners' datagrams (ctdoctor watch, the wizard's trace): each goes through the listener's own message loop,
// then every message to the nfnetlink_log packet decoder (and the packet headers it carries), the nf_tables trace
// decoder (and its headers) and the conntrack event decoder.
import FuzzSupport
@testable import Netfilter

runFuzzer { bytes in
    bytes.withUnsafeBytes { datagram in
        _ = ListenerSocket.forEachMessage(in: datagram) { message in
            _ = NflogPacket.decode(message)?.headers
            _ = TraceEvent.decode(message)?.headers
            _ = ConntrackEvent.decode(message)
        }
    }
}
