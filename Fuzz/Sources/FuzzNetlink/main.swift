// ctnetlink replies: the bytes go through the receive path's own message loop (NetlinkSocket.eachMessage: libmnl's
// checks and ctdoctor's), then each message to the entry parser (table dumps) and the statistics attribute reader,
// and entries into the table summarizer.
import CNetfilter
import DoctorHost
import FuzzSupport
@testable import Netfilter

runFuzzer { bytes in
    var buffer = bytes
    buffer.withUnsafeMutableBytes { raw in
        _ = NetlinkSocket.eachMessage(in: raw, sequence: 0, portID: 0) { message in
            if let entry = ConntrackMessage.parse(message) {
                var summary = TableSummarizer(establishedTimeout: 432000, nowNanoseconds: 1_000_000_000_000)
                summary.add(entry)
                _ = summary.summary()
            }
            _ = U32Attributes(message)
            return true
        }
    }
}
