import DoctorCore
/// The nf_conntrack slab cache from /proc/slabinfo (mode 0400: root only): the measured size of one entry, for
/// sizing advice that is not folklore.
public struct SlabProbe: Probe {
    public let name = "conntrack slab"

    public static let path = "/proc/slabinfo"

    public init() {}

    /// The kernel writes the whole of /proc/slabinfo for one line: read on a thread of its own while the other
    /// probes run.
    public func prefetch(into batch: CommandBatch, context: ProbeContext) {
        let host = context.host
        batch.startWork(name) { Self.read(host) }
    }

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.conntrackSlab = prefetched(context) { Self.read(context.host) }
    }

    static func read(_ host: HostRoot) -> Reading<SlabCache> {
        host.read(path).flatMap(parse)
    }

    /// `name active_objs num_objs objsize objperslab pagesperslab : tunables … : slabdata …`. The cache is
    /// "nf_conntrack" (kernels before 4.x had one per namespace, "nf_conntrack_<address>"); a kernel that merged it
    /// into another cache of the same size lists no such line.
    public static func parse(_ text: String) -> Reading<SlabCache> {
        let prefix = Array("nf_conntrack".utf8)
        // Bytes, not characters: the file has a line per cache, and only these few lines need splitting.
        for bytes in text.utf8.split(separator: UInt8(ascii: "\n")) where bytes.starts(with: prefix) {
            let line = String(decoding: bytes, as: UTF8.self)
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 4, isConntrack(fields[0]) else { continue }
            guard let active = Int(fields[1]), let total = Int(fields[2]), let size = Int(fields[3]) else {
                return .failed("\(path): cannot read the numbers of \"\(line)\"")
            }
            return .value(SlabCache(name: String(fields[0]), objectSize: size, activeObjects: active, totalObjects: total))
        }
        return .absent("\(path) has no nf_conntrack cache (conntrack not loaded, or the cache was merged with another)")
    }

    static func isConntrack(_ name: Substring) -> Bool {
        if name == "nf_conntrack" { return true }
        guard name.hasPrefix("nf_conntrack_") else { return false }
        return name.dropFirst("nf_conntrack_".count).allSatisfy(\.isHexDigit)
    }
}
