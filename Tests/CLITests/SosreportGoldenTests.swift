import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Golden expectations for `check --sos` on the three real sosreport subsets under
/// Tests/DoctorHostTests/Fixtures/sosreport (issue 13): every check's status and observed value, written by reading
/// the raw files; the comment on each line names the file (and line) that justifies it. A false pass or fail, or an
/// observed value that no longer says what the files say, breaks the build. "ROOT" stands for the fixture's path.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct SosreportGoldenTests {
    typealias Golden = [(id: String, status: CheckStatus, observed: String)]

    func report(_ name: String) throws -> (Report, String) {
        let path = SosFixture.path(name)
        let result = try Binary.run(["check", "--sos", path, "--format", "json"])
        #expect([0, 1].contains(result.exitStatus), "\(result.stderr)")
        return (try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8)), path)
    }

    func compare(_ name: String, _ golden: Golden) throws {
        let (report, root) = try report(name)
        #expect(report.findings.map(\.id) == golden.map(\.id), "every check, in catalog order")
        for (expected, finding) in zip(golden, report.findings) {
            #expect(finding.status == expected.status, "\(finding.id): \(finding.observed)")
            #expect(finding.observed.replacingOccurrences(of: root, with: "ROOT") == expected.observed, "\(finding.id)")
        }
    }

    let notLive = "not a live host: ctnetlink answers only for the running kernel, and ROOT is a copied root"

    // MARK: Ubuntu 20.04 Kubernetes node, 5.4.0-99-generic

    @Test func kubernetesNode() throws {
        let noStats = "not collected: neither proc/net/stat/nf_conntrack nor sos_commands/conntrack/conntrack_-S nor sos_commands/networking/conntrack_-S is in this sosreport"
        let noNft = "nftables: no nft ruleset in this sosreport (sos_commands/nftables) (nf_tables is loaded, so it may hold rules)"
        try compare("ubuntu-5.4-kubernetes-node", [
            // proc/modules:44 "nf_conntrack 139264 6 …"; proc/sys/net/netfilter/nf_conntrack_max 131072, nf_conntrack_count 901.
            ("conntrack.present", .pass, "nf_conntrack is active: nf_conntrack loaded (proc/modules:44 lists nf_conntrack); nf_conntrack_max = 131072, nf_conntrack_count = 901"),
            // nf_conntrack_log_invalid 0, and the invalid counter is nowhere: no proc/net/stat, no conntrack -S.
            ("logging.log-invalid", .skipped, "cannot tell whether INVALID packets occur: \(noStats)"),
            // nf_conntrack_log_invalid 0; proc/sys/net/netfilter/nf_log/2 and nf_log/10 NONE: nothing asks for a logger.
            ("logging.backend", .notApplicable, "net.netfilter.nf_conntrack_log_invalid = 0 (off): conntrack logs nothing, so no logger needs to be bound (net.netfilter.nf_log.2 = NONE, net.netfilter.nf_log.10 = NONE); logging.log-invalid judges the setting"),
            ("logging.module", .notApplicable, "net.netfilter.nf_conntrack_log_invalid = 0 (off): conntrack asks for no log lines, so no syslog logger is needed; logging.log-invalid judges the setting"),
            // proc/sys/net/netfilter/nf_log_all_netns 0 exists: the initial namespace.
            ("logging.all-netns", .pass, "nf_log_all_netns = 0 (initial namespace: its own log lines are never suppressed)"),
            // proc/sys/net/netfilter/nf_conntrack_tcp_be_liberal 0, nf_conntrack_tcp_loose 1, nf_conntrack_events 1.
            ("tcp.be-liberal", .pass, "net.netfilter.nf_conntrack_tcp_be_liberal = 0 (TCP window tracking on)"),
            ("tcp.loose", .pass, "net.netfilter.nf_conntrack_tcp_loose = 1 (mid-stream pickup on)"),
            ("events.enabled", .pass, "net.netfilter.nf_conntrack_events = 1 (on: every entry can report events)"),
            // nf_conntrack_tcp_timeout_established 432000 with 901 of 131072 entries.
            ("timeouts.tcp-established", .pass, "net.netfilter.nf_conntrack_tcp_timeout_established = 432000 s (5 days); table 0% full (901 of 131072 entries)"),
            // iptables_-t_nat_-nvL: 14 MASQUERADE/DNAT rules (lines 16-93), ip6tables_-t_nat_-nvL:30 one MASQUERADE;
            // iptables_-t_filter_-nvL:23 and ip6tables_-t_filter_-nvL:21 DROP ctstate INVALID in KUBE-FORWARD, which
            // FORWARD jumps to (iptables_-t_filter_-nvL:8). Rules found are enough to pass, whatever nft holds.
            ("rules.invalid-drop", .pass, "15 NAT rules (dnat, masquerade) for ip and ip6; INVALID packets dropped in forward"),
            // No TRACE, NOTRACK or helper rule in the 94 listed rules, but no nft ruleset was collected and
            // proc/modules:49 shows nf_tables loaded: "none" cannot be concluded.
            ("rules.trace-leftover", .skipped, "no TRACE or meta nftrace rule in the rules read, but not every rule was collected (\(noNft))"),
            ("rules.notrack", .skipped, "no NOTRACK rule in the rules read, but not every rule was collected (\(noNft))"),
            // 94 rules in the eight sos_commands/firewall_tables/*_-t_*_-nvL listings, which do not record their backend.
            ("rules.backend-mix", .skipped, "iptables (backend not recorded) 94 rules; nftables not collected: which backend holds the rules cannot be told"),
            // proc/sys/net/netfilter/nf_conntrack_helper 0.
            ("helpers.auto-assign", .pass, "net.netfilter.nf_conntrack_helper = 0"),
            // proc/modules and sos_commands/kernel/lsmod list no nf_conntrack_<helper> module.
            ("helpers.unassigned", .notApplicable, "no conntrack helper module is loaded or built in"),
            ("helpers.broad", .skipped, "no rule assigning a conntrack helper in the rules read, but not every rule was collected (\(noNft))"),
            // proc/net/nf_conntrack_expect is not in the sosreport.
            ("helpers.expectations", .skipped, "the expectation count could not be read: not collected: not in this sosreport (/proc/net/nf_conntrack_expect: No such file or directory)"),
            ("ctnetlink.available", .notApplicable, "ctnetlink is not there: \(notLive)"),
            // nf_conntrack_count 901 (sysctl_-a:1004 says 832, read at another moment; the proc copy wins), max 131072.
            ("table.usage", .pass, "901 of 131072 entries (0%)"),
            ("table.drops", .skipped, "the drop counter could not be read: \(noStats)"),
            ("table.insert-failed", .skipped, "the insert_failed counter could not be read: \(noStats)"),
            // nf_conntrack_buckets 32768 (sys/module/nf_conntrack/parameters/hashsize 32768): 2 × 131072 ÷ 32768 = 8, the
            // warning starts above 8; chaintoolong came with 5.15.
            ("table.buckets", .pass, "load factor at a full table 2 × 131072 ÷ 32768 = 8; chaintoolong not counted on this kernel (5.15+)"),
            ("table.invalid", .skipped, "the invalid counter could not be read: \(noStats)"),
            // No conntrack -L output in sos_commands.
            ("table.tunnel-traffic", .skipped, "the conntrack table was not read: `ctdoctor check --deep` dumps it (a plain check never does); a sosreport needs `conntrack -L -o extended`"),
            ("lists.unconfirmed-dying", .notApplicable, "a dump of the unconfirmed and dying lists is not there: \(notLive)"),
            // sys/kernel/debug/dynamic_debug/control: 77 "[nf_conntrack]" sites (15 in nf_conntrack_proto_tcp.c), one
            // "[nf_conntrack_netlink]", every one "=_".
            ("debug.dynamic-debug", .pass, "dynamic debug available (/sys/kernel/debug/dynamic_debug/control); no netfilter site enabled; conntrack sites: nf_conntrack 77 (TCP tracker 15), nf_conntrack_netlink 1"),
            // etc/sysctl.d, usr/lib/sysctl.d and etc/sysctl.conf set no net.netfilter key; etc/modules lists only
            // br_netfilter (modules-load.d/modules.conf links to it).
            ("sysctl.persistence", .pass, "no net.netfilter key is set in sysctl.d or /etc/sysctl.conf; nf_conntrack is a module that nothing loads at boot"),
        ])
    }

    // MARK: Ubuntu 20.04 unprivileged LXD container, 5.4.0-97-generic

    @Test func lxdContainer() throws {
        let hidden = { (key: String) in
            "net.netfilter.\(key) is not visible here although nf_conntrack is active (nf_conntrack loaded, per proc/modules:58 lists nf_conntrack): an unprivileged container on Linux 5.0–5.6 hides nf_conntrack's sysctls, and a collection may leave them out; read it on the host"
        }
        let noStats = "not collected: neither proc/net/stat/nf_conntrack nor sos_commands/conntrack/conntrack_-S nor sos_commands/networking/conntrack_-S is in this sosreport"
        let noNft = "nftables: no nft ruleset in this sosreport (sos_commands/nftables) (nf_tables is loaded, so it may hold rules)"
        try compare("ubuntu-5.4-lxd-container-rabbitmq", [
            // proc/modules:58 nf_conntrack loaded; proc/sys/net/netfilter holds only nf_conntrack_frag6_* and nf_log:
            // present but hidden, not missing (issue 13 defect 4).
            ("conntrack.present", .pass, "nf_conntrack is active: nf_conntrack loaded, per proc/modules:58 lists nf_conntrack; its sysctls are not visible here"),
            // No nf_conntrack_log_invalid in proc/sys/net/netfilter nor in sos_commands/kernel/sysctl_-a: skipped, never
            // a pass on a made-up 0 (issue 13 defect 3).
            ("logging.log-invalid", .skipped, hidden("nf_conntrack_log_invalid")),
            ("logging.backend", .skipped, hidden("nf_conntrack_log_invalid")),
            ("logging.module", .skipped, hidden("nf_conntrack_log_invalid")),
            // nf_log_all_netns is missing (a container's namespace), and what it would let through is unknown.
            ("logging.all-netns", .skipped, hidden("nf_conntrack_log_invalid")),
            ("tcp.be-liberal", .skipped, hidden("nf_conntrack_tcp_be_liberal")),
            ("tcp.loose", .skipped, hidden("nf_conntrack_tcp_loose")),
            ("events.enabled", .skipped, hidden("nf_conntrack_events")),
            ("timeouts.tcp-established", .skipped, hidden("nf_conntrack_tcp_timeout_established")),
            // Every chain of sos_commands/firewall_tables/*_-nvL is empty, but proc/modules:30 shows nf_tables used by 85
            // (nft_chain_nat, nft_masq) and no nft ruleset was collected.
            ("rules.invalid-drop", .skipped, "no NAT rule in the rules read, but not every rule was collected (\(noNft))"),
            ("rules.trace-leftover", .skipped, "no TRACE or meta nftrace rule in the rules read, but not every rule was collected (\(noNft))"),
            ("rules.notrack", .skipped, "no NOTRACK rule in the rules read, but not every rule was collected (\(noNft))"),
            ("rules.backend-mix", .skipped, "iptables (backend not recorded) 0 rules; nftables not collected: which backend holds the rules cannot be told"),
            ("helpers.auto-assign", .skipped, hidden("nf_conntrack_helper")),
            // proc/modules lists no nf_conntrack_<helper> module.
            ("helpers.unassigned", .notApplicable, "no conntrack helper module is loaded or built in"),
            ("helpers.broad", .skipped, "no rule assigning a conntrack helper in the rules read, but not every rule was collected (\(noNft))"),
            ("helpers.expectations", .skipped, hidden("nf_conntrack_expect_max")),
            ("ctnetlink.available", .notApplicable, "ctnetlink is not there: \(notLive)"),
            ("table.usage", .skipped, "the entry count and limit: " + hidden("nf_conntrack_count")),
            ("table.drops", .skipped, "the drop counter could not be read: \(noStats)"),
            ("table.insert-failed", .skipped, "the insert_failed counter could not be read: \(noStats)"),
            ("table.buckets", .skipped, hidden("nf_conntrack_buckets")),
            ("table.invalid", .skipped, "the invalid counter could not be read: \(noStats)"),
            ("table.tunnel-traffic", .skipped, "the conntrack table was not read: `ctdoctor check --deep` dumps it (a plain check never does); a sosreport needs `conntrack -L -o extended`"),
            ("lists.unconfirmed-dying", .notApplicable, "a dump of the unconfirmed and dying lists is not there: \(notLive)"),
            // No sys/kernel/debug in the source (fixtures README).
            ("debug.dynamic-debug", .skipped, "the dynamic debug control file could not be read: not collected: not in this sosreport (/proc/dynamic_debug/control: No such file or directory; /sys/kernel/debug/dynamic_debug/control: No such file or directory; debugfs is not mounted (or /proc/mounts is unreadable))"),
            // A container: sysctl.d is never applied to its namespace.
            ("sysctl.persistence", .notApplicable, "this is not the initial network namespace: sysctl.d is applied to the initial one at boot, and this namespace's values start from the kernel's defaults whatever the files say"),
        ])
    }

    // MARK: Ubuntu 24.04 Sunbeam node, partial sosreport, 6.8.0-59-generic

    @Test func sunbeamPartial() throws {
        let notCollected = { (key: String) in
            "net.netfilter.\(key) is not in this collection: the sosreport holds neither proc/sys/net/netfilter nor sos_commands/kernel/sysctl_-a (its kernel plugin did not run)"
        }
        let noStats = "not collected: neither proc/net/stat/nf_conntrack nor sos_commands/conntrack/conntrack_-S nor sos_commands/networking/conntrack_-S is in this sosreport"
        let noRules = "no firewall rules were collected: no `iptables -t TABLE -nvL` listing in this sosreport (sos_commands/firewall_tables); not collected: no nft ruleset in this sosreport (sos_commands/nftables)"
        let stats = "sos_commands/openvswitch/openstack-hypervisor.ovs-appctl_dpctl.ct-stats-show_-m_system_ovs-system"
        try compare("ubuntu-6.8-sunbeam-partial", [
            // No kernel plugin at all, but ct-stats-show line 2: "Total: 2725" tracked by the kernel datapath.
            ("conntrack.present", .pass, "nf_conntrack is active: Open vSwitch's datapath tracks 2725 connections, per \(stats); its sysctls are not visible here"),
            ("logging.log-invalid", .skipped, notCollected("nf_conntrack_log_invalid")),
            ("logging.backend", .skipped, notCollected("nf_conntrack_log_invalid")),
            ("logging.module", .skipped, "/proc/net/netfilter/nf_log could not be read: not collected: not in this sosreport (/proc/net/netfilter/nf_log: No such file or directory)"),
            ("logging.all-netns", .skipped, notCollected("nf_conntrack_log_invalid")),
            ("tcp.be-liberal", .skipped, notCollected("nf_conntrack_tcp_be_liberal")),
            ("tcp.loose", .skipped, notCollected("nf_conntrack_tcp_loose")),
            ("events.enabled", .skipped, notCollected("nf_conntrack_events")),
            ("timeouts.tcp-established", .skipped, notCollected("nf_conntrack_tcp_timeout_established")),
            // No sos_commands/firewall_tables or nftables at all.
            ("rules.invalid-drop", .skipped, noRules),
            ("rules.trace-leftover", .skipped, noRules),
            ("rules.notrack", .skipped, noRules),
            ("rules.backend-mix", .skipped, noRules),
            ("helpers.auto-assign", .skipped, notCollected("nf_conntrack_helper")),
            // No proc/modules, no lsmod: "no helper loaded" is not known.
            ("helpers.unassigned", .skipped, "which conntrack helper modules are loaded is unknown: neither /proc/modules nor lsmod output was read"),
            ("helpers.broad", .skipped, noRules),
            ("helpers.expectations", .skipped, notCollected("nf_conntrack_expect_max")),
            ("ctnetlink.available", .notApplicable, "ctnetlink is not there: \(notLive)"),
            ("table.usage", .skipped, "the entry count and limit: " + notCollected("nf_conntrack_count")),
            ("table.drops", .skipped, "the drop counter could not be read: \(noStats)"),
            ("table.insert-failed", .skipped, "the insert_failed counter could not be read: \(noStats)"),
            ("table.buckets", .skipped, notCollected("nf_conntrack_buckets")),
            ("table.invalid", .skipped, "the invalid counter could not be read: \(noStats)"),
            // dpctl/dump-conntrack holds 500 entries (497 tcp, 3 udp to port 53: none a tunnel) of the 2725 that
            // ct-stats-show counts: the 19 UDP entries not listed may be tunnel flows, so it cannot pass.
            ("table.tunnel-traffic", .skipped, "no tunnel entry among the 500 entries read, but the listing holds 500 of the 2725 connections \(stats) counts"),
            ("lists.unconfirmed-dying", .notApplicable, "a dump of the unconfirmed and dying lists is not there: \(notLive)"),
            ("debug.dynamic-debug", .skipped, "the dynamic debug control file could not be read: not collected: not in this sosreport (/proc/dynamic_debug/control: No such file or directory; /sys/kernel/debug/dynamic_debug/control: No such file or directory; debugfs is not mounted (or /proc/mounts is unreadable))"),
            // No etc/ in the source.
            ("sysctl.persistence", .skipped, "the boot configuration (sysctl.d, modules-load.d) could not be read: not collected: not in this sosreport (ROOT/etc does not exist: no boot configuration to read)"),
        ])
    }

    /// What the reports say about the host, from sos_commands/host and sos_commands/kernel (issue 13 defects 7, 9).
    @Test func hostLines() throws {
        let (k8s, _) = try report("ubuntu-5.4-kubernetes-node")
        #expect(k8s.host.kernel == "5.4.0-99-generic")  // sos_commands/kernel/uname_-a
        #expect(k8s.host.netns.initial == true)  // proc/sys/net/netfilter/nf_log_all_netns exists
        let (sunbeam, _) = try report("ubuntu-6.8-sunbeam-partial")
        #expect(sunbeam.host.kernel == "6.8.0-59-generic")  // sos_commands/host/hostnamectl_status: "Kernel: Linux 6.8.0-59-generic"
        #expect(sunbeam.host.netns.initial == nil)  // no netfilter sysctl anywhere
        let (lxd, _) = try report("ubuntu-5.4-lxd-container-rabbitmq")
        #expect(lxd.host.netns.initial == false)  // proc/sys/net/netfilter has no nf_log_all_netns
        // sos_commands/host/uptime " 14:22:26 up 10:00": 36000 s, cited by that file, not /proc/uptime.
        let snapshot = try Binary.run(["snapshot", "--sos", SosFixture.path("ubuntu-6.8-sunbeam-partial")])
        let snap = try JSONDecoder().decode(HostSnapshot.self, from: Data(snapshot.stdout.utf8))
        #expect(snap.host.uptimeSeconds == .value(36000))
        #expect(snap.host.uptimeSource == "sos_commands/host/uptime")
    }
}
