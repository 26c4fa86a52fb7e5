import DoctorCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Who and where: hostname, kernel release, uptime, the network namespace, and the tool's own privileges.
public struct HostIdentityProbe: Probe {
    public let name = "host identity"

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        let host = context.host
        var info = HostInfo()
        info.hostname = Self.sosreportFallback(host.readTrimmed("/proc/sys/kernel/hostname"), host: host) {
            host.readTrimmed("/sos_commands/host/hostname")
        }
        info.kernelRelease = Self.sosreportFallback(host.readTrimmed("/proc/sys/kernel/osrelease"), host: host) {
            // `uname -a`: "Linux <hostname> <release> #<build> ..."
            let uname = host.readTrimmed("/sos_commands/kernel/uname_-a").flatMap { line -> Reading<String> in
                let fields = line.split(whereSeparator: \.isWhitespace)
                guard fields.count >= 3 else { return .failed("sos_commands/kernel/uname_-a: no release in \"\(line)\"") }
                return .value(String(fields[2]))
            }
            // A partial sosreport may keep only the host plugin: hostnamectl says "Kernel: Linux <release>".
            guard uname.value == nil, case .value(let status) = host.read(Self.hostnamectl),
                  let release = Self.hostnamectlKernel(status) else { return uname }
            return .value(release)
        }
        let procUptime = host.readTrimmed("/proc/uptime")
        if procUptime.value == nil, host.isSosreport, host.exists(Self.sosUptime) { info.uptimeSource = host.cite(Self.sosUptime) }
        info.uptimeSeconds = Self.sosreportUptime(procUptime, host: host).flatMap { text in
            // Double() also reads "nan", "inf" and "1e308": none is a time since boot.
            guard let first = text.split(whereSeparator: \.isWhitespace).first, let seconds = Double(first),
                  seconds.isFinite, (0...Self.longestUptime).contains(seconds) else {
                return .failed("/proc/uptime: no number of seconds since boot in \"\(text)\"")
            }
            return .value(seconds)
        }
        info.netns = Self.netns(host)
        info.privileges = host.isLive ? Self.privileges(host) : Privileges()
        snapshot.host = info
    }

    public static let hostnamectl = "/sos_commands/host/hostnamectl_status"
    public static let sosUptime = "/sos_commands/host/uptime"

    /// "Kernel: Linux 6.8.0-59-generic" → "6.8.0-59-generic".
    static func hostnamectlKernel(_ text: String) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = String(line).trimmingWhitespace()
            guard trimmed.hasPrefix("Kernel:") else { continue }
            let words = trimmed.dropFirst("Kernel:".count).split(whereSeparator: \.isWhitespace)
            return words.count >= 2 ? String(words[1]) : words.first.map(String.init)
        }
        return nil
    }

    /// In a sosreport without /proc/uptime, `uptime`'s output ("up 2 days,  3:04", "up 25 min") as /proc/uptime's
    /// first field, to the minute.
    static func sosreportUptime(_ primary: Reading<String>, host: HostRoot) -> Reading<String> {
        sosreportFallback(primary, host: host) {
            host.readTrimmed(sosUptime).flatMap { text in
                parseUptime(text).map { .value(String($0)) } ?? .failed("\(host.cite(sosUptime)): no uptime in \"\(text)\"")
            }
        }
    }

    /// Seconds from `uptime`'s "up …," part: days, "H:MM", "N min"; nil when there is none.
    static func parseUptime(_ text: String) -> Int? {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        guard let up = words.firstIndex(of: "up") else { return nil }
        var seconds = 0
        var matched = false
        for part in words[(up + 1)...].joined(separator: " ").split(separator: ",") {
            let words = part.split(whereSeparator: \.isWhitespace)
            if words.contains(where: { $0.hasPrefix("user") || $0 == "load" }) { break }
            if words.count == 2, let n = Int(words[0]), n >= 0, n < 1_000_000 {
                if words[1].hasPrefix("day") { seconds += n * 86400; matched = true }
                else if words[1].hasPrefix("min") { seconds += n * 60; matched = true }
                else if words[1].hasPrefix("sec") { seconds += n; matched = true }
            } else if words.count == 1 {
                let hm = words[0].split(separator: ":")
                if hm.count == 2, let h = Int(hm[0]), let m = Int(hm[1]), (0..<100_000).contains(h), (0..<60).contains(m) {
                    seconds += h * 3600 + m * 60
                    matched = true
                }
            }
        }
        return matched ? seconds : nil
    }

    /// A thousand years: anything longer is not an uptime.
    static let longestUptime = 1000 * 365.25 * 86400

    /// A sosreport keeps command output under sos_commands/ but usually not /proc/sys/kernel; when the proc file is
    /// absent from a copied root that is a sosreport, the recorded command output stands in for it.
    static func sosreportFallback(
        _ primary: Reading<String>, host: HostRoot, _ fallback: () -> Reading<String>
    ) -> Reading<String> {
        guard case .absent = primary, !host.isLive, host.isDirectory("/sos_commands") else { return primary }
        if case .value(let v) = fallback() { return .value(v) }
        return primary
    }

    static func netns(_ host: HostRoot) -> NetnsIdentity {
        var ns = NetnsIdentity()
        ns.inode = host.readLink("/proc/self/ns/net").flatMap(Self.parseNetnsLink)

        switch host.list("/proc/sys/net/netfilter") {
        case .value(let names):
            if names.contains("nf_log_all_netns") {
                ns.initial = true
                ns.basis = "net.netfilter.nf_log_all_netns is present, and it exists only in the initial namespace"
            } else {
                ns.initial = false
                ns.basis = "net.netfilter.nf_log_all_netns is missing, and it exists only in the initial namespace"
            }
        case .absent, .denied, .failed:
            if host.exists("/proc/sys/net/nf_conntrack_max") {
                ns.initial = true
                ns.basis = "/proc/sys/net/nf_conntrack_max is present, and it exists only in the initial namespace"
            } else {
                ns.initial = nil
                ns.basis = "cannot tell: netfilter sysctls are not visible"
            }
        }

        if host.isLive, let inode = ns.inode.value, case .value(let names) = host.list("/run/netns") {
            ns.name = names.first { host.inode("/run/netns/" + $0) == inode }
        }
        if host.isLive, ns.initial == false { ns.datedSince = nsfsInodeMade("/proc/self/ns/net") }
        return ns
    }

    /// When the nsfs inode behind `path` was made, in seconds since boot on CLOCK_MONOTONIC (the kernel log's
    /// clock, bar suspend), for a kept namespace (nsfsInodeChanged). nsfs makes the inode when the namespace is
    /// first opened and drops it when nothing holds it, so a bind-mounted or older inode dates a namespace that a
    /// bind mount or a descriptor keeps (`ip netns add`, container runtimes); a fresh unbound one only dates this look.
    static func nsfsInodeMade(_ path: String, margin: Double = 2) -> Double? {
        var real = timespec(), monotonic = timespec()
        guard let changed = nsfsInodeChanged(path, margin: margin), clock_gettime(CLOCK_REALTIME, &real) == 0,
              clock_gettime(CLOCK_MONOTONIC, &monotonic) == 0 else { return nil }
        let made = changed - (seconds(real) - seconds(monotonic))
        guard made.isFinite, made >= 0 else { return nil }
        return made
    }

    /// The nsfs inode's st_ctime behind `path` (wall-clock seconds), if a bind mount keeps the namespace or the time
    /// is more than `margin` seconds ago (something else, a descriptor, keeps it). It is fixed for as long as the
    /// namespace is kept, whatever the clock does since, so it tells a kept namespace from a later one that got its
    /// number.
    public static func nsfsInodeChanged(_ path: String, margin: Double = 2) -> Double? {
        var info = stat()
        var real = timespec()
        guard stat(path, &info) == 0, clock_gettime(CLOCK_REALTIME, &real) == 0 else { return nil }
        let changed = seconds(info.st_ctim)
        guard changed.isFinite else { return nil }
        if changed < seconds(real) - margin { return changed }
        let mountinfo = HostRoot("/").read("/proc/self/mountinfo").value ?? ""
        return boundByMount(UInt64(info.st_ino), mountinfo: mountinfo) ? changed : nil
    }

    /// Whether /proc/self/mountinfo has an nsfs bind mount of network namespace `inode` (`ip netns add`, container
    /// runtimes): "43 42 0:4 net:[4026532177] /run/netns/a rw shared:2 - nsfs nsfs rw".
    static func boundByMount(_ inode: UInt64, mountinfo: String) -> Bool {
        let root = "net:[\(inode)]"
        return mountinfo.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ", maxSplits: 4)
            return fields.count == 5 && fields[3] == root && line.contains(" - nsfs ")
        }
    }

    private static func seconds(_ t: timespec) -> Double { Double(t.tv_sec) + Double(t.tv_nsec) / 1e9 }

    /// The inode of the network namespace this process is in now (for guards that compare it with a snapshot's).
    public static func currentNetnsInode() -> UInt64? {
        HostRoot("/").readLink("/proc/self/ns/net").flatMap(parseNetnsLink).value
    }

    /// "net:[4026531833]" → 4026531833.
    static func parseNetnsLink(_ target: String) -> Reading<UInt64> {
        guard target.hasPrefix("net:["), target.hasSuffix("]"),
              let inode = UInt64(target.dropFirst(5).dropLast())
        else { return .failed("/proc/self/ns/net points to \"\(target)\", not net:[inode]") }
        return .value(inode)
    }

    static func privileges(_ host: HostRoot) -> Privileges {
        var p = Privileges(euid: UInt32(geteuid()))
        if case .value(let status) = host.read("/proc/self/status") {
            p.netAdmin = capNetAdmin(status: status)
        }
        return p
    }

    /// CAP_NET_ADMIN's number in linux/capability.h (not in Glibc's module).
    static let CAP_NET_ADMIN: UInt64 = 12

    /// The CAP_NET_ADMIN bit of the hexadecimal CapEff line of /proc/<pid>/status; nil when there is no such line.
    static func capNetAdmin(status: String) -> Bool? {
        for line in status.split(whereSeparator: \.isNewline) where line.hasPrefix("CapEff:") {
            let hex = String(line.dropFirst("CapEff:".count)).trimmingWhitespace()
            guard let mask = UInt64(hex, radix: 16) else { return nil }
            return mask & (1 << CAP_NET_ADMIN) != 0
        }
        return nil
    }
}
