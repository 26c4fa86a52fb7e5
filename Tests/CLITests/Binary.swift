import DoctorCore
import DoctorHost
import Foundation
import TestSupport
import Testing

/// The built `ctdoctor` executable, run end to end.
enum Binary {
    /// CTDOCTOR_BIN, or the executable beside the test bundle (where `swift build` puts it).
    static var path: String {
        if let env = ProcessInfo.processInfo.environment["CTDOCTOR_BIN"] { return env }
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("ctdoctor").path
    }

    static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }

    static var isRoot: Bool { getuid() == 0 }

    /// Runs ctdoctor with these arguments; `as nobody` drops to uid/gid 65534 first (needs root).
    /// `argv`, when given, runs that command instead of ctdoctor.
    static func run(_ arguments: [String], asNobody: Bool = false, timeout: Double = 60, argv: [String]? = nil) throws -> CommandResult {
        let argv = argv ?? (asNobody
            ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", path] + arguments
            : [path] + arguments)
        switch SystemCommandRunner().run(argv, timeout: timeout) {
        case .success(let result): return result
        case .failure(let failure): throw failure
        }
    }

    /// The package root, from this file's place in Tests/CLITests.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Writes `text` to a file named `name` in a fresh temporary folder and returns its path.
    static func temporaryFile(_ text: String, named name: String) throws -> String {
        let path = try temporaryDirectory().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func temporaryDirectory() throws -> URL {
        let dir = TestFolders.base.appendingPathComponent("ctd-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
