import DoctorCore
import DoctorHost
import Foundation
import Testing

/// The real-kernel scenarios under Tests/Scenarios, each in a throwaway network namespace, run by the same
/// POSIX-sh runner that can run them against the built binary on another kernel.
@Suite(
    .enabled(if: Binary.exists, "the ctdoctor binary is not built: run `swift build` first"),
    .enabled(if: Binary.isRoot, "real-kernel scenarios need root to create network namespaces; run the tests as root to include them"))
struct ScenarioTests {
    static var scenariosFolder: URL { Binary.packageRoot.appendingPathComponent("Tests/Scenarios") }

    static var names: [String] {
        let folder = scenariosFolder
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return entries.filter { FileManager.default.fileExists(atPath: folder.appendingPathComponent("\($0)/expect").path) }.sorted()
    }

    @Test func thereAreScenarios() {
        #expect(Self.names.count >= 9)
    }

    @Test(arguments: ScenarioTests.names)
    func scenario(_ name: String) throws {
        let runner = Self.scenariosFolder.appendingPathComponent("run").path
        let result = try Binary.run([], timeout: 120, argv: [runner, Binary.path, name])
        #expect(result.exitStatus == 0, "\(result.stdout)\(result.stderr)")
        // A scenario whose `only` line this kernel does not meet is skipped by the runner (e.g. modular-kernel scenarios
        // on a monolithic build machine); it runs under Tests/Kernels/run.
        let passed = result.stdout.contains("1 passed, 0 failed")
        let skipped = result.stdout.contains("0 passed, 0 failed, 1 skipped")
        #expect(passed || skipped, "\(result.stdout)")
    }
}
