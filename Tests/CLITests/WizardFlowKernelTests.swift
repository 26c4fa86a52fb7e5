import DoctorHost
import Foundation
import Testing

/// The table-full, helpers, events and stuck flows on the real kernel, each in a throwaway namespace set up to show
/// its symptom (and once healthy, where the flow must end with the escalation commands); after each run the
/// namespace's sysctls and rulesets (nft and both iptables backends) are byte for byte as before.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "wizard tests need root to create network namespaces; run the tests as root to include them"),
    .serialized)
struct WizardFlowKernelTests {
    static let tools = WizardKernelTests.tools
    /// A rule that needs conntrack, so the namespace tracks its traffic.
    static let tracked = """
        nft add table inet ctd
        nft 'add chain inet ctd out { type filter hook output priority 0; }'
        nft add rule inet ctd out ct state new counter
        """

    func run(_ ns: Namespace, _ shell: String) throws -> (json: [String: Any], text: String) {
        let result = try ns.exec(["sh", "-c", shell])
        #expect(result.exitStatus == 0, "\(result.stdout)\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)\(result.stderr)")
        return (json, result.stderr)
    }

    func wizard(_ args: String) throws -> String {
        "\(Binary.path) wizard \(args) --format json --journal \(try WizardKernelTests().journal()) </dev/null"
    }

    @Test func tableFullSamplesDropRatesAndProposesTheLimitTimeoutsAndPersistence() throws {
        let (ns, before) = try WizardKernelTests().namespace(Self.tracked + "\npython3 \(Self.tools)/fill-conntrack 262144 >/dev/null")
        // New UDP flows while the table is full: each first packet is dropped (EPERM to the sender).
        let (json, text) = try run(ns, """
            python3 -c '
            import socket, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); end = time.time() + 8; p = 20000
            while time.time() < end:
                try: s.sendto(b"x", ("127.0.0.1", p))
                except PermissionError: pass
                p += 1; time.sleep(0.005)
            ' & sleep 0.5
            \(try wizard("table-full --yes --duration 3"))
            """)
        let table = try #require(json["table"] as? [String: Any])
        let drops = try #require((table["rises"] as? [String: Any])?["drop"] as? Int)
        #expect(drops > 10, "drops rose during the sample: \(table)")
        let conclusion = (json["conclusion"] as? [String]) ?? []
        #expect(conclusion.contains { $0.hasPrefix("the table is full: 262144 of 262144") }, "\(conclusion)")
        #expect(conclusion.contains { $0.hasPrefix("new flows are dropped now: drop ") && $0.hasSuffix("/s") })
        #expect(text.contains("rates over 3.0 s: drop "), "\(text)")
        #expect(text.contains("protocols   udp 262144 (100.0%)"))
        #expect(text.contains("sysctl -w net.netfilter.nf_conntrack_max="), "the limit, printed for the host")
        #expect(text.contains("/etc/sysctl.d/90-conntrack.conf"), "persistence")
        // UDP fills the table: the stream timeout is shortened (--yes runs it), verified, then put back.
        #expect(text.contains("applied and verified: sysctl -w net.netfilter.nf_conntrack_udp_timeout_stream=60"), "\(text)")
        #expect(json["causeFound"] as? Bool == true)
        #expect((json["escalation"] as? [String])?.isEmpty == true)
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(!changes.isEmpty && changes.allSatisfy { $0["state"] as? String == "restored" }, "\(changes)")
        #expect(try WizardKernelTests.state(ns) == before)
    }

    @Test func helpersFlowFindsTheControlConnectionWithoutAHelperAndPrintsARuleThatWorks() throws {
        let ftp = """
            python3 -c '
            import socket, time
            l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(("127.0.0.1", 21)); l.listen()
            c = socket.create_connection(("127.0.0.1", 21)); time.sleep(10)' >/dev/null 2>&1 &
            for i in $(seq 100); do ss -Htn state established '( dport = :21 )' | grep -q . && break; sleep 0.1; done
            """
        let (ns, before) = try WizardKernelTests().namespace(Self.tracked)
        let (json, text) = try run(ns, ftp + "\n" + (try wizard("helpers --dport 21 --yes")))
        #expect(text.contains("control connections to tcp port 21: 1, 1 without a helper"), "\(text)")
        #expect(text.contains("127.0.0.1:21 ESTABLISHED   helper: none"))
        #expect(((json["conclusion"] as? [String]) ?? []).contains { $0.contains("got no helper") })
        let rule = "nft add rule inet ctdoctor_helpers pre tcp dport 21 ct helper set \\\"ftp\\\""
        #expect(text.contains(rule))
        #expect(text.contains("iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp"))
        #expect(try WizardKernelTests.state(ns) == before)

        // The printed rule, run as printed in a fresh namespace, gives the next control connection its helper.
        let printed = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("nft ") && $0.contains("ctdoctor_helpers") }
        #expect(printed.count == 6, "\(printed)")
        let (fixed, _) = try WizardKernelTests().namespace(Self.tracked + "\n" + printed.joined(separator: "\n"))
        let (after, afterText) = try run(fixed, ftp + "\n" + (try wizard("helpers --dport 21 --yes")))
        #expect(afterText.contains("control connections to tcp port 21: 1, 0 without a helper"), "\(afterText)")
        #expect(afterText.contains("helper: ftp"))
        #expect(((after["conclusion"] as? [String]) ?? []).isEmpty)
    }

    @Test func eventsOffIsReportedWithItsStepAndTheLiveTestSeesNEWOnceOn() throws {
        let (ns, before) = try WizardKernelTests().namespace(Self.tracked + "\nsysctl -qw net.netfilter.nf_conntrack_events=0")
        // Without a terminal and without --yes: the finding and the step, nothing run.
        let dry = try ns.exec(["sh", "-c", "\(Binary.path) wizard events </dev/null"])
        #expect(dry.stdout.contains("FAIL [warning]   events.enabled: net.netfilter.nf_conntrack_events = 0 (events off)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("sysctl -w net.netfilter.nf_conntrack_events=2"))
        #expect(dry.stdout.contains("listeners subscribed to conntrack events in this namespace: 0"))
        #expect(try WizardKernelTests.state(ns) == before)
        // With --yes: events on (journaled), the live test sees the probe's NEW event, everything put back.
        let (json, text) = try run(ns, try wizard("events --yes"))
        #expect(text.contains("applied and verified: sysctl -w net.netfilter.nf_conntrack_events=2"), "\(text)")
        #expect(text.contains("the NEW event arrived"), "\(text)")
        #expect(json["causeFound"] as? Bool == true, "events off was the cause")
        #expect(try WizardKernelTests.state(ns) == before)
        // A namespace where nothing uses conntrack: no NEW, and the flow says why.
        let (untracked, _) = try WizardKernelTests().namespace("")
        let (_, none) = try run(untracked, try wizard("events --yes"))
        #expect(none.contains("the flow is not in the table: conntrack is not active in this namespace"), "\(none)")
    }

    @Test func stuckFlowSeesTheDyingListHeldByAListenerThatDoesNotRead() throws {
        let (ns, before) = try WizardKernelTests().namespace("")
        // A listener asking for reliable DESTROY delivery (NETLINK_BROADCAST_ERROR) that never reads: expired entries
        // whose DESTROY event cannot be delivered stay on the dying list.
        let (json, text) = try run(ns, """
            python3 -c '
            import socket, time
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024); s.setsockopt(270, 4, 1); s.bind((0, 4)); time.sleep(20)' &
            # entries get the event extension only while a listener is subscribed (nf_conntrack_events=2): wait for it
            for i in $(seq 100); do awk '$2 == 12 && $4 == "00000004"' /proc/net/netlink | grep -q . && break; sleep 0.1; done
            python3 \(Self.tools)/fill-conntrack 300 1 >/dev/null; sleep 2
            conntrack -L >/dev/null 2>&1  # a dump reaps the expired entries; their DESTROY events cannot be delivered
            \(try wizard("stuck --yes"))
            """)
        #expect(text.contains("dying list, entries that stayed: "), "\(text)")
        #expect(text.contains("the dying list holds entries whose DESTROY event could not be delivered"), "\(text)")
        #expect(text.contains("unconfirmed: no such list on Linux"), "kernel-version aware on 5.19+")
        #expect(text.contains(": DESTROY; drops "), "the listener is named")
        #expect(json["causeFound"] as? Bool == true)
        #expect(try WizardKernelTests.state(ns) == before)
    }

    /// Healthy namespaces: no cause, so each flow ends with its own escalation commands.
    @Test(arguments: [("table-full", "conntrack -S"), ("helpers --dport 21", "conntrack -E expect"),
                      ("events", "conntrack -E -e NEW,DESTROY"), ("stuck", "conntrack -L dying")])
    func healthyFlowsEndWithTheirEscalationCommands(_ flow: String, _ command: String) throws {
        let (ns, before) = try WizardKernelTests().namespace(Self.tracked)
        let (json, text) = try run(ns, try wizard("\(flow) --yes --duration 1"))
        #expect(json["causeFound"] as? Bool == false, "\(json["conclusion"] ?? "")")
        let escalation = (json["escalation"] as? [String]) ?? []
        #expect(escalation.contains { $0.hasPrefix(command) }, "\(escalation)")
        #expect(text.contains("Not found yet: the next commands to run by hand"))
        #expect(try WizardKernelTests.state(ns) == before)
    }

    @Test func invalidFlowWarnsWhenConntrackIsNotActiveInTheNamespace() throws {
        let (bare, before) = try WizardKernelTests().namespace("")
        let (json, text) = try run(bare, try wizard("invalid --yes --duration 1"))
        #expect(text.contains("WARNING: conntrack is not active in this namespace"), "\(text)")
        #expect((json["invalid"] as? [String: Any])?["tracking"] as? Bool == false)
        #expect(try WizardKernelTests.state(bare) == before)
        let (ns, _) = try WizardKernelTests().namespace(Self.tracked)
        let (active, activeText) = try run(ns, try wizard("invalid --yes --duration 1"))
        #expect(!activeText.contains("conntrack is not active"), "\(activeText)")
        #expect((active["invalid"] as? [String: Any])?["tracking"] as? Bool == true)
    }
}

/// The listeners never leave a silent gap: with a receive buffer too small for a burst of INVALID packets, the
/// invalid flow says how many messages were lost and that it enlarged its buffer.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "wizard tests need root to create network namespaces; run the tests as root to include them"))
struct WizardListenerOverrunTests {
    @Test func anOverrunIsCountedAndTheBufferEnlarged() throws {
        let (ns, before) = try WizardKernelTests().namespace(WizardFlowKernelTests.tracked)
        let run = try ns.exec(["sh", "-c", """
            (sleep 1.5; \(WizardKernelTests.tools)/send-invalid-tcp 127.0.0.1 4000) &
            \(Binary.path) wizard invalid --yes --duration 4 --packets 100000 --listen-buffer 1 --format json --journal \(try WizardKernelTests().journal()) </dev/null
            """])
        #expect(run.exitStatus == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        let invalid = try #require(json["invalid"] as? [String: Any])
        let lost = try #require(invalid["lost"] as? Int)
        let total = try #require(invalid["total"] as? Int)
        #expect(lost > 0, "a 2 KiB buffer cannot hold a burst of 8,000 log messages")
        #expect(total > 0)
        #expect(run.stderr.contains("\(total) INVALID packet(s) in "), "\(run.stderr)")
        #expect(run.stderr.contains("; \(lost) LOST (socket overrun: the counts below are low); the listener's buffer was enlarged to "), "\(run.stderr)")
        #expect((invalid["enlargedBuffer"] as? Int ?? 0) >= 1 << 20)
        #expect(try WizardKernelTests.state(ns) == before)
    }
}
