import DoctorCore
import Netfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// ctnetlink as probes use it: one socket per probe in the caller's network namespace, and every `NetlinkError`
/// turned into the reading its errno calls for, so all ctnetlink probes say "denied" or "absent" the same way.
public enum CtnetlinkAccess {
    /// Why a copied root (or a snapshot file) has no ctnetlink readings.
    public static func notLive(_ host: HostRoot) -> String {
        "not a live host: ctnetlink answers only for the running kernel, and \(host.path) is a copied root"
    }

    /// Opens one socket and runs `body` with it, which fills readings with `reading(&failures) { … }`; when the
    /// socket cannot open, `notOpened` gets that error instead. Returns the first failure, for
    /// `CtnetlinkFacts.failure`.
    @discardableResult
    public static func session(
        netns: String? = nil, _ body: (inout Ctnetlink, inout [NetlinkError]) -> Void,
        notOpened: (NetlinkError) -> Void
    ) -> NetlinkError? {
        var failures: [NetlinkError] = []
        do {
            var socket = try Ctnetlink(netns: netns)
            body(&socket, &failures)
        } catch {
            notOpened(error)
            return error
        }
        return failures.first
    }

    /// One reading over its own socket; its failure, or the socket's, becomes `facts.failure` unless one is there.
    public static func single<T>(
        recordingIn facts: inout CtnetlinkFacts, _ request: (inout Ctnetlink) throws(NetlinkError) -> T
    ) -> Reading<T> {
        var result: Reading<T> = .failed("not read")
        let failure = session({ socket, failures in
            result = reading(&failures) { () throws(NetlinkError) in try request(&socket) }
        }, notOpened: { result = reading($0) })
        if facts.failure == nil { facts.failure = failure.map(Self.failure) }
        return result
    }

    /// The value `request` returns, or the reading its error maps to; the error is also added to `failures`.
    public static func reading<T>(_ failures: inout [NetlinkError], _ request: () throws(NetlinkError) -> T) -> Reading<T> {
        do {
            return .value(try request())
        } catch {
            failures.append(error)
            return reading(error)
        }
    }

    /// EPERM → denied (not permitted, so checks skip), "unsupported" errnos → absent (not on this kernel),
    /// anything else → failed.
    public static func reading<T>(_ error: NetlinkError) -> Reading<T> {
        switch error.kind {
        case .permissionDenied: .denied(error.description)
        case .unsupported: .absent(error.description)
        default: .failed(error.description)
        }
    }

    public static func failure(_ error: NetlinkError) -> CtnetlinkFailure {
        let kind: CtnetlinkFailure.Kind = switch error.kind {
        case .permissionDenied: .permissionDenied
        case .unsupported: error.operation == "socket" ? .noNfnetlink : .noCtnetlink
        default: .other
        }
        return CtnetlinkFailure(
            request: error.operation, errno: error.errno, errnoName: error.errnoName, kind: kind,
            message: error.description)
    }

    /// Per-CPU counters summed into the snapshot's shape; `entries` is not among them (GET_STATS has the count).
    public static func stats(_ cpus: [CPUCounters], source: String) -> ConntrackStats {
        var totals: [String: UInt64] = [:]
        for cpu in cpus {
            for (name, value) in cpu.values { totals[name, default: 0] += UInt64(value) }
        }
        let perCPU = cpus.map { CPUCounterRow(cpu: $0.cpu, counters: $0.values.mapValues(UInt64.init)) }
        return ConntrackStats(source: source, cpus: cpus.count, counters: totals, perCPU: perCPU)
    }

    public static func entryCount(_ count: TableCount) -> EntryCount {
        EntryCount(entries: Int(count.entries), max: count.maxEntries.map(Int.init))
    }

    /// Seconds on the monotonic clock, for measuring intervals.
    public static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func realtimeNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func sleep(seconds: Double) {
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
        var rest = timespec()
        while nanosleep(&request, &rest) != 0 && errno == EINTR { request = rest }
    }
}
