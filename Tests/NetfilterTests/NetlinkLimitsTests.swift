import Glibc
import Testing
@testable import Netfilter

@Test func socketBufferIsPageSizeCappedAt8K() {
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    #expect(NetlinkLimits.socketBufferSize == min(page, 8192))
}
