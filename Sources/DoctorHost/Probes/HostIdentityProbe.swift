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
            host.readTrimmed("/sos_commands/kernel/uname_-a").flatMap { line in
                let fields = line.split(whereSeparator: \.isWhitespace)
                guard fields.count >= 3 else { return .failed("sos_commands/kernel/uname_-a: no release in \"\(line)\"") }
                return .value(String(fields[2]))
            }
        }
        info.uptimeSeconds = host.readTrimmed("/proc/uptime").flatMap { text in
            guard let first = text.split(whereSeparator: \.isWhitespace).first, let seconds = Double(first) else {
                return .failed("/proc/uptime: no number of seconds in \"\(text)\"")
            }
            return .value(seconds)
        }
        info.netns = Self.netns(host)
        info.privileges = host.isLive ? Self.privileges(host) : Privileges()
        snapshot.host = info
    }

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
        return ns
    }

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
