import ArgumentParser
import CTDoctorCLI
import DoctorCore
import DoctorHost
import Foundation
import Testing

/// What the .deb ships besides the binary: shell completion and the man page (scripts/build-deb, scripts/test-deb).
@Suite(.enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"))
struct PackagingTests {
    /// Every subcommand, from the command tree itself, so a new one cannot be left out of the page.
    static let subcommands = CTDoctor.configuration.subcommands.compactMap { $0.configuration.commandName }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptNamesEverySubcommand(_ shell: String) throws {
        let result = try Binary.run(["--generate-completion-script", shell])
        #expect(result.exitStatus == 0, "\(result.stderr)")
        for name in Self.subcommands { #expect(result.stdout.contains(name), "\(shell) completion lacks \(name)") }
        if shell == "bash" { #expect(result.stdout.hasPrefix("#!/bin/bash")) }
    }

    /// docs/ctdoctor.8 is argument-parser's generate-manual output: section 8, every subcommand described.
    @Test func committedManPageCoversTheSubcommands() throws {
        let page = try String(contentsOf: Binary.packageRoot.appendingPathComponent("docs/ctdoctor.8"), encoding: .utf8)
        #expect(page.contains(".Dt CTDOCTOR 8"))
        for name in Self.subcommands { #expect(page.contains(name), "man page lacks \(name)") }
    }

    /// scripts/test-deb builds the package (a release build: minutes) and runs it from a `dpkg -x` root; here only
    /// when asked, with CTDOCTOR_TEST_DEB=1, and dpkg-deb is present. .ci/run runs it every time.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CTDOCTOR_TEST_DEB"] == "1", "slow: set CTDOCTOR_TEST_DEB=1 (or run scripts/test-deb)"),
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb"), "dpkg-deb is not installed"))
    func debianPackageInstallsAndRuns() throws {
        let script = Binary.packageRoot.appendingPathComponent("scripts/test-deb").path
        let result = try Binary.run([], timeout: 3600, argv: [script])
        #expect(result.exitStatus == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("test-deb: ok: ctdoctor_"))
    }
}
