import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `ctdoctor watch` end to end on the real kernel, each test in a throwaway network namespace.
@Suite(.enabled(if: Binary.isRoot && Binary.exists, "watch tests create network namespaces and subscribe to events: run swift test as root after swift build"))
struct WatchCLITests {
    static let tools = Binary.packageRoot.appendingPathComponent("Tests/Scenarios/tools").path
    static let udpTraffic = Binary.packageRoot.appendingPathComponent("Benchmarks/udp-traffic").path
    static let trackEverything = """
        nft add table inet ctd
        nft add chain inet ctd out '{ type filter hook output priority 0; }'
        nft add rule inet ctd out ct state new counter
        """
    static let counters = ["found", "invalid", "insert_failed", "drop", "early_drop", "error", "clash_resolve", "chaintoolong", "search_restart"]

    /// A running watch: `during` runs once its first interval is out, then the watch is read to its end.
    static func watch(
        _ arguments: [String], during: () throws -> Void = {}, interrupt: Bool = false
    ) throws -> (status: Int32, stdout: String, lines: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = ["watch"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first interval is out with the first line of JSON, or the second of text (a start line comes first).
        let firstLines = arguments.contains("json") ? 1 : 2
        var data = Data()
        while data.filter({ $0 == UInt8(ascii: "\n") }).count < firstLines {
            let more = out.fileHandleForReading.availableData
            if more.isEmpty { break }
            data += more
        }
        try during()
        if interrupt { process.interrupt() }
        data += out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        return (process.terminationStatus, text, text.split(separator: "\n").map(String.init))
    }

    static func records(_ lines: [String]) throws -> [[String: Any]] {
        try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
        }
    }

    /// `conntrack -S` in the namespace, summed over CPUs.
    static func conntrackS(_ ns: Namespace, _ name: String) throws -> Int {
        let out = try ns.exec(["conntrack", "-S"], mustSucceed: true).stdout
        return out.split(separator: "\n").reduce(0) { sum, line in
            sum + (line.split(separator: " ").first { $0.hasPrefix("\(name)=") }.flatMap { Int($0.dropFirst(name.count + 1)) } ?? 0)
        }
    }

    static func sum(_ records: [[String: Any]], _ path: [String]) -> Int {
        records.reduce(0) { total, record in
            var value: Any? = record
            for key in path { value = (value as? [String: Any])?[key] }
            return total + ((value as? NSNumber)?.intValue ?? 0)
        }
    }

    @Test func ratesAndEventsMatchConntrackStatisticsAndTheJSONLinesCarryTheSchema() throws {
        let ns = try Namespace()
        try ns.exec(["sh", "-euc", Self.trackEverything], mustSucceed: true)
        let invalidBefore = try Self.conntrackS(ns, "invalid")
        let run = try Self.watch(["--netns", ns.name, "--interval", "1", "--duration", "5", "--format", "json"]) {
            try ns.exec(["python3", Self.udpTraffic, "200"], mustSucceed: true)
            try ns.exec(["python3", "\(Self.tools)/send-invalid-tcp", "127.0.0.1", "5"], mustSucceed: true)
        }
        let invalidAfter = try Self.conntrackS(ns, "invalid")
        #expect(run.status == 0)
        let records = try Self.records(run.lines)
        #expect(records.count == 5)
        #expect(Self.sum(records, ["events", "new"]) == 200)
        #expect(invalidAfter > invalidBefore)
        #expect(Self.sum(records, ["stats", "deltas", "invalid"]) == invalidAfter - invalidBefore)
        #expect(records.allSatisfy { ($0["lost"] as? NSNumber)?.intValue == 0 })
        let flows = records.flatMap { $0["topFlows"] as? [[String: Any]] ?? [] }.compactMap { $0["flow"] as? String }
        #expect(!flows.isEmpty && flows.allSatisfy { $0.hasPrefix("udp 127.0.0.1 → 127.1.0.0:1") })
        // Unexplained INVALID packets (nf_conntrack_log_invalid = 0) cross table.invalid in the interval they came.
        #expect(records.contains { (($0["crossed"] as? [[String: Any]]) ?? []).contains { $0["check"] as? String == "table.invalid" } })
        for record in records {
            #expect(record["schema"] as? String == "ctdoctor.watch/1")
            #expect((record["time"] as? String)?.hasSuffix("Z") == true)
            #expect(((record["interval"] as? NSNumber)?.doubleValue ?? 0) > 0.5)
            #expect(record["count"] is NSNumber && record["max"] is NSNumber && record["expectations"] is NSNumber)
            let stats = record["stats"] as? [String: Any]
            #expect(stats?["source"] as? String == "ctnetlink IPCTNL_MSG_CT_GET_STATS_CPU")
            let deltas = stats?["deltas"] as? [String: Any] ?? [:]
            #expect(Self.counters.allSatisfy { deltas[$0] is NSNumber }, "\(deltas.keys.sorted())")
            #expect(stats?["perCPU"] is [Any] && stats?["rates"] is [String: Any])
            let events = record["events"] as? [String: Any]
            #expect(["new", "update", "destroy"].allSatisfy { events?[$0] is NSNumber })
            #expect(record["kernelLog"] is [Any] && record["crossed"] is [Any] && record["topFlows"] is [Any])
        }
    }

    @Test func textWithoutATerminalIsPlainLinesAndASummary() throws {
        let ns = try Namespace()
        let run = try Self.watch(["--netns", ns.name, "--interval", "0.5", "--duration", "1.5"])
        #expect(run.status == 0)
        #expect(!run.stdout.contains("\u{1B}"))
        let intervals = run.lines.filter { $0.firstMatch(of: #/^\d\d:\d\d:\d\d \| entries /#) != nil }
        #expect(intervals.count == 3)
        #expect(run.lines.first?.hasPrefix("ctdoctor watch · netns ") == true)
        #expect(run.stdout.contains("ctdoctor watch summary"))
        #expect(run.stdout.contains("no check would have failed"))
    }

    @Test(.timeLimit(.minutes(1))) func ctrlCStopsWithASummary() throws {
        let ns = try Namespace()
        let run = try Self.watch(["--netns", ns.name, "--interval", "0.2"], interrupt: true)
        #expect(run.status == 0)
        #expect(run.stdout.contains("ctdoctor watch summary"))
    }

    @Test func onATerminalTheScreenIsRedrawnInPlaceWithoutColourUnderNoColor() throws {
        let ns = try Namespace()
        let command = "\(Binary.path) watch --netns \(ns.name) --interval 0.5 --duration 1"
        let coloured = try Binary.run([], argv: ["env", "-u", "NO_COLOR", "TERM=xterm", "script", "-qec", command, "/dev/null"])
        #expect(coloured.exitStatus == 0)
        #expect(coloured.stdout.contains("\u{1B}[H") && coloured.stdout.contains("\u{1B}[K") && coloured.stdout.contains("\u{1B}[32m"))
        #expect(coloured.stdout.contains("ctdoctor watch summary"))
        let plain = try Binary.run([], argv: ["env", "NO_COLOR=1", "TERM=xterm", "script", "-qec", command, "/dev/null"])
        #expect(plain.stdout.contains("\u{1B}[H"))
        #expect(!plain.stdout.contains("\u{1B}[32m") && !plain.stdout.contains("\u{1B}[2m"))
    }

    @Test func eventsSwitchedOffAreSaidPlainly() throws {
        let ns = try Namespace()
        try ns.set(["net.netfilter.nf_conntrack_events=0"])
        let text = try Self.watch(["--netns", ns.name, "--interval", "0.5", "--duration", "1"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("note: conntrack events are off in this network namespace (net.netfilter.nf_conntrack_events = 0)"))
        #expect(text.stdout.contains("events/s (not watched)"))
        let json = try Self.records(try Self.watch(["--netns", ns.name, "--interval", "0.5", "--duration", "1", "--format", "json"]).lines)
        #expect(json.allSatisfy { $0["events"] is NSNull && $0["lost"] is NSNull })
        #expect((json.first?["notes"] as? [String])?.first?.contains("nf_conntrack_events = 0") == true)
        #expect((json.last?["notes"] as? [String])?.isEmpty == true)
    }

    @Test func unprivilegedItShowsTheProcfsCountersAndSaysWhatItCannot() throws {
        let ns = try Namespace()
        let result = try ns.exec([
            "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            Binary.path, "watch", "--interval", "0.5", "--duration", "1", "--format", "json",
        ])
        #expect(result.exitStatus == 0)
        let records = try Self.records(result.stdout.split(separator: "\n").map(String.init))
        #expect(records.count == 2)
        let notes = records.flatMap { $0["notes"] as? [String] ?? [] }
        #expect(notes.contains { $0.contains("events not watched: subscribing to conntrack events needs CAP_NET_ADMIN") })
        #expect(notes.contains { $0.contains("ctnetlink refused") && $0.contains("/proc/net/stat/nf_conntrack") })
        #expect(records.allSatisfy { ($0["stats"] as? [String: Any])?["source"] as? String == "/proc/net/stat/nf_conntrack" })
        #expect(records.allSatisfy { $0["count"] is NSNumber && $0["events"] is NSNull })
    }

    /// nf_conntrack_max is global and read-only in a child namespace, so the table is filled to the real limit
    /// (262,144 entries over ctnetlink, a few seconds and ~80 MB), then new flows are refused during the watch.
    @Test(.timeLimit(.minutes(3))) func aFullTableShowsItsKernelLineAndDropRateNamingTableDrops() throws {
        let ns = try Namespace()
        try ns.exec(["sh", "-euc", Self.trackEverything], mustSucceed: true)
        let max = try String(contentsOfFile: "/proc/sys/net/netfilter/nf_conntrack_max", encoding: .utf8).trimmingWhitespace()
        try ns.exec(["python3", "\(Self.tools)/fill-conntrack", max], mustSucceed: true)
        let inode = try ns.exec(["stat", "-L", "-c", "%i", "/proc/self/ns/net"], mustSucceed: true).stdout.trimmingWhitespace()
        var refused = ""
        // Long enough that a loaded machine still sends within it.
        let run = try Self.watch(["--netns", ns.name, "--interval", "1", "--duration", "6", "--format", "json"]) {
            refused = try ns.exec(["python3", "-c", """
                import socket
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                refused = 0
                for port in range(20000, 20005):
                    try:
                        s.sendto(b"x", ("127.0.0.1", port))
                    except PermissionError:
                        refused += 1
                print(refused)
                """]).stdout.trimmingWhitespace()
        }
        #expect(refused == "5")
        #expect(run.status == 0)
        let records = try Self.records(run.lines)
        #expect(Self.sum(records, ["stats", "deltas", "drop"]) >= 5)
        let crossings = records.flatMap { $0["crossed"] as? [[String: Any]] ?? [] }
        #expect(crossings.contains { $0["check"] as? String == "table.drops" && $0["severity"] as? String == "critical" })
        #expect(records.allSatisfy { ($0["count"] as? NSNumber)?.stringValue == max })
        let lines = records.flatMap { $0["kernelLog"] as? [[String: Any]] ?? [] }
        let full = lines.filter { $0["kind"] as? String == "table-full" }
        #expect(!full.isEmpty, "no table-full line in the kernel log (net_ratelimit may have suppressed them all)")
        #expect(full.contains { ($0["netns"] as? NSNumber)?.stringValue == inode })
    }
}
