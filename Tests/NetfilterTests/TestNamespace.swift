import Foundation

/// A throwaway network namespace for one test, deleted when the value goes away.
final class TestNamespace {
    nonisolated(unsafe) private static var serial = 0
    private static let lock = NSLock()

    let name: String
    var path: String { "/run/netns/\(name)" }

    /// Creates the namespace with loopback up; nil (and the reason recorded by the caller) when `ip` fails.
    init(_ label: String) throws {
        Self.lock.lock()
        Self.serial += 1
        let n = Self.serial
        Self.lock.unlock()
        name = "ctd-nf-\(label.prefix(12))-\(getpid())-\(n)"
        try Self.run(["ip", "netns", "add", name])
        try run("ip link set lo up")
    }

    deinit {
        _ = try? Self.run(["ip", "netns", "del", name])
    }

    /// Runs a shell command inside the namespace; throws with its output when it fails.
    @discardableResult
    func run(_ script: String) throws -> String {
        try Self.run(["ip", "netns", "exec", name, "sh", "-euc", script])
    }

    /// A tool from Tests/Scenarios/tools.
    static func tool(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scenarios/tools/\(name)").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    @discardableResult
    static func run(_ argv: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(argv.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
        }
        return text
    }
}
