import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct KernelConfigProbeTests {
    func config(_ root: HostRoot) -> KernelConfig {
        Fixtures.snapshot(root, [HostIdentityProbe(), KernelConfigProbe()]).kernelConfig
    }

    @Test func monolithicReadsProcConfigGz() {
        let config = config(Fixtures.root(Fixtures.monolithic))
        #expect(config.source == .value("/proc/config.gz"))
        #expect(config.options["CONFIG_NF_LOG_SYSLOG"] == "y")
        #expect(config.options["CONFIG_NF_CONNTRACK"] == "y")
        #expect(config.options["CONFIG_NF_CT_NETLINK"] == "y")
        #expect(config.options["CONFIG_NETFILTER_NETLINK_LOG"] == "y")
        #expect(config.options["CONFIG_BRIDGE_NETFILTER"] == "y")
        #expect(config.options["CONFIG_IP_NF_RAW"] == "y")
        #expect(config.options["CONFIG_IP6_NF_RAW"] == "y")
        #expect(config.options["CONFIG_NFT_CT"] == "y")
        #expect(config.options["CONFIG_MODULES"] == "n")
        #expect(config.options["CONFIG_DYNAMIC_DEBUG"] == "n")
        #expect(config.options["CONFIG_NF_LOG_ARP"] == "n")
        #expect(config.options["CONFIG_NF_FLOW_TABLE"] == "n")
        // Unrelated options are dropped, numbers and strings too.
        #expect(config.options["CONFIG_64BIT"] == nil)
        #expect(config.options["CONFIG_LOG_BUF_SHIFT"] == nil)
        #expect(config.options["CONFIG_IPV6"] == nil)
        #expect(config.options.keys.allSatisfy(KernelConfigProbe.isKept))
        #expect(config.tristate("CONFIG_MODULES") == .notSet)
        #expect(config.tristate("CONFIG_NF_LOG_COMMON") == .notSet)
        #expect(config.tristate("CONFIG_NF_LOG_SYSLOG") == .builtIn)
    }

    @Test func debian61ReadsBootConfig() {
        let config = config(Fixtures.root(Fixtures.modular61))
        #expect(config.source == .value("/boot/config-6.1.0-27-amd64"))
        #expect(config.options["CONFIG_NF_CONNTRACK"] == "m")
        #expect(config.options["CONFIG_NF_LOG_SYSLOG"] == "m")
        #expect(config.options["CONFIG_NF_CONNTRACK_PROCFS"] == "y")
        #expect(config.options["CONFIG_NF_CONNTRACK_BRIDGE"] == "n")
        #expect(config.options["CONFIG_MODULES"] == "y")
        #expect(config.options["CONFIG_DYNAMIC_DEBUG"] == "y")
        #expect(config.options["CONFIG_MODULE_COMPRESS_NONE"] == nil)
        #expect(config.tristate("CONFIG_NF_CT_NETLINK") == .module)
    }

    @Test func neitherSourceIsAbsentAndSaysWhy() {
        let config = config(Fixtures.root(Fixtures.modular510))
        guard case .absent(let why) = config.source else {
            Issue.record("expected absent, got \(config.source)")
            return
        }
        #expect(why.contains("/proc/config.gz"))
        #expect(why.contains("/boot/config-5.10.0-28-amd64"))
        #expect(config.options.isEmpty)
        #expect(config.tristate("CONFIG_NF_CONNTRACK") == nil)
    }

    @Test func unknownReleaseIsNamed() throws {
        let temp = try TemporaryRoot()
        let config = config(temp.root)
        guard case .absent(let why) = config.source else {
            Issue.record("expected absent, got \(config.source)")
            return
        }
        #expect(why.contains("kernel release is unknown"))
    }

    @Test func corruptConfigGzFailsAndBootConfigStillWins() throws {
        let temp = try Fixtures.copy(Fixtures.modular61)
        try temp.write("/proc/config.gz", "this is not gzip")
        let config = config(temp.root)
        #expect(config.source == .value("/boot/config-6.1.0-27-amd64"))

        try temp.remove("/boot/config-6.1.0-27-amd64")
        let without = self.config(temp.root)
        guard case .failed(let why) = without.source else {
            Issue.record("expected failed, got \(without.source)")
            return
        }
        #expect(why.contains("/proc/config.gz: not valid gzip data"))
        #expect(why.contains("/boot/config-6.1.0-27-amd64"))
    }

    @Test func truncatedConfigGzFails() throws {
        let temp = try Fixtures.copy(Fixtures.monolithic)
        let real = temp.root.resolve("/proc/config.gz")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: real))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: real))
        guard case .failed(let why) = config(temp.root).source else {
            Issue.record("a truncated config.gz must fail")
            return
        }
        #expect(why.contains("truncated"))
    }

    @Test func parseKeepsOnlyTristatesOfNetfilterOptions() {
        let text = """
            # comment
            CONFIG_NF_CONNTRACK=m
            CONFIG_NETFILTER_XT_MATCH_CONNTRACK=m
            CONFIG_NF_CONNTRACK_FOO="text"
            CONFIG_NF_CT_PROTO_GRE=y
            #   CONFIG_NF_CONNTRACK_SIP is not set
            # CONFIG_NF_TABLES is not set
            # CONFIG_NOT_NETFILTER is not set
            CONFIG_HZ=250
            """
        #expect(KernelConfigProbe.parse(text) == [
            "CONFIG_NF_CONNTRACK": "m",
            "CONFIG_NETFILTER_XT_MATCH_CONNTRACK": "m",
            "CONFIG_NF_CT_PROTO_GRE": "y",
            "CONFIG_NF_CONNTRACK_SIP": "n",
            "CONFIG_NF_TABLES": "n",
        ])
    }

    @Test func parseAcceptsCRLFLines() {
        // Swift reads "\r\n" as one character, so splitting on "\n" alone would keep such files in one line.
        #expect(KernelConfigProbe.parse("CONFIG_NF_CONNTRACK=m\r\n# CONFIG_NF_LOG_ARP is not set\r\n") == [
            "CONFIG_NF_CONNTRACK": "m", "CONFIG_NF_LOG_ARP": "n",
        ])
    }

    @Test func gzipRoundTripWithTheSystemTool() throws {
        // Larger than zlib's 64 KiB output chunk, so the inflate loop runs more than once.
        let text = String(repeating: "CONFIG_NF_CONNTRACK=y\n", count: 10_000)
        let temp = try TemporaryRoot()
        try temp.write("/config", text)
        let result = SystemCommandRunner().run(["sh", "-c", "gzip -c < \"$0\" | base64 -w0", temp.path + "/config"], timeout: 10)
        let encoded = try #require(try? result.get()).stdout
        let bytes = [UInt8](try #require(Data(base64Encoded: encoded)))
        #expect(Gzip.decompress(bytes) == .success(Array(text.utf8)))
        if case .success = Gzip.decompress([]) { Issue.record("empty input accepted") }
    }
}
