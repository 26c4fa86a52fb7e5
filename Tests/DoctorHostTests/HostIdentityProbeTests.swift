import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct HostIdentityProbeTests {
    func identity(_ root: HostRoot) -> HostInfo {
        Fixtures.snapshot(root, [HostIdentityProbe()]).host
    }

    @Test func monolithicInitialNamespace() {
        let info = identity(Fixtures.root(Fixtures.monolithic))
        #expect(info.hostname == .value("vm"))
        #expect(info.kernelRelease == .value("6.18.44-fc-v782"))
        #expect(info.kernelVersion == KernelVersion(6, 18, 44))
        #expect(info.uptimeSeconds == .value(505.28))
        #expect(info.netns.inode == .value(4_026_531_833))
        #expect(info.netns.initial == true)
        #expect(info.netns.basis.contains("nf_log_all_netns"))
        #expect(info.netns.basis.contains("only in the initial namespace"))
        // A copied root: no /run/netns lookup and no privileges of the tool itself.
        #expect(info.netns.name == nil)
        #expect(info.privileges == Privileges())
    }

    @Test func debian61NonInitialNamespace() {
        let info = identity(Fixtures.root(Fixtures.modular61))
        #expect(info.hostname == .value("web1"))
        #expect(info.kernelRelease == .value("6.1.0-27-amd64"))
        #expect(info.uptimeSeconds == .value(86400.5))
        #expect(info.netns.inode == .value(4_026_532_290))
        #expect(info.netns.initial == false)
        #expect(info.netns.basis.contains("nf_log_all_netns is missing"))
    }

    @Test(arguments: [Fixtures.modular510, Fixtures.modular515])
    func olderKernelsInInitialNamespace(_ name: String) {
        let info = identity(Fixtures.root(name))
        #expect(info.netns.initial == true)
        #expect(info.kernelRelease.value?.hasPrefix(name == Fixtures.modular510 ? "5.10." : "5.15.") == true)
    }

    @Test func globalMaxDecidesWhenNetfilterFolderIsUnlistable() throws {
        let temp = try TemporaryRoot()
        try temp.write("/proc/sys/net/nf_conntrack_max", "65536\n")
        let info = identity(temp.root)
        #expect(info.netns.initial == true)
        #expect(info.netns.basis.contains("/proc/sys/net/nf_conntrack_max"))
    }

    @Test func cannotTellWithoutNetfilterSysctls() throws {
        let temp = try TemporaryRoot()
        try temp.write("/proc/sys/kernel/hostname", "bare\n")
        let info = identity(temp.root)
        #expect(info.netns.initial == nil)
        #expect(info.netns.basis == "cannot tell: netfilter sysctls are not visible")
        #expect(info.hostname == .value("bare"))
        if case .absent = info.kernelRelease {} else { Issue.record("kernelRelease should be absent: \(info.kernelRelease)") }
        if case .absent = info.netns.inode {} else { Issue.record("netns inode should be absent: \(info.netns.inode)") }
        if case .absent = info.uptimeSeconds {} else { Issue.record("uptime should be absent") }
    }

    @Test func netnsLinkParsing() {
        #expect(HostIdentityProbe.parseNetnsLink("net:[4026531833]") == .value(4_026_531_833))
        if case .failed = HostIdentityProbe.parseNetnsLink("mnt:[4026531841]") {} else { Issue.record("mnt link accepted") }
        if case .failed = HostIdentityProbe.parseNetnsLink("net:[x]") {} else { Issue.record("non-number accepted") }
    }

    @Test func unparsableUptimeFails() throws {
        let temp = try TemporaryRoot()
        try temp.write("/proc/uptime", "soon\n")
        if case .failed(let why) = identity(temp.root).uptimeSeconds {
            #expect(why.contains("/proc/uptime"))
        } else {
            Issue.record("uptime should fail to parse")
        }
    }

    @Test func capNetAdminIsBit12OfCapEff() {
        #expect(HostIdentityProbe.capNetAdmin(status: "Name:\tx\nCapEff:\t000001fffeffffff\n") == true)
        #expect(HostIdentityProbe.capNetAdmin(status: "CapEff:\t0000000000000000\n") == false)
        #expect(HostIdentityProbe.capNetAdmin(status: "CapEff:\t0000000000001000\n") == true)
        #expect(HostIdentityProbe.capNetAdmin(status: "CapEff:\t0000000000000fff\n") == false)
        #expect(HostIdentityProbe.capNetAdmin(status: "Name:\tx\n") == nil)
    }
}
