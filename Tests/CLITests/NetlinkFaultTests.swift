import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Builds Tests/Scenarios/tools/netlink-faults.c, the LD_PRELOAD library that makes the unchanged binary's netlink
/// replies fail mid-dump, once per test run.
enum NetlinkFaults {
    static let library: Result<String, InputError> = {
        let source = Binary.packageRoot.appendingPathComponent("Tests/Scenarios/tools/netlink-faults.c").path
        guard let dir = try? Binary.temporaryDirectory() else { return .failure(InputError("no temporary folder")) }
        let output = dir.appendingPathComponent("netlink-faults.so").path
        switch SystemCommandRunner().run(["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", output, source, "-ldl"], timeout: 60) {
        case .success(let r) where r.exitStatus == 0: return .success(output)
        case .success(let r): return .failure(InputError("cc \(source): \(r.stderr)"))
        case .failure(let f): return .failure(InputError("cc: \(f.description)"))
        }
    }()

    static var built: Bool { (try? library.get()) != nil }
}

/// Netlink fails mid-dump the way a busy or changing kernel makes it fail — NLM_F_DUMP_INTR on a batch, ENOBUFS,
/// EINTR, EPERM per request — injected into the real binary's replies from a real kernel (a throwaway namespace
/// with a real table and real rules), and ctdoctor says what it could not see: an interrupted dump is reported as
/// incomplete with the figures it read and never as an empty or consistent table, a changed ruleset is read again,
/// a refused request falls back to the other source. Each test also checks that the fault fired.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "these tests need root to create network namespaces and read ctnetlink"),
    .enabled(if: NetlinkFaults.built, "cc could not build Tests/Scenarios/tools/netlink-faults.c (install gcc)"))
struct NetlinkFaultTests {
    /// nfnetlink requests by (subsystem/message): ctnetlink's IPCTNL_MSG_CT_GET, GET_STATS_CPU and GET_STATS;
    /// nf_tables' NFT_MSG_GETRULE.
    static let ctGet = "1/1", ctStatsCPU = "1/4", ctStats = "1/5", nftGetRule = "10/7"
    static let entries = 3000

    /// Runs ctdoctor in `ns` with the fault spec (see netlink-faults.c); returns the result and the faults that fired.
    func run(_ ns: Namespace, fault: String, _ arguments: [String]) throws -> (CommandResult, [String]) {
        let log = try Binary.temporaryDirectory().appendingPathComponent("fired").path
        let result = try ns.exec([
            "env", "LD_PRELOAD=\(try NetlinkFaults.library.get())", "CTD_NETLINK_FAULT=\(fault)", "CTD_NETLINK_FAULT_LOG=\(log)",
            Binary.path,
        ] + arguments)
        let fired = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        return (result, fired)
    }

    func filledNamespace() throws -> Namespace {
        let ns = try Namespace()
        let fill = Binary.packageRoot.appendingPathComponent("Tests/Scenarios/tools/fill-conntrack").path
        try ns.exec(["python3", fill, String(Self.entries)], mustSucceed: true)
        return ns
    }

    func summary(_ result: CommandResult) throws -> [String: Any] {
        let top = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require(top?["summary"] as? [String: Any], "\(result.stdout)\(result.stderr)")
    }

    /// The third batch of the table dump carries NLM_F_DUMP_INTR, or its receive fails with ENOBUFS: `top` shows
    /// what it read as INCOMPLETE with the reason, and the count after the dump is still read on the same socket
    /// (the rest of the dump is drained, not mistaken for the next reply).
    @Test(arguments: [("dump-intr", "NLM_F_DUMP_INTR"), ("enobufs", "ENOBUFS")])
    func interruptedTableDumpIsIncompleteNotConsistent(_ action: String, _ reason: String) throws {
        let ns = try filledNamespace()
        let (json, fired) = try run(ns, fault: "\(action):\(Self.ctGet):3", ["top", "--format", "json"])
        #expect(fired == ["\(action) \(Self.ctGet) 3"])
        #expect(json.exitStatus == 0, "\(json.stderr)")
        let s = try summary(json)
        let read = try #require(s["entries"] as? Int)
        #expect(read > 0 && read < Self.entries, "two batches were read before the fault")
        #expect(s["countBefore"] as? Int == Self.entries)
        #expect(s["countAfter"] as? Int == Self.entries, "GET_STATS after the dump answered on the same socket")
        #expect((s["incomplete"] as? String)?.contains(reason) == true, "\(s)")

        let (text, _) = try run(ns, fault: "\(action):\(Self.ctGet):3", ["top"])
        #expect(text.stdout.contains("INCOMPLETE: the dump stopped after \(read) entries (GET_STATS counted \(Self.entries) before it): "), "\(text.stdout)")
        #expect(text.stdout.contains("The figures below are only for the entries read."))
    }

    /// The fault on the very first batch: nothing was read, which is not an empty table.
    @Test func dumpInterruptedAtTheFirstBatchIsNotAnEmptyTable() throws {
        let ns = try filledNamespace()
        let (text, fired) = try run(ns, fault: "dump-intr:\(Self.ctGet):1", ["top"])
        #expect(fired == ["dump-intr \(Self.ctGet) 1"])
        #expect(text.stdout.contains("INCOMPLETE: the dump stopped after 0 entries"), "\(text.stdout)")
        #expect(!text.stdout.contains("is empty"), "\(text.stdout)")
    }

    /// A signal (EINTR) in the middle of the dump is retried: the summary equals the one read without it.
    @Test func eintrMidDumpLosesNothing() throws {
        let ns = try filledNamespace()
        let clean = try summary(try ns.ctdoctor(["top", "--format", "json"]))
        let (faulted, fired) = try run(ns, fault: "eintr:\(Self.ctGet):3", ["top", "--format", "json"])
        #expect(fired == ["eintr \(Self.ctGet) 3"])
        let s = try summary(faulted)
        #expect(s["entries"] as? Int == Self.entries)
        #expect(s["incomplete"] == nil || s["incomplete"] is NSNull)
        #expect((s["protocols"] as? [String: Int]) == (clean["protocols"] as? [String: Int]))
    }

    /// `check --deep` on an interrupted dump: the ESTABLISHED share says it is from the entries read, and the
    /// count-versus-dump comparison (entries "counted but not in the table") is left out rather than blaming the
    /// dump's own gap on unconfirmed or dying entries. Without the fault the comparison is there.
    @Test func deepCheckOnAnInterruptedDumpSaysSo() throws {
        let ns = try filledNamespace()
        let only = ["check", "--deep", "--only", "timeouts.tcp-established,lists.unconfirmed-dying", "--format", "json"]
        let (faulted, fired) = try run(ns, fault: "dump-intr:\(Self.ctGet):2", only)
        #expect(fired == ["dump-intr \(Self.ctGet) 2"])
        let report = try JSONDecoder().decode(Report.self, from: Data(faulted.stdout.utf8))
        let timeout = try #require(report.findings.first { $0.id == "timeouts.tcp-established" })
        #expect(timeout.observed.contains("dumped entries (0%) (the dump stopped early, so only those entries were seen)"), "\(timeout.observed)")
        #expect(timeout.evidence.contains { $0.value.contains("NLM_F_DUMP_INTR") })
        let lists = try #require(report.findings.first { $0.id == "lists.unconfirmed-dying" })
        #expect(!lists.evidence.contains { $0.source == "GET_STATS around the table dump" }, "\(lists.evidence)")

        let clean = try JSONDecoder().decode(Report.self, from: Data(try ns.ctdoctor(only).stdout.utf8))
        let cleanLists = try #require(clean.findings.first { $0.id == "lists.unconfirmed-dying" })
        #expect(cleanLists.evidence.contains { $0.source == "GET_STATS around the table dump" && $0.value.contains("0 counted but not in the table") },
                "\(cleanLists.evidence)")
    }

    static let nftRules = """
        table inet t {
            chain pre { type filter hook prerouting priority 0; ct state invalid drop; tcp dport 8080 counter; }
            chain out { type filter hook output priority 0; ct state invalid counter; }
        }
        """

    func nftablesSource(_ result: CommandResult) throws -> [String: Any] {
        let snapshot = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let sources = (snapshot?["ruleset"] as? [String: Any])?["sources"] as? [[String: Any]] ?? []
        return try #require(sources.first { $0["backend"] as? String == "nftables" }, "\(result.stdout.prefix(2000))")
    }

    /// The rule dump is interrupted once (the ruleset changed): it is read again and gives the same rules.
    @Test func nftablesDumpInterruptedOnceIsReadAgain() throws {
        let ns = try Namespace()
        try ns.exec(["nft", Self.nftRules], mustSucceed: true)
        let (result, fired) = try run(ns, fault: "dump-intr:\(Self.nftGetRule):1:1", ["snapshot"])
        #expect(fired == ["dump-intr \(Self.nftGetRule) 1"])
        let source = try nftablesSource(result)
        #expect((source["rules"] as? [String: Any])?["value"] as? Int == 3, "\(source)")
    }

    /// Interrupted on every attempt: the source fails with the reason and the rule checks end in `error`, never
    /// in a pass or "no NAT rules".
    @Test func nftablesDumpInterruptedEveryTimeIsAnError() throws {
        let ns = try Namespace()
        try ns.exec(["nft", Self.nftRules], mustSucceed: true)
        let (result, fired) = try run(ns, fault: "dump-intr:\(Self.nftGetRule):1:0", ["snapshot"])
        #expect(fired.count >= 3 && fired.allSatisfy { $0 == "dump-intr \(Self.nftGetRule) 1" }, "\(fired)")
        let failed = (try nftablesSource(result)["rules"] as? [String: Any])?["failed"] as? String
        #expect(failed?.contains("NFT_MSG_GETRULE: EINTR (Interrupted system call): the table changed while it was dumped") == true, "\(failed ?? "nil")")

        let (check, _) = try run(ns, fault: "dump-intr:\(Self.nftGetRule):1:0", ["check", "--only", "rules.invalid-drop", "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(check.stdout.utf8))
        #expect(report.findings.first?.status == .error, "\(report.findings.first?.observed ?? "")")
        #expect(report.findings.first?.observed.contains("NLM_F_DUMP_INTR") == true)
        #expect(check.exitStatus == 3, "no verdict: the only check selected could not read its data")
    }

    /// iptables-nft's tables interrupted on every attempt over netlink: `iptables-nft-save` reads them instead,
    /// and the source says why.
    @Test func iptablesNftInterruptedEveryTimeFallsBackToIptablesSave() throws {
        let ns = try Namespace()
        try ns.exec(["iptables-nft", "-t", "raw", "-A", "PREROUTING", "-p", "tcp", "--dport", "21", "-j", "CT", "--helper", "ftp"], mustSucceed: true)
        let (result, fired) = try run(ns, fault: "dump-intr:\(Self.nftGetRule):1:0", ["snapshot"])
        #expect(!fired.isEmpty)
        let snapshot = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let sources = (snapshot?["ruleset"] as? [String: Any])?["sources"] as? [[String: Any]] ?? []
        let ipv4 = try #require(sources.first { $0["backend"] as? String == "iptables-nft" })
        #expect((ipv4["origin"] as? String)?.hasPrefix("iptables-nft-save (not over netlink: netlink: NFT_MSG_GETRULE: EINTR") == true, "\(ipv4)")
        #expect((ipv4["rules"] as? [String: Any])?["value"] as? Int == 1)
    }

    /// GET_STATS_CPU refused: the counters come from /proc/net/stat/nf_conntrack and the refusal is kept. GET_STATS
    /// refused: ctnetlink is "skipped" with the reason, not available and not a pass, and the count comes from
    /// nf_conntrack_count.
    @Test func refusedRequestsFallBackAndSaySo() throws {
        let ns = try filledNamespace()
        let (stats, fired) = try run(ns, fault: "eperm:\(Self.ctStatsCPU):1:0", ["snapshot"])
        #expect(fired.first == "eperm \(Self.ctStatsCPU) 0")
        let snapshot = try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any]
        let ctnetlink = snapshot?["ctnetlink"] as? [String: Any]
        #expect(((ctnetlink?["statistics"] as? [String: Any])?["denied"] as? String)?.hasPrefix("IPCTNL_MSG_CT_GET_STATS_CPU: EPERM") == true)
        #expect(((snapshot?["stats"] as? [String: Any])?["value"] as? [String: Any])?["source"] as? String == "/proc/net/stat/nf_conntrack")

        let (check, _) = try run(ns, fault: "eperm:\(Self.ctStats):1:0", ["check", "--only", "ctnetlink.available,table.usage", "--format", "json"])
        let report = try JSONDecoder().decode(Report.self, from: Data(check.stdout.utf8))
        let available = try #require(report.findings.first { $0.id == "ctnetlink.available" })
        #expect(available.status == .skipped)
        #expect(available.observed == "ctnetlink refused the request: EPERM (no CAP_NET_ADMIN in this network namespace)")
        let usage = try #require(report.findings.first { $0.id == "table.usage" })
        #expect(usage.observed.hasPrefix("\(Self.entries) of "), "\(usage.observed)")
        #expect(usage.evidence.contains { $0.source.hasSuffix("nf_conntrack_count") }, "\(usage.evidence)")
    }
}
