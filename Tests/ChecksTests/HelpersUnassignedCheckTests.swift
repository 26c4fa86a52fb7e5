import DoctorCore
import Testing
@testable import Checks

@Suite struct HelpersUnassignedCheckTests {
    let check = HelpersUnassignedCheck()

    @Test func assignedFtpAndUnusedSipPass() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "helpers present: ftp, sip; assigned: ftp; nothing on the host points at the others")
    }

    @Test func ftpServedWithoutItsHelperIsReported() throws {
        var b = SnapshotBuilder()
        b.rules { $0.helperAssignments = [] }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .info)
        #expect(f.observed == "helpers present: ftp, sip; none assigned; wanted but not assigned: "
            + "ftp (tcp 21): inet filter input lets tcp port 21 in or forwards it")
        #expect(f.argvs == [
            ["nft", "add", "table", "inet", "ctdoctor"],
            ["nft", "add", "ct", "helper", "inet", "ctdoctor", "ctd-ftp-tcp", "{ type \"ftp\" protocol tcp; l3proto inet; }"],
            ["nft", "add", "chain", "inet", "ctdoctor", "helpers-in", "{ type filter hook prerouting priority 0; policy accept; }"],
            ["nft", "add", "rule", "inet", "ctdoctor", "helpers-in", "tcp", "dport", "21", "ct", "helper", "set", "\"ctd-ftp-tcp\""],
            ["nft", "add", "chain", "inet", "ctdoctor", "helpers-out", "{ type filter hook output priority 0; policy accept; }"],
            ["nft", "add", "rule", "inet", "ctdoctor", "helpers-out", "tcp", "dport", "21", "ct", "helper", "set", "\"ctd-ftp-tcp\""],
            nil,
        ])
        #expect(f.undos[1] == ["nft", "delete", "ct", "helper", "inet", "ctdoctor", "ctd-ftp-tcp"])
        #expect(f.remediation?.steps[3].command == "nft add rule inet ctdoctor helpers-in tcp dport 21 ct helper set '\"ctd-ftp-tcp\"'")
    }

    @Test func aHelperMatchOrALoadedModuleAlsoPointsAtIt() {
        var b = SnapshotBuilder()
        b.rules {
            $0.helperMatches = [HelperRule(helper: "sip", rule: SnapshotBuilder.nft("input", hooks: ["input"], handle: 12, "ct helper \"sip\" accept"))]
        }
        let sip = check.evaluate(b.snapshot)
        #expect(sip.status == .fail)
        #expect(sip.observed.contains("sip (udp 5060): inet filter input matches on the sip helper | sip (tcp 5060)"))

        var modular = SnapshotBuilder.modular61()
        modular.module("nf_conntrack_irc", .loaded, "/proc/modules")
        let irc = check.evaluate(modular.snapshot)
        #expect(irc.status == .fail)
        #expect(irc.observed.contains("irc (tcp 6667): nf_conntrack_irc is loaded"))
    }

    @Test func automaticAssignmentCoversThem() {
        var b = SnapshotBuilder()
        b.rules { $0.helperAssignments = [] }
        b.set("net.netfilter.nf_conntrack_helper", "1")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("net.netfilter.nf_conntrack_helper = 1 assigns them by port"))
    }

    @Test func noHelperInTheKernelIsNotApplicable() {
        var b = SnapshotBuilder()
        b.module("nf_conntrack_ftp", .missing, "CONFIG_NF_CONNTRACK_FTP is not set")
        b.module("nf_conntrack_sip", .missing, "CONFIG_NF_CONNTRACK_SIP is not set")
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }
}
