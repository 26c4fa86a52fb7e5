import DoctorCore
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Conntrack lines of the kernel log. On a live host: /dev/kmsg from the start of the ring buffer, else `dmesg`.
/// In a copied root: the saved ring buffer of a sosreport, else the syslog or boot-time kernel log files.
/// Reading /dev/kmsg needs CAP_SYSLOG when kernel.dmesg_restrict = 1.
public struct KernelLogProbe: Probe {
    public static let probeName = "kernel log"
    public let name = KernelLogProbe.probeName

    public static let kmsg = "/dev/kmsg"
    public static let dmesgCommand = ["dmesg"]
    /// Files of a copied root, oldest first: syslog's rotated and current kern.log, then the sosreport's copy of the
    /// ring buffer. All that exist are read and merged (a line in two of them counts once).
    public static let files = ["/var/log/kern.log.1", "/var/log/kern.log", "/sos_commands/kernel/dmesg"]
    /// The boot-time copy, read only when none of the above exists.
    public static let bootLog = "/var/log/dmesg"

    public init() {}

    /// On a live host the ring buffer is read on a thread of its own while the other probes run: it needs nothing
    /// they find, and the kernel formats every record for the read, a large share of a plain check.
    public func prefetch(into batch: CommandBatch, context: ProbeContext) {
        guard context.host.isLive else { return }
        if let early = Self.takeEarly() {
            batch.adoptWork(name, early)
            return
        }
        let host = context.host
        batch.startWork(name) { Self.readKmsg(host) }
    }

    /// The read started by `startEarly`, until the first live snapshot takes it.
    private static let early = Mutex<BackgroundWork?>(nil)

    /// Starts reading the ring buffer of the live host before the command line is parsed, when the command will
    /// most likely take a live snapshot: the read and the parse then run side by side. The first live snapshot uses
    /// it; a command that takes none only wasted a read. The ring buffer is the same in every network namespace.
    public static func startEarly() {
        early.withLock { started in
            if started == nil { started = BackgroundWork { readKmsg(HostRoot("/")) } }
        }
    }

    static func takeEarly() -> BackgroundWork? {
        early.withLock { started in
            defer { started = nil }
            return started
        }
    }

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        snapshot.kernelLog = context.host.isLive ? Self.live(context) : Self.copied(context.host)
    }

    static func live(_ context: ProbeContext) -> Reading<KernelLog> {
        let started = context.commands?.takeWork(probeName) as? Reading<KernelLog>
        let fromKmsg = started ?? readKmsg(context.host)
        if fromKmsg.value != nil { return fromKmsg }
        switch context.runner.run(dmesgCommand, timeout: 10) {
        case .success(let result) where result.exitStatus == 0:
            return .value(parseText(result.stdout, source: "dmesg"))
        case .success(let result):
            return fromKmsg.withProblem(
                "\(fromKmsg.problem ?? ""); `dmesg` exited \(result.exitStatus): \(result.stderr.trimmingWhitespace())")
        case .failure(let failure):
            return fromKmsg.withProblem("\(fromKmsg.problem ?? ""); \(failure)")
        }
    }

    /// Every kernel log file of the root, merged: the last boot of the kern.log files (rotated one first) and the
    /// sosreport's dmesg, each line once (same timestamp and text), in time order. The log's `spans` say which file
    /// covered what; "table full" lines found only in kern.log count as much as the ring buffer's.
    static func copied(_ host: HostRoot) -> Reading<KernelLog> {
        var problems: [Reading<String>] = []
        var syslog = "", syslogFiles: [String] = []
        var parts: [(source: String, lines: [(Double?, String)])] = []
        for path in files {
            let reading = host.read(path, limit: .kernelLog)
            guard let text = reading.value else { problems.append(reading); continue }
            if path.hasPrefix("/var/log/kern.log") {
                // The rotated file and the current one are one log, oldest first.
                syslog += text.hasSuffix("\n") || text.isEmpty ? text : text + "\n"
                syslogFiles.append(host.cite(path))
                if path == "/var/log/kern.log" { parts.append((syslogFiles.joined(separator: " + "), lastBoot(syslog))) }
            } else {
                parts.append((host.cite(path), lastBoot(text)))
            }
        }
        if parts.isEmpty, syslog.isEmpty {
            let reading = host.read(bootLog, limit: .kernelLog)
            guard let text = reading.value else {
                problems.append(reading)
                return .worst(of: problems, text: "no kernel log in this root: " + problems.compactMap(\.problem).joined(separator: "; "))
            }
            parts.append((host.cite(bootLog), lastBoot(text)))
        } else if !syslog.isEmpty, !parts.contains(where: { $0.source == syslogFiles.joined(separator: " + ") }) {
            parts.insert((syslogFiles.joined(separator: " + "), lastBoot(syslog)), at: 0)
        }
        return .value(merge(parts))
    }

    /// One log of several files: lines present in more than one count once; the files' own spans are kept.
    static func merge(_ parts: [(source: String, lines: [(Double?, String)])]) -> KernelLog {
        var seen = Set<String>()
        var lines: [(Double?, String)] = []
        var spans: [KernelLogSpan] = []
        for part in parts {
            let times = part.lines.compactMap(\.0)
            spans.append(KernelLogSpan(source: part.source, records: part.lines.count, firstSeconds: times.min(), lastSeconds: times.max()))
            for line in part.lines where seen.insert("\(line.0.map { String($0) } ?? "-") \(line.1)").inserted {
                lines.append(line)
            }
        }
        // Several files: stable by time, so lines without a timestamp keep their place. One file keeps its own order
        // (CPUs' clocks differ a little, so its timestamps may step back a fraction of a second).
        let ordered = parts.count == 1 ? lines : lines.enumerated().sorted { a, b in
            switch (a.element.0, b.element.0) {
            case let (x?, y?) where x != y: x < y
            default: a.offset < b.offset
            }
        }.map(\.element)
        var collector = KernelLogCollector(source: parts.map(\.source).joined(separator: " + "))
        for (seconds, message) in ordered { collector.add(seconds: seconds, message: message) }
        var log = collector.log
        log.spans = parts.count > 1 ? spans : nil
        return log
    }

    static func readKmsg(_ host: HostRoot) -> Reading<KernelLog> {
        var collector = KernelLogCollector(source: kmsg)
        return eachKmsgRecord(host) { collector.add(seconds: $0, message: $1) }.map { overwritten in
            if overwritten { collector.noteOverwritten() }
            return collector.log
        }
    }

    /// Hands every record of /dev/kmsg to `body`, oldest first: one record per read(2), until EAGAIN. EPIPE means
    /// records were overwritten before they were read; reading goes on from the oldest one left, and the result says so.
    static func eachKmsgRecord(_ host: HostRoot, _ body: (Double, String) -> Void) -> Reading<Bool> {
        let fd = open(host.resolve(kmsg), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            let reading: Reading<Bool> = HostRoot.reading(errno: code, kmsg)
            guard code == EPERM || code == EACCES else { return reading }
            let restrict = host.readTrimmed("/proc/sys/kernel/dmesg_restrict").value
            return .denied("\(kmsg): \(HostRoot.describe(errno: code)): reading the kernel log needs CAP_SYSLOG"
                + (restrict == "1" ? " (kernel.dmesg_restrict = 1)" : ""))
        }
        defer { close(fd) }
        var overwritten = false, total = 0
        // A record is at most about 1 KiB of text plus its dictionary; 16 KiB never gets EINVAL (buffer too small).
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                switch errno {
                case EINTR: continue
                case EPIPE: overwritten = true; continue
                case EAGAIN: return .value(overwritten)
                case let code: return .failed("\(kmsg): \(HostRoot.describe(errno: code))")
                }
            }
            if n == 0 { return .value(overwritten) }
            if let record = parseKmsgRecord(buffer[0..<n]) { body(record.seconds, record.message) }
            // A kernel logging faster than this reads never lets it reach EAGAIN: stop at the limit of a kernel log.
            total += n
            if total > ReadLimit.kernelLog.bytes { return .value(overwritten) }
        }
    }

    /// `prio,seq,usec,flags[,…];message` followed by dictionary lines that start with a space. Read as bytes: a
    /// message no conntrack line could be comes back empty, without a String made of it (most of the log).
    static func parseKmsgRecord(_ bytes: ArraySlice<UInt8>) -> (seconds: Double, message: String)? {
        guard let semicolon = bytes.firstIndex(of: UInt8(ascii: ";")) else { return nil }
        // The third comma-separated field of the header; one record per read of /dev/kmsg, so no allocation here.
        var field = 0, usec: UInt64 = 0, digits = 0
        for byte in bytes[bytes.startIndex..<semicolon] {
            if byte == UInt8(ascii: ",") { field += 1; continue }
            guard field == 2 else { continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 19 else { return nil }
            usec = usec * 10 + UInt64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard field >= 2, digits > 0 else { return nil }
        let body = bytes[(semicolon + 1)...]
        let end = body.firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
        let message = body[body.startIndex..<end]
        let mayMatter = message.withUnsafeBytes { KernelLogCollector.mayBeConntrack(bytes: $0) }
        return (Double(usec) / 1_000_000, mayMatter ? String(decoding: message, as: UTF8.self) : "")
    }

    /// dmesg (`[ 1234.567890] message`), syslog (`Feb 11 18:58:28 host kernel: [ 1234.567890] message`) and
    /// journal-style (`[ 1234.567890] kernel: message`) lines. Indented lines continue the previous message and are
    /// skipped. A kern.log holds several boots: a "Linux version" line, or a timestamp more than a second below the
    /// one before, starts a new boot, and only the last boot is kept so every timestamp counts from the same boot.
    /// (CPUs' clocks differ a little, so small steps back happen within one boot.)
    static func parseText(_ text: String, source: String) -> KernelLog {
        var collector = KernelLogCollector(source: source)
        for (seconds, message) in lastBoot(text) { collector.add(seconds: seconds, message: message) }
        return collector.log
    }

    /// The lines of the last boot in the text, as (seconds since boot, message).
    static func lastBoot(_ text: String) -> [(Double?, String)] {
        var lines: [(Double?, String)] = []
        var last: Double?
        for raw in text.split(whereSeparator: \.isNewline) {
            guard let (seconds, message) = parseTextLine(Substring(raw)) else { continue }
            if message.hasPrefix("Linux version ") || (seconds.map { s in last.map { s < $0 - 1 } ?? false } ?? false) {
                lines = []
            }
            last = seconds ?? last
            lines.append((seconds, message))
        }
        return lines
    }

    static func parseTextLine(_ raw: Substring) -> (Double?, String)? {
        guard let first = raw.first, !first.isWhitespace else { return nil }
        var line = raw
        if let kernel = line.firstRange(of: " kernel: "), !line.hasPrefix("[") {
            line = line[kernel.upperBound...]
        }
        var seconds: Double?
        if line.hasPrefix("["), let close = line.firstIndex(of: "]"),
           let value = Double(String(line[line.index(after: line.startIndex)..<close]).trimmingWhitespace()) {
            seconds = value
            line = line[line.index(after: close)...].drop { $0 == " " }
        }
        if line.hasPrefix("kernel: ") { line = line.dropFirst("kernel: ".count) }
        return (seconds, String(line))
    }
}

extension Reading {
    /// The same case with another text.
    func withProblem(_ text: String) -> Reading {
        switch self {
        case .value: self
        case .absent: .absent(text)
        case .denied: .denied(text)
        case .failed: .failed(text)
        }
    }
}
