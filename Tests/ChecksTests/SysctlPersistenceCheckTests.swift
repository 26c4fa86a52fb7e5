import DoctorCore
import Testing
@testable import Checks

@Suite struct SysctlPersistenceCheckTests {
    let check = SysctlPersistenceCheck()
    static let max = "net.netfilter.nf_conntrack_max"

    /// Changes the builder's boot configuration in place.
    func edit(_ b: inout SnapshotBuilder, _ change: (inout PersistedSettings) -> Void) {
        guard var p = b.snapshot.persisted.value else { return }
        change(&p)
        b.snapshot.persisted = .value(p)
    }

    func persist(_ b: inout SnapshotBuilder, _ key: String, _ value: String, file: String = "/etc/sysctl.d/99-custom.conf", line: Int = 3) {
        edit(&b) { $0.sysctls[key] = PersistedSysctl(value: value, file: file, line: line, written: key) }
    }

    /// Debian-like: nf_conntrack is a loaded module.
    func modular() -> SnapshotBuilder {
        var b = SnapshotBuilder.modular61()
        b.snapshot.persisted = SnapshotBuilder().snapshot.persisted
        return b
    }

    func loadAtBoot(_ b: inout SnapshotBuilder, _ module: String) {
        edit(&b) { $0.modulesLoad.append(ConfigEntry(value: module, file: "/etc/modules-load.d/conntrack.conf", line: 1)) }
    }

    func hashsizeOption(_ b: inout SnapshotBuilder) {
        edit(&b) { $0.conntrackOptions["hashsize"] = ConfigEntry(value: "65536", file: "/etc/modprobe.d/nf_conntrack.conf", line: 1) }
    }

    @Test func persistedEqualsRunningAndBuiltInPasses() {
        let f = check.evaluate(SnapshotBuilder().snapshot)
        #expect(f.status == .pass)
        #expect(f.observed == "1 net.netfilter key persisted, 1 equal to the running value; nf_conntrack is built into the kernel, so its keys exist when systemd-sysctl runs")
        #expect(f.evidence.contains(Evidence("/etc/sysctl.d/90-conntrack.conf:1", "net.netfilter.nf_conntrack_max = 262144")))
    }

    @Test func runningValueDiffersNamingTheFile() throws {
        var b = SnapshotBuilder()
        persist(&b, Self.max, "524288", file: "/etc/sysctl.d/99-custom.conf", line: 2)
        b.set("net.netfilter.nf_conntrack_tcp_timeout_established", "86400")
        persist(&b, "net.netfilter.nf_conntrack_tcp_timeout_established", "86400\t", file: "/etc/sysctl.conf", line: 7)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed == "net.netfilter.nf_conntrack_max = 262144 running, 524288 in /etc/sysctl.d/99-custom.conf:2")
        #expect(f.explanation.contains("the next reboot brings 524288 back"))
        let step = try #require(f.remediation?.steps.first)
        #expect(step.argv == nil)
        #expect(step.scope == .persistent)
        #expect(step.purpose.contains("change line 2 of /etc/sysctl.d/99-custom.conf to `net.netfilter.nf_conntrack_max = 262144`"))
        #expect(step.purpose.contains("`sysctl -w net.netfilter.nf_conntrack_max=524288`"))
    }

    @Test func overriddenAssignmentsAreNamed() {
        var b = SnapshotBuilder()
        edit(&b) {
            $0.sysctls[Self.max] = PersistedSysctl(
                value: "1048576", file: "/etc/sysctl.d/99-zz.conf", line: 1, written: "-net/netfilter/nf_conntrack_max", ignoreErrors: true,
                overrides: [ConfigEntry(value: "262144", file: "/usr/lib/sysctl.d/50-vendor.conf", line: 4)])
        }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.explanation.contains("(it overrides /usr/lib/sysctl.d/50-vendor.conf:4 = 262144)"))
    }

    @Test func modularConntrackNotLoadedAtBootFails() {
        let f = check.evaluate(modular().snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .warning)
        #expect(f.observed.contains("nf_conntrack is a module not loaded at boot, so net.netfilter.nf_conntrack_max from sysctl.d will not apply"))
        #expect(f.explanation.contains("systemd-sysctl runs early"))
        guard case .writeFile(let path, let contents)? = f.remediation?.steps.first?.action else {
            Issue.record("the first step should write ctdoctor's modules-load.d file"); return
        }
        #expect(path == "/etc/modules-load.d/ctdoctor.conf")
        #expect(contents.hasPrefix("# Written by ctdoctor"))
        #expect(contents.hasSuffix("\nnf_conntrack\n"))
        #expect(f.argvs.last == .some(nil), "the second step is advice")
        #expect(f.remediation?.steps.map(\.scope) == [.persistent, .persistent])
        #expect(f.remediation?.steps[1].purpose.contains("systemd-sysctl --prefix=/net/netfilter") == true)
    }

    @Test(arguments: ["nf_conntrack", "xt_conntrack", "nf_nat", "nft_ct"])
    func modulesLoadEntryThatBringsConntrackPasses(module: String) {
        var b = modular()
        loadAtBoot(&b, module)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass, "\(f.observed)")
        #expect(f.observed.contains("loaded at boot by /etc/modules-load.d/conntrack.conf:1 (\(module))"))
    }

    @Test func unrelatedModuleDoesNotHelp() {
        var b = modular()
        loadAtBoot(&b, "br_netfilter")
        #expect(check.evaluate(b.snapshot).status == .fail)
    }

    @Test func udevRuleThatReappliesPasses() {
        var b = modular()
        edit(&b) { $0.udevSysctlRules = [ConfigEntry(value: "…", file: "/etc/udev/rules.d/99-conntrack.rules", line: 1)] }
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .pass)
        #expect(f.observed.contains("/etc/udev/rules.d/99-conntrack.rules:1 re-applies sysctl.d"))
    }

    @Test func staleKeyIsInfo() {
        var b = SnapshotBuilder()
        persist(&b, "net.netfilter.nf_conntrack_helper", "1", line: 5)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail)
        #expect(f.severity == .info)
        #expect(f.observed == "net.netfilter.nf_conntrack_helper is set in /etc/sysctl.d/99-custom.conf:5 but does not exist on this kernel")
        #expect(f.remediation?.steps.first?.purpose == "Remove line 5 (`net.netfilter.nf_conntrack_helper = 1`) from /etc/sysctl.d/99-custom.conf.")
    }

    @Test func hashsizeOptionIsIgnoredForBuiltInConntrack() {
        var b = SnapshotBuilder()
        hashsizeOption(&b)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail && f.severity == .info)
        #expect(f.observed == "hashsize=65536 in /etc/modprobe.d/nf_conntrack.conf:1 is ignored: nf_conntrack is built in")
        #expect(f.remediation?.steps.first?.purpose.contains("nf_conntrack.hashsize=65536") == true)
    }

    @Test func hashsizeOptionThatDiffersFromBucketsWarns() {
        var b = modular()
        loadAtBoot(&b, "nf_conntrack")
        hashsizeOption(&b)
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .fail && f.severity == .warning)
        #expect(f.observed == "net.netfilter.nf_conntrack_buckets = 262144 running, hashsize=65536 in /etc/modprobe.d/nf_conntrack.conf:1")
    }

    @Test func childNamespaceIsNotApplicable() {
        var b = SnapshotBuilder()
        b.childNamespace()
        persist(&b, Self.max, "1")
        #expect(check.evaluate(b.snapshot).status == .notApplicable)
    }

    @Test func rootWithoutBootConfigurationIsNotApplicable() {
        var b = SnapshotBuilder()
        b.snapshot.persisted = .absent("/tmp/root/etc does not exist: no boot configuration to read")
        let f = check.evaluate(b.snapshot)
        #expect(f.status == .notApplicable)
        #expect(f.observed.contains("no boot configuration to read"))
    }
}
