import DoctorCore
import Netfilter

/// The unconfirmed and dying lists (GET_UNCONFIRMED / GET_DYING dumps; libnetfilter_conntrack has no query for
/// them). They normally hold an entry for microseconds, so a list that is not empty is dumped again after
/// `resampleSeconds` and the entries still there are counted by conntrack id. Since 5.19 the unconfirmed dump is
/// always empty and the dying dump shows only entries whose destroy event waits for a slow listener; the checks
/// know which kernel they read.
public struct ConntrackListsProbe: Probe {
    public let name = "unconfirmed and dying lists"

    public var resampleSeconds: Double

    public init(resampleSeconds: Double = 1) {
        self.resampleSeconds = resampleSeconds
    }

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        guard context.host.isLive else {
            snapshot.ctnetlink.lists = .absent(CtnetlinkAccess.notLive(context.host))
            return
        }
        if snapshot.ctnetlink.withheld != nil { return }
        snapshot.ctnetlink.lists = CtnetlinkAccess.single(recordingIn: &snapshot.ctnetlink) {
            (socket: inout Ctnetlink) throws(NetlinkError) -> ConntrackLists in
            let unconfirmed = try socket.listEntries(Ctnetlink.getUnconfirmed)
            let dying = try socket.listEntries(Ctnetlink.getDying)
            guard unconfirmed.count > 0 || dying.count > 0 else {
                return ConntrackLists(unconfirmed: ListSample(first: 0), dying: ListSample(first: 0), resampleSeconds: resampleSeconds)
            }
            CtnetlinkAccess.sleep(seconds: resampleSeconds)
            let unconfirmedAgain = try socket.listEntries(Ctnetlink.getUnconfirmed)
            let dyingAgain = try socket.listEntries(Ctnetlink.getDying)
            return ConntrackLists(
                unconfirmed: Self.sample(unconfirmed, unconfirmedAgain), dying: Self.sample(dying, dyingAgain),
                resampleSeconds: resampleSeconds)
        }
    }

    static func sample(_ first: (count: Int, ids: Set<UInt32>), _ second: (count: Int, ids: Set<UInt32>)) -> ListSample {
        guard first.count > 0 else { return ListSample(first: 0) }
        return ListSample(first: first.count, second: second.count, stillListed: first.ids.intersection(second.ids).count)
    }
}
