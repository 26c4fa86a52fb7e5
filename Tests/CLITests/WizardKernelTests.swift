import DoctorCore
import DoctorHost
import Foundation
import Testing

/// `ctdoctor wizard` on the real kernel, in throwaway namespaces: the trace names the DNAT and the dropping rule,
/// the kernel's INVALID reason is read back, and after every flow — finished, interrupted with SIGINT, or killed
/// and undone with `fix --undo` — the namespace's sysctls and ruleset are byte for byte as before.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "wizard tests need root to create network namespaces; run the tests as root to include them"),
    .serialized)
struct WizardKernelTests {
    static let tools = Binary.packageRoot.appendingPathComponent("Tests/Scenarios/tools").path

    /// A DNAT port forward 8080 → 127.0.0.1:2222 whose filter rule drops the translated port.
    static let brokenForward = """
        nft add table ip nat
        nft 'add chain ip nat out { type nat hook output priority -100; policy accept; }'
        nft add rule ip nat out tcp dport 8080 dnat to 127.0.0.1:2222
        nft add table inet f
        nft 'add chain inet f inp { type filter hook input priority filter; policy accept; }'
        nft add rule inet f inp tcp dport 2222 drop
        """

    /// Everything the wizard may touch: sysctls (less the live entry count), the nftables ruleset without its
    /// counters, and both iptables backends without their timestamp comments and chain packet counters (traffic).
    static func state(_ ns: Namespace) throws -> String {
        try ns.exec(["sh", "-c", """
            sysctl -a -r netfilter 2>/dev/null | grep -v '^net.netfilter.nf_conntrack_count '
            nft -s list ruleset
            iptables-save 2>/dev/null | grep -v '^#' | sed -E 's/ \\[[0-9]+:[0-9]+\\]$//'
            iptables-legacy-save 2>/dev/null | grep -v '^#' | sed -E 's/ \\[[0-9]+:[0-9]+\\]$//'; true
            """], mustSucceed: true).stdout
    }

    func namespace(_ setup: String) throws -> (Namespace, String) {
        let ns = try Namespace()
        if !setup.isEmpty { try ns.exec(["sh", "-ec", setup], mustSucceed: true) }
        return (ns, try Self.state(ns))
    }

    func journal() throws -> String { try Binary.temporaryDirectory().appendingPathComponent("journal.json").path }

    @Test func menuOnATerminalThenThePortForwardFlowNamesTheDNATAndTheDroppingRule() throws {
        let (ns, before) = try namespace(Self.brokenForward)
        let run = try ns.exec([
            "\(Self.tools)/pty-drive", "--timeout", "60",
            "Choose: =p", "[--proto]: =\\n", "[--dst]: =127.0.0.1\\n", "[--dport]: =8080\\n", "Fix rules.invalid-drop=s",
            "[r] yes=r", "Trace the flow=r", "[enter] continue=\\r", "--", Binary.path, "wizard", "--duration", "4",
            "--journal", try journal(),
        ])
        #expect(run.exitStatus == 0, "pty-drive: \(run.exitStatus) (125: terminal mode not restored)\n\(run.stdout)")
        #expect(run.stdout.contains("[p] port forward / NAT does nothing"))
        #expect(run.stdout.contains("dropped by `inet f inp: tcp dport 2222 drop` (handle"), "\(run.stdout)")
        #expect(run.stdout.contains("DNAT 127.0.0.1:8080 → 127.0.0.1:2222 in ip nat out: tcp dport 8080 dnat to 127.0.0.1:2222"))
        #expect(try Self.state(ns) == before)
    }

    @Test func unattendedWithYesAndJSONGeneratesTrafficTracesAndPutsEverythingBack() throws {
        let (ns, before) = try namespace(Self.brokenForward)
        let run = try ns.ctdoctor(["wizard", "port-forward", "--dst", "127.0.0.1", "--dport", "8080", "--yes", "--format", "json",
                                   "--duration", "5", "--journal", try journal()])
        #expect(run.exitStatus == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        let trace = try #require(json["trace"] as? [String: Any])
        let paths = try #require((trace["analysis"] as? [String: Any])?["paths"] as? [[String: Any]])
        let verdicts = paths.compactMap { $0["verdict"] as? String }
        #expect(verdicts.contains { $0.contains("dropped by `inet f inp: tcp dport 2222 drop`") && $0.contains("DNAT 127.0.0.1:8080 → 127.0.0.1:2222") }, "\(verdicts)")
        #expect((trace["generated"] as? String)?.contains("127.0.0.1:8080") == true)
        #expect(json["causeFound"] as? Bool == true)
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(!changes.isEmpty && changes.allSatisfy { $0["state"] as? String == "restored" }, "\(changes)")
        #expect(try Self.state(ns) == before)
    }

    @Test func invalidFlowPrintsTheKernelsReasonForSynFin() throws {
        let (ns, before) = try namespace("""
            nft add table inet ctd
            nft 'add chain inet ctd in { type filter hook input priority 0; }'
            nft add rule inet ctd in ct state invalid counter
            """)
        // The checks before the listener can take seconds on a loaded machine, so the sender keeps sending until the
        // wizard exits rather than guessing when it starts listening.
        let run = try ns.exec(["sh", "-c", """
            \(Binary.path) wizard invalid --yes --duration 4 --journal \(try journal()) </dev/null & w=$!
            while kill -0 $w 2>/dev/null; do \(Self.tools)/send-invalid-tcp 127.0.0.1 1 >/dev/null; sleep 0.3; done
            wait $w
            """])
        #expect(run.exitStatus == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("× invalid tcp flag combination"), "\(run.stdout)")
        #expect(run.stdout.contains("tcp 127.0.0.1:40000 → 127.0.0.1:9 [SYN,FIN]"))
        #expect(run.stdout.contains("sysctl -w net.netfilter.nf_conntrack_log_invalid=6"))
        #expect(try Self.state(ns) == before)
    }

    @Test func sigintMidTracePutsEverythingBackAndExits130() throws {
        let (ns, before) = try namespace("")
        let run = try ns.exec(["sh", "-c", """
            \(Binary.path) wizard port-forward --dst 192.0.2.1 --dport 8080 --yes --duration 30 --journal \(try journal()) </dev/null >/dev/null 2>&1 &
            p=$!
            for i in $(seq 300); do nft -s list ruleset | grep -q 'meta nftrace set 1' && break; sleep 0.1; done; sleep 0.3
            nft -s list ruleset | grep -q 'meta nftrace set 1' && echo tracing
            kill -INT $p; wait $p; echo "exit $?"
            """])
        #expect(run.stdout.contains("tracing"), "the trace rule was in place mid-trace")
        #expect(run.stdout.contains("exit 130"), "\(run.stdout)")
        #expect(try Self.state(ns) == before)
    }

    @Test func sigkillMidListenLeavesAJournalThatFixUndoPutsBack() throws {
        let (ns, before) = try namespace("")
        let path = try journal()
        let run = try ns.exec(["sh", "-c", """
            \(Binary.path) wizard invalid --proto udp --yes --duration 30 --journal \(path) </dev/null >/dev/null 2>&1 &
            p=$!
            for i in $(seq 300); do [ "$(sysctl -n net.netfilter.nf_log.10)" = nfnetlink_log ] && break; sleep 0.1; done; sleep 0.3
            echo "log_invalid $(sysctl -n net.netfilter.nf_conntrack_log_invalid)"
            kill -KILL $p; wait $p; echo "exit $?"
            """])
        #expect(run.stdout.contains("log_invalid 17"), "the temporary change was made: \(run.stdout)")
        #expect(run.stdout.contains("exit 137"))
        #expect(try Self.state(ns) != before)
        let undone = try ns.ctdoctor(["fix", "--undo", path])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try Self.state(ns) == before)
    }

    @Test func withoutATerminalAndWithoutYesItOnlyShowsTheSteps() throws {
        let (ns, before) = try namespace(Self.brokenForward)
        let run = try ns.ctdoctor(["wizard", "port-forward", "--dst", "127.0.0.1", "--dport", "8080"])
        #expect(run.exitStatus == 0)
        #expect(run.stdout.contains("nothing is changed"))
        #expect(run.stdout.contains("not run (no terminal and no --yes)"))
        #expect(run.stdout.contains("meta nftrace set 1"))
        #expect(try Self.state(ns) == before)
        let missing = try ns.ctdoctor(["wizard", "port-forward", "--yes", "--duration", "1"])
        #expect(missing.exitStatus == 2, "--yes without --dst cannot ask: \(missing.stdout)")
        #expect(try Self.state(ns) == before)
    }
}
