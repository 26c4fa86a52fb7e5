import DoctorCore
import DoctorHost
import Netfilter
import Watch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The live side of `ctdoctor watch` in the caller's network namespace: counters over ctnetlink (or procfs when
/// that is refused), conntrack events, and new kernel log lines, multiplexed with poll(2) on one thread; each
/// interval goes through the pure `WatchAggregator` and `WatchJudge`. What cannot be watched is said in `notes`.
public final class WatchSession {
    private let host: HostRoot
    private let now: () -> String
    private var ctnetlink: CtnetlinkBox?
    private var events: EventBox?
    private let kernelLog: KernelLogFollower?
    private let judge: WatchJudge?
    /// What could not be watched and why.
    public private(set) var notes: [String] = []

    /// Opens everything it can. `base` is a snapshot taken just before (for the checks' thresholds), `catalog`
    /// the built-in checks; `now` gives the wall-clock time as ISO 8601.
    public init(host: HostRoot, base: HostSnapshot, catalog: [any Check], now: @escaping () -> String) {
        self.host = host
        self.now = now
        judge = WatchJudge(base: base, catalog: catalog)
        do {
            ctnetlink = CtnetlinkBox(try Ctnetlink(netns: nil, receiveTimeoutSeconds: 5))
        } catch {
            notes.append("ctnetlink: \(error)")
        }
        let eventsSetting = host.readTrimmed("/proc/sys/net/netfilter/nf_conntrack_events").value
        if eventsSetting == "0" {
            notes.append("conntrack events are off in this network namespace (net.netfilter.nf_conntrack_events = 0): "
                + "no event counts or top flows; `ctdoctor explain events.enabled`")
        } else {
            do {
                events = EventBox(try ConntrackEventListener())
            } catch {
                notes.append("events not watched: \(error.kind == .permissionDenied ? "subscribing to conntrack events needs CAP_NET_ADMIN in this network namespace (\(error.errnoName))" : error.description)")
            }
        }
        switch KernelLogFollower.open(host) {
        case .success(let follower): kernelLog = follower
        case .failure(let error):
            kernelLog = nil
            notes.append("kernel log not watched: \(error)")
        }
        if ctnetlink == nil {
            notes.append("counters from \(ConntrackStatsProbe.path), entries from nf_conntrack_count; no expectation count")
        }
    }

    public var watchesEvents: Bool { events != nil }

    /// Reads the count, expectations and per-CPU counters now.
    public func read() -> WatchReading {
        let stamp = CtnetlinkAccess.monotonicSeconds()
        var count: Reading<EntryCount> = .failed("not read")
        var expectations: Reading<Int> = .failed("not read")
        var cpus: Reading<CPUStatistics> = .failed("not read")
        if let box = ctnetlink, !box.refused {
            var failures: [NetlinkError] = []
            count = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in CtnetlinkAccess.entryCount(try box.socket.count()) }
            cpus = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in
                let sorted = try box.socket.cpuStatistics().sorted { $0.cpu < $1.cpu }
                return CPUStatistics(
                    source: CtnetlinkProbe.statisticsSource, viaCtnetlink: true,
                    cpus: sorted.map { $0.values.mapValues(UInt64.init) })
            }
            expectations = CtnetlinkAccess.reading(&failures) { () throws(NetlinkError) in try box.socket.countExpectations() }
            if failures.contains(where: { $0.kind == .permissionDenied }) {
                box.refused = true
                notes.append("ctnetlink refused: \(failures[0]); counters from \(ConntrackStatsProbe.path), entries from nf_conntrack_count, no expectation count")
            }
        }
        if ctnetlink?.refused ?? true {
            cpus = host.read(ConntrackStatsProbe.path).flatMap(ConntrackStatsProbe.parseRows).map {
                CPUStatistics(source: ConntrackStatsProbe.path, viaCtnetlink: false, cpus: $0)
            }
            let entries = host.readTrimmed("/proc/sys/net/netfilter/nf_conntrack_count").value.flatMap { Int($0) }
            let max = host.readTrimmed("/proc/sys/net/netfilter/nf_conntrack_max").value.flatMap { Int($0) }
            count = entries.map { .value(EntryCount(entries: $0, max: max)) } ?? .failed("nf_conntrack_count not readable")
            expectations = .absent("not read without ctnetlink")
        }
        return WatchReading(monotonicSeconds: stamp, time: now(), count: count, expectations: expectations, cpus: cpus)
    }

    /// Watches every `interval` seconds until `duration` (nil: until SIGINT or SIGTERM), handing each interval's
    /// record to `emit`; returns the summary of the whole watch.
    public func run(interval: Double, duration: Double?, emit: (WatchRecord) -> Void) -> WatchSummary {
        Signals.install()
        var summary = WatchSummary()
        var aggregator = WatchAggregator(protocolName: ConntrackEntry.protocolName)
        var previous = read()
        let start = previous.monotonicSeconds
        var tick = start + interval
        var notesEmitted = 0
        var stopped = false
        while !stopped {
            var fds: [pollfd] = []
            if let events { fds.append(pollfd(fd: events.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            if let kernelLog { fds.append(pollfd(fd: kernelLog.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
            if Signals.fd >= 0 { fds.append(pollfd(fd: Signals.fd, events: Int16(POLLIN), revents: 0)) }
            let wait = max(0, tick - CtnetlinkAccess.monotonicSeconds())
            _ = poll(&fds, nfds_t(fds.count), Int32(clamping: Int((wait * 1000).rounded(.up))))
            if Signals.pending != 0 { stopped = true }
            if let events {
                do {
                    let batch = try events.poll()
                    aggregator.add(batch.messages.map(Self.watchEvent), overruns: batch.overruns, lost: batch.lost)
                } catch {
                    notes.append("events stopped: \(error)")
                    self.events = nil
                }
            }
            kernelLog?.drain { seconds, message in
                if let line = Self.logLine(seconds: seconds, message: message) { aggregator.addLog(line) }
            }
            guard !stopped, CtnetlinkAccess.monotonicSeconds() >= tick else { continue }
            let current = read()
            let record = aggregator.close(
                from: previous, to: current, subscribed: self.events != nil, judge: judge, notes: Array(notes[notesEmitted...]))
            notesEmitted = notes.count
            summary.add(record)
            emit(record)
            previous = current
            tick += interval
            if tick < CtnetlinkAccess.monotonicSeconds() { tick = CtnetlinkAccess.monotonicSeconds() + interval }
            if let duration, current.monotonicSeconds - start >= duration - interval / 100 { stopped = true }
        }
        return summary
    }
}

extension WatchSession {
    static func watchEvent(_ event: ConntrackEvent) -> WatchEvent {
        let kind: WatchEvent.Kind = switch event.kind {
        case .new: .new
        case .update: .update
        case .destroy: .destroy
        }
        let entry = event.entry
        return WatchEvent(kind: kind, flow: WatchFlowKey(
            l4proto: entry.l4proto, source: address(entry.source), destination: address(entry.destination),
            port: entry.destinationPort))
    }

    static func address(_ ip: IPAddress) -> WatchAddress {
        WatchAddress(high: ip.high, low: ip.low, isIPv6: ip.isIPv6)
    }

    /// A kernel log record as `watch` shows it, when it is a conntrack line that matters (the vmalloc fallback is
    /// harmless and left out).
    static func logLine(seconds: Double?, message: String) -> WatchLogLine? {
        guard let (kind, line) = KernelLogCollector.classify(message, seconds: seconds), kind != .vmallocFallback else { return nil }
        return WatchLogLine(kind: kind.rawValue, seconds: line.seconds, text: line.text, netns: line.netns)
    }
}

/// Holders that let the session keep the ~Copyable sockets and mutate them in place.
private final class CtnetlinkBox {
    var socket: Ctnetlink
    /// ctnetlink answered EPERM: not asked again.
    var refused = false

    init(_ socket: consuming Ctnetlink) {
        self.socket = socket
    }
}

private final class EventBox {
    var listener: ConntrackEventListener

    init(_ listener: consuming ConntrackEventListener) {
        self.listener = listener
    }

    var fileDescriptor: Int32 { listener.fileDescriptor }

    func poll() throws(NetlinkError) -> ListenerBatch<ConntrackEvent> {
        try listener.poll(timeoutMilliseconds: 0)
    }
}
