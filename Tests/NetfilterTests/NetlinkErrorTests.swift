import Glibc
import Testing
@testable import Netfilter

@Suite struct NetlinkErrorTests {
    @Test(arguments: [
        (EPERM, NetlinkError.Kind.permissionDenied), (EACCES, .permissionDenied), (EPROTONOSUPPORT, .unsupported),
        (EINVAL, .unsupported), (ENOENT, .unsupported), (EOPNOTSUPP, .operationNotSupported), (ENOBUFS, .overrun),
        (EINTR, .dumpInterrupted), (EAGAIN, .timedOut), (ENOMEM, .other),
    ])
    func errnoKeepsItsMeaning(code: Int32, kind: NetlinkError.Kind) {
        let error = NetlinkError("IPCTNL_MSG_CT_GET_STATS", errno: code)
        #expect(error.kind == kind)
        #expect(error.errno == code)
    }

    @Test func descriptionsSayWhatToDo() {
        #expect(NetlinkError("IPCTNL_MSG_CT_GET_STATS", errno: EPERM).description
            == "IPCTNL_MSG_CT_GET_STATS: EPERM (Operation not permitted): ctnetlink needs CAP_NET_ADMIN in this network namespace; run as root")
        #expect(NetlinkError("NFT_MSG_GETRULE", errno: EPERM).description
            == "NFT_MSG_GETRULE: EPERM (Operation not permitted): nf_tables needs CAP_NET_ADMIN in this network namespace; run as root")
        #expect(NetlinkError("socket", errno: EPROTONOSUPPORT).description.hasSuffix("this kernel has no nfnetlink (CONFIG_NETFILTER_NETLINK)"))
        #expect(NetlinkError("IPCTNL_MSG_CT_GET_STATS", errno: EINVAL).description.contains("nf_conntrack_netlink"))
        #expect(NetlinkError("IPCTNL_MSG_CT_GET (dump)", errno: EINTR).description.contains("NLM_F_DUMP_INTR"))
        #expect(NetlinkError("x", errno: 4242).errnoName == "errno 4242")
    }

    @Test func statisticsAttributesAreNamedByNumberNeverPosition() {
        #expect(StatisticsAttribute.name(10, in: StatisticsAttribute.conntrack) == "drop")
        #expect(StatisticsAttribute.name(14, in: StatisticsAttribute.conntrack) == "clash_resolve")
        #expect(StatisticsAttribute.name(15, in: StatisticsAttribute.conntrack) == "chaintoolong")
        #expect(StatisticsAttribute.name(16, in: StatisticsAttribute.conntrack) == "attr16")
        #expect(StatisticsAttribute.name(2, in: StatisticsAttribute.expectation) == "expect_create")
    }
}
