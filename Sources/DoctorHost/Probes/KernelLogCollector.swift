import DoctorCore

/// Sorts kernel log messages into the conntrack kinds of `KernelLogKind`, one record at a time, so a large ring
/// buffer is never held in memory. Feed records in log order with `add`, then take `log`.
public struct KernelLogCollector: Sendable {
    private var result: KernelLog
    // Kept in arrays rather than dictionaries keyed by the enum or by an optional: each new generic instantiation
    // with a Hashable key costs the runtime a scan of the conformance tables at its first use, ~0.2 ms apiece.
    private var summaries: [KernelLogSummary?] = Array(repeating: nil, count: KernelLogKind.allCases.count)
    private var origins: [TableFullOrigin] = []
    private var reasons: [String: InvalidReasonCount] = [:]
    /// A rate-limit line waiting to see whether the next record is a conntrack one.
    private var pendingRateLimit: KernelLogLine?
    private var previousWasConntrack = false

    public init(source: String) {
        result = KernelLog(source: source)
    }

    public mutating func noteOverwritten() { result.overwritten = true }

    /// One record: its timestamp (seconds since boot, if known) and message text.
    public mutating func add(seconds: Double?, message: String) {
        result.recordsRead += 1
        if let seconds {
            if result.firstSeconds == nil { result.firstSeconds = seconds }
            result.lastSeconds = seconds
        }
        guard let (kind, line) = Self.classify(message, seconds: seconds) else {
            pendingRateLimit = nil
            previousWasConntrack = false
            return
        }
        if kind == .rateLimited {
            if previousWasConntrack { record(.rateLimited, line) } else { pendingRateLimit = line }
            return
        }
        if let pending = pendingRateLimit {
            record(.rateLimited, pending)
            pendingRateLimit = nil
        }
        record(kind, line)
        previousWasConntrack = true
    }

    public var log: KernelLog {
        var log = result
        log.kinds = summaries.compactMap { $0 }
        log.tableFullByNetns = origins.sorted { ($0.netns ?? 0) < ($1.netns ?? 0) }
        log.invalidReasons = reasons.values.sorted { ($0.count, $1.proto, $1.reason) > ($1.count, $0.proto, $0.reason) }
        return log
    }

    private mutating func record(_ kind: KernelLogKind, _ line: KernelLogLine) {
        let slot = KernelLogKind.allCases.firstIndex(of: kind)!
        var summary = summaries[slot] ?? KernelLogSummary(kind: kind)
        summary.count += 1
        if let s = line.seconds {
            if summary.firstSeconds == nil { summary.firstSeconds = s }
            summary.lastSeconds = s
        }
        summary.recent.append(line)
        if summary.recent.count > KernelLogSummary.recentLimit { summary.recent.removeFirst() }
        summaries[slot] = summary

        switch kind {
        case .tableFull:
            let at = origins.firstIndex { $0.netns == line.netns } ?? {
                origins.append(TableFullOrigin(netns: line.netns, count: 0, lastSeconds: nil))
                return origins.count - 1
            }()
            origins[at].count += 1
            if origins[at].firstSeconds == nil { origins[at].firstSeconds = line.seconds }
            origins[at].lastSeconds = line.seconds ?? origins[at].lastSeconds
        case .invalid:
            guard let proto = line.proto, let reason = line.detail.map(Self.foldDigits) else { break }
            let key = "\(proto) \(reason)"
            var entry = reasons[key] ?? InvalidReasonCount(proto: proto, reason: reason, count: 0, lastSeconds: nil)
            entry.count += 1
            entry.lastSeconds = line.seconds ?? entry.lastSeconds
            reasons[key] = entry
        default:
            break
        }
    }

    // MARK: classification

    /// Older trackers logged as `nf_ct_<name>:` instead of `nf_ct_proto_<n>:`.
    static let trackerProtocols = ["tcp": 6, "udp": 17, "udplite": 136, "icmp": 1, "icmpv6": 58, "sctp": 132, "dccp": 33, "gre": 47]

    /// The kind of a message and what it carries, or nil when it is not a conntrack line.
    public static func classify(_ message: String, seconds: Double?) -> (KernelLogKind, KernelLogLine)? {
        guard mayBeConntrack(message) else { return nil }
        let text = message.trimmingWhitespace()
        var line = KernelLogLine(seconds: seconds, text: text)

        let utf8 = Array(text.utf8)
        func after(_ needle: StaticString) -> Substring? {
            utf8.withUnsafeBytes { Bytes.end(of: needle, in: $0) }.map { Substring(text.utf8[text.utf8.index(text.utf8.startIndex, offsetBy: $0)...]) }
        }
        func has(_ needle: StaticString) -> Bool { utf8.withUnsafeBytes { Bytes.contains($0, needle) } }
        if has("expectation table full") { return (.expectationTableFull, line) }
        if has("nf_conntrack"), let rest = after("table full") {
            if rest.hasPrefix(" in netns ") {
                line.netns = UInt64(rest.dropFirst(" in netns ".count).prefix { $0.isNumber })
            }
            return (.tableFull, line)
        }
        if has("automatic helper assignment is deprecated") || has("default automatic helper assignment has been turned off") {
            return (.helperAssignment, line)
        }
        if let rest = after("xt_CT: No such helper") {
            var helper = Substring(String(rest).trimmingWhitespace())
            while helper.first == "\"" { helper.removeFirst() }
            while helper.last == "\"" { helper.removeLast() }
            line.helper = String(helper)
            return (.noSuchHelper, line)
        }
        if has("nf_conntrack: falling back to vmalloc") { return (.vmallocFallback, line) }
        if let rest = after("net_ratelimit: "), text.hasSuffix("callbacks suppressed") {
            line.suppressed = Int(rest.prefix { $0.isNumber })
            return (.rateLimited, line)
        }
        if text.hasPrefix("TRACE: ") {
            let head = String(text.dropFirst("TRACE: ".count).prefix { !$0.isWhitespace })
            let parts = head.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 4, ["rule", "return", "policy"].contains(parts[2]), Int(parts[3]) != nil else { return nil }
            line.detail = head
            return (.trace, line)
        }
        return nfCtLine(text, line)
    }

    /// Words one of which every conntrack line holds; most of the kernel log holds none, and is passed over by this
    /// byte search without a String operation.
    static let markers: [StaticString] = [
        "nf_ct_", "TRACE: ", "table full", "helper assignment", "xt_CT: No such helper", "falling back to vmalloc",
        "net_ratelimit: ",
    ]

    static func mayBeConntrack(_ message: String) -> Bool {
        var message = message
        return message.withUTF8 { mayBeConntrack(bytes: UnsafeRawBufferPointer($0)) }
    }

    static func mayBeConntrack(bytes: UnsafeRawBufferPointer) -> Bool {
        markers.contains { Bytes.contains(bytes, $0) }
    }

    /// `nf_ct_proto_6: <reason> IN=…`, `nf_ct_tcp: <reason>`, `nf_ct_ftp: dropping packet: <why>`.
    private static func nfCtLine(_ text: String, _ base: KernelLogLine) -> (KernelLogKind, KernelLogLine)? {
        guard text.hasPrefix("nf_ct_") else { return nil }
        let rest = text.dropFirst("nf_ct_".count)
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let name = String(rest[..<colon])
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        var message = String(rest[rest.index(after: colon)...]).trimmingWhitespace()
        // nf_log_syslog appends the packet (`IN=… OUT=… SRC=…`) after the prefix.
        if let dump = Array(message.utf8).withUnsafeBytes({ Bytes.start(of: " IN=", in: $0) }) {
            message = String(Substring(message.utf8.prefix(dump))).trimmingWhitespace()
        }
        else if message.hasPrefix("IN=") { message = "" }
        var line = base

        if name.hasPrefix("proto_"), let proto = Int(name.dropFirst("proto_".count)) {
            line.proto = proto
            line.detail = message
            return (.invalid, line)
        }
        if message.hasPrefix("dropping packet") {
            line.helper = name
            let why = message.dropFirst("dropping packet".count).drop { $0 == ":" || $0 == " " }
            line.detail = String(why)
            return (.helperDrop, line)
        }
        if let proto = trackerProtocols[name] {
            line.proto = proto
            line.detail = message
            return (.invalid, line)
        }
        return nil
    }

    /// "SEQ is over upper bound 3405691582 (…)" → "SEQ is over upper bound N (…)".
    static func foldDigits(_ text: String) -> String {
        var out = ""
        var inDigits = false
        for c in text {
            if c.isASCII && c.isNumber {
                if !inDigits { out.append("N") }
                inDigits = true
            } else {
                out.append(c)
                inDigits = false
            }
        }
        return out
    }
}
