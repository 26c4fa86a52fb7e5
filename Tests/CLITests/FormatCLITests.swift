import Checks
import DoctorCore
import DoctorHost
import Foundation
import Testing

/// Every --format through the built binary: the format is only a view, so the exit status does not change with it.
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct FormatCLITests {
    let root = FixtureRootTests.root("monolithic-6.18")

    @Test(arguments: [
        ("json", "{"), ("junit", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"), ("sarif", "{\n  \"$schema\""),
        ("tap", "TAP version 14\n1..\(Catalog.all.count)\n"), ("prometheus", "# HELP ctdoctor_info"), ("markdown", "# ctdoctor report: "),
        ("text", "ctdoctor 0.1.0"),
    ])
    func everyFormatGatesTheSame(format: String, start: String) throws {
        for (failOn, status) in [("warning", Int32(1)), ("error", 0)] {
            let result = try Binary.run(["check", "--root", root, "--format", format, "--fail-on", failOn, "--no-color"])
            #expect(result.exitStatus == status, "\(format) --fail-on \(failOn): \(result.stderr)")
            #expect(result.stdout.hasPrefix(start), "\(format): \(result.stdout.prefix(200))")
        }
    }

    @Test func prometheusCarriesTheRawReadingsOfTheTree() throws {
        let result = try Binary.run(["check", "--root", root, "--format", "prometheus"])
        #expect(result.stdout.contains("\nctdoctor_conntrack_max 262144\n"))
        #expect(result.stdout.contains("ctdoctor_conntrack_stat_total{counter=\"invalid\"} 26\n"))
    }

    @Test func policyChecksAppearInEveryFormat() throws {
        let path = try Binary.temporaryFile("sysctls:\n  net.netfilter.nf_conntrack_max: {min: 1048576}\n", named: "policy.yaml")
        for format in ["junit", "sarif", "tap", "prometheus", "markdown"] {
            let result = try Binary.run(["check", "--root", root, "--policy", path, "--format", format])
            #expect(result.exitStatus == 1)
            #expect(result.stdout.contains("policy.sysctl.net.netfilter.nf_conntrack_max"), "\(format)")
        }
    }
}
