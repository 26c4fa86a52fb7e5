import DoctorHost
import Foundation
import Testing

/// The port-forward trace where only iptables-legacy rules exist: `-j TRACE` in the legacy raw table, read back
/// through nfnetlink_log bound in the namespace; afterwards the rules and the logger binding are as before.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "wizard tests need root to create network namespaces; run the tests as root to include them"),
    .serialized)
struct WizardLegacyTraceKernelTests {
    /// A legacy DNAT 8080 → 127.0.0.1:2222 and a legacy filter rule that drops the translated port; no nft table.
    static let brokenForward = """
        iptables-legacy -t nat -A OUTPUT -p tcp --dport 8080 -j DNAT --to-destination 127.0.0.1:2222
        iptables-legacy -A INPUT -p tcp --dport 2222 -j DROP
        """
    /// iptables-legacy-save and the IPv4 logger binding, without the chains' packet counters (traffic).
    static let legacyState = "iptables-legacy-save | grep -v '^#' | sed -E 's/ \\[[0-9]+:[0-9]+\\]$//'; sysctl net.netfilter.nf_log.2"

    @Test func theTraceNamesTheLegacyDropAndTheDNATAndPutsTheRulesBack() throws {
        // The raw table exists already (listing it creates it), so everything can come back byte for byte.
        let (ns, before) = try WizardKernelTests().namespace(Self.brokenForward + "\niptables-legacy -t raw -S >/dev/null")
        let legacyBefore = try ns.exec(["sh", "-c", Self.legacyState], mustSucceed: true).stdout
        #expect(try ns.exec(["nft", "list", "tables"]).stdout.isEmpty, "no nft table in the namespace")
        let run = try ns.ctdoctor(["wizard", "port-forward", "--dst", "127.0.0.1", "--dport", "8080", "--yes", "--format", "json",
                                   "--duration", "5", "--journal", try WizardKernelTests().journal()])
        #expect(run.exitStatus == 0, "\(run.stderr)")
        #expect(run.stderr.contains("iptables-legacy -t raw -I PREROUTING 1 -d 127.0.0.1 -p tcp --dport 8080 -j TRACE"), "\(run.stderr)")
        #expect(run.stderr.contains("sysctl -w net.netfilter.nf_log.2=nfnetlink_log"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
        let paths = try #require(((json["trace"] as? [String: Any])?["analysis"] as? [String: Any])?["paths"] as? [[String: Any]])
        let verdicts = paths.compactMap { $0["verdict"] as? String }
        #expect(verdicts.contains {
            $0.hasPrefix("dropped by `iptables-legacy filter INPUT: -p tcp -m tcp --dport 2222 -j DROP` (rule 1)")
                && $0.contains("DNAT 127.0.0.1:8080 → 127.0.0.1:2222 in iptables-legacy nat OUTPUT: -p tcp -m tcp --dport 8080 -j DNAT --to-destination 127.0.0.1:2222")
        }, "\(verdicts)")
        #expect(json["causeFound"] as? Bool == true)
        let changes = try #require(json["changes"] as? [[String: Any]])
        #expect(!changes.isEmpty && changes.allSatisfy { $0["state"] as? String == "restored" }, "\(changes)")
        #expect(try ns.exec(["sh", "-c", Self.legacyState], mustSucceed: true).stdout == legacyBefore)
        #expect(try WizardKernelTests.state(ns) == before)
    }

    @Test func whenTheRawTableDidNotExistItSaysItStaysAndNothingElseChanges() throws {
        let (ns, before) = try WizardKernelTests().namespace(Self.brokenForward)
        let run = try ns.exec(["sh", "-c", "\(Binary.path) wizard port-forward --dst 127.0.0.1 --dport 8080 --yes --duration 3 --journal \(try WizardKernelTests().journal()) </dev/null"])
        #expect(run.exitStatus == 0)
        #expect(run.stdout.contains("NOTE: iptables-legacy's raw table does not exist in this namespace yet"), "\(run.stdout)")
        #expect(run.stdout.contains("dropped by `iptables-legacy filter INPUT: -p tcp -m tcp --dport 2222 -j DROP` (rule 1)"))
        // The only difference: the raw table, empty, policy ACCEPT.
        let raw = "*raw\n:PREROUTING ACCEPT\n:OUTPUT ACCEPT\nCOMMIT\n"
        let after = try WizardKernelTests.state(ns)
        #expect(after.contains(raw), "\(after)")
        #expect(after.replacingOccurrences(of: raw, with: "") == before)
    }

    @Test func sigkillMidTraceThenFixUndoPutsTheLegacyRulesAndTheLoggerBack() throws {
        let (ns, before) = try WizardKernelTests().namespace(Self.brokenForward + "\niptables-legacy -t raw -S >/dev/null")
        let path = try WizardKernelTests().journal()
        let run = try ns.exec(["sh", "-c", """
            \(Binary.path) wizard port-forward --dst 192.0.2.1 --dport 8080 --yes --duration 30 --journal \(path) </dev/null >/dev/null 2>&1 &
            p=$!
            for i in $(seq 300); do [ "$(iptables-legacy-save -t raw | grep -c -- '-j TRACE')" = 2 ] && break; sleep 0.1; done; sleep 0.5
            iptables-legacy-save -t raw | grep -c -- '-j TRACE'; sysctl -n net.netfilter.nf_log.2
            kill -KILL $p; wait $p; echo "exit $?"
            """])
        #expect(run.stdout.hasPrefix("2\nnfnetlink_log\n"), "the TRACE rules and the binding were in place: \(run.stdout)")
        #expect(run.stdout.contains("exit 137"))
        let undone = try ns.ctdoctor(["fix", "--undo", path])
        #expect(undone.exitStatus == 0, "\(undone.stdout)\(undone.stderr)")
        #expect(try WizardKernelTests.state(ns) == before)
    }
}
