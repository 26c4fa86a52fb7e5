import DoctorCore
import Netfilter

/// Folds conntrack entries, one at a time, into a `TableSummary`. Every structure has a fixed size, so memory stays
/// flat whatever the table holds.
public struct TableSummarizer {
    /// Distinct values tracked per top list; the report shows `topK` of them.
    static let sketchCapacity = 64
    static let tallyCap = 64
    static let oldestKept = 5

    public let topK: Int
    public let establishedTimeout: Int?
    /// Real-time clock in nanoseconds when the dump started: entry ages are measured against it.
    public let nowNanoseconds: UInt64

    private(set) var entries = 0
    private var ipv4 = 0, ipv6 = 0, otherFamily = 0
    private var protocols = [Int](repeating: 0, count: 256)
    private var tcpStates = [Int](repeating: 0, count: 16)
    private var assured = 0, unreplied = 0
    private var zones = CappedTally<UInt16>(cap: tallyCap)
    private var marks = CappedTally<UInt32>(cap: tallyCap)
    private var helpers = CappedTally<HelperName>(cap: tallyCap)
    private var sources = SpaceSaving<IPAddress>(capacity: sketchCapacity)
    private var destinations = SpaceSaving<IPAddress>(capacity: sketchCapacity)
    /// protocol << 16 | port.
    private var ports = SpaceSaving<UInt32>(capacity: sketchCapacity)
    /// Exact counts of entries to each overlay tunnel port, in `OverlayTunnel.all` order.
    private var tunnels = [Int](repeating: 0, count: OverlayTunnel.all.count)
    private var timeouts = BucketCounter()
    private var ages = BucketCounter()
    private var sawAges = false
    private var idle = BucketCounter()
    private var idleWithoutAge = 0, ownTimeout = 0
    /// Earliest start times, with the entry, sorted oldest first.
    private var oldest: [(start: UInt64, entry: ConntrackEntry)] = []

    public init(topK: Int = 10, establishedTimeout: Int? = nil, nowNanoseconds: UInt64) {
        self.topK = topK
        self.establishedTimeout = establishedTimeout
        self.nowNanoseconds = nowNanoseconds
    }

    public var count: Int { entries }

    public mutating func add(_ entry: ConntrackEntry) {
        entries += 1
        switch entry.family {
        case 2: ipv4 += 1
        case 10: ipv6 += 1
        default: otherFamily += 1
        }
        protocols[Int(entry.l4proto)] += 1
        if entry.isAssured { assured += 1 }
        if entry.isUnreplied { unreplied += 1 }
        zones.add(entry.zone ?? 0)
        if let mark = entry.mark { marks.add(mark) }
        if let helper = entry.helper { helpers.add(helper) }
        sources.add(entry.source)
        destinations.add(entry.destination)
        if let port = entry.destinationPort {
            ports.add(UInt32(entry.l4proto) << 16 | UInt32(port))
            if entry.l4proto == 17, let i = OverlayTunnel.all.firstIndex(where: { $0.port == Int(port) }) { tunnels[i] += 1 }
        }
        if let timeout = entry.timeout { timeouts.add(Int(timeout)) }
        if let state = entry.tcpState {
            tcpStates[min(Int(state), tcpStates.count - 1)] += 1
            if state == 3, let establishedTimeout, let left = entry.timeout {
                // Idle since the last packet, if the entry runs on the ESTABLISHED sysctl; never longer than it exists.
                let age = entry.startNanoseconds.map { nowNanoseconds > $0 ? Int((nowNanoseconds - $0) / 1_000_000_000) : 0 }
                if Int(left) > establishedTimeout {
                    ownTimeout += 1
                } else {
                    let byTimeout = establishedTimeout - Int(left)
                    idle.add(age.map { min($0, byTimeout) } ?? byTimeout)
                    if age == nil { idleWithoutAge += 1 }
                }
            }
        }
        if let start = entry.startNanoseconds {
            sawAges = true
            ages.add(nowNanoseconds > start ? Int((nowNanoseconds - start) / 1_000_000_000) : 0)
            keepIfOldest(start, entry)
        }
    }

    private mutating func keepIfOldest(_ start: UInt64, _ entry: ConntrackEntry) {
        if oldest.count == Self.oldestKept {
            guard let last = oldest.last, start < last.start else { return }
            oldest.removeLast()
        }
        let at = oldest.firstIndex { $0.start > start } ?? oldest.endIndex
        oldest.insert((start, entry), at: at)
    }

    /// The summary so far. `incomplete` says why the dump stopped early, when it did.
    public func summary(
        countBefore: Int? = nil, countAfter: Int? = nil, incomplete: String? = nil, unparsable: Int = 0,
        seconds: Double = 0
    ) -> TableSummary {
        var protocolCounts: [String: Int] = [:]
        for (number, count) in protocols.enumerated() where count > 0 {
            protocolCounts[ConntrackEntry.protocolName(UInt8(number))] = count
        }
        var stateCounts: [String: Int] = [:]
        for (state, count) in tcpStates.enumerated() where count > 0 {
            stateCounts[ConntrackEntry.tcpStateName(UInt8(state))] = count
        }
        var families: [String: Int] = [:]
        for (name, count) in [("ipv4", ipv4), ("ipv6", ipv6), ("other", otherFamily)] where count > 0 {
            families[name] = count
        }
        var summary = TableSummary(
            entries: entries, countBefore: countBefore, countAfter: countAfter, incomplete: incomplete,
            unparsable: unparsable, seconds: seconds, families: families, protocols: protocolCounts,
            tcpStates: stateCounts, assured: assured, unreplied: unreplied,
            zones: zones.tally { String($0) },
            marks: marks.tally { $0 == 0 ? "0" : "0x" + String($0, radix: 16) },
            helpers: helpers.tally { $0.description },
            topSources: sources.top(topK).map { TopItem(key: $0.key.description, count: $0.count, overcount: $0.overcount) },
            topDestinations: destinations.top(topK).map { TopItem(key: $0.key.description, count: $0.count, overcount: $0.overcount) },
            topDestinationPorts: ports.top(topK).map {
                TopItem(key: "\(ConntrackEntry.protocolName(UInt8($0.key >> 16)))/\($0.key & 0xffff)", count: $0.count, overcount: $0.overcount)
            },
            timeouts: timeouts.histogram,
            ages: sawAges ? ages.histogram : nil,
            establishedIdle: establishedTimeout != nil && tcpStates[3] > 0 ? idle.histogram : nil,
            establishedTimeout: establishedTimeout,
            establishedIdleBoundedByAge: establishedTimeout != nil && tcpStates[3] > 0 ? idleWithoutAge == 0 : nil,
            establishedOwnTimeout: ownTimeout > 0 ? ownTimeout : nil,
            oldest: oldest.map { OldEntry(ageSeconds: Int((nowNanoseconds &- $0.start) / 1_000_000_000), entry: Self.describe($0.entry)) })
        summary.tunnelEntries = Dictionary(uniqueKeysWithValues: zip(OverlayTunnel.all.map(\.key), tunnels).filter { $0.1 > 0 })
        return summary
    }

    /// "tcp 10.0.0.1:51234 → 10.0.0.2:443 ESTABLISHED".
    static func describe(_ e: ConntrackEntry) -> String {
        func endpoint(_ address: IPAddress, _ port: UInt16?) -> String {
            let host = address.isIPv6 ? "[\(address)]" : address.description
            return port.map { "\(host):\($0)" } ?? host
        }
        var text = "\(ConntrackEntry.protocolName(e.l4proto)) \(endpoint(e.source, e.sourcePort)) → \(endpoint(e.destination, e.destinationPort))"
        if let state = e.tcpState { text += " " + ConntrackEntry.tcpStateName(state) }
        return text
    }
}
