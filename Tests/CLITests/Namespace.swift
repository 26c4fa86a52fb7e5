import DoctorCore
import DoctorHost
import Foundation

/// A throwaway network namespace for one test, deleted when the value goes away.
final class Namespace {
    let name: String

    init() throws {
        name = "ctd-t-\(UInt32.random(in: 0...UInt32.max))"
        _ = try Self.sh(["ip", "netns", "add", name], mustSucceed: true)
        _ = try exec(["ip", "link", "set", "lo", "up"], mustSucceed: true)
    }

    deinit { _ = try? Self.sh(["ip", "netns", "del", name], mustSucceed: false) }

    @discardableResult
    func exec(_ argv: [String], mustSucceed: Bool = false) throws -> CommandResult {
        try Self.sh(["ip", "netns", "exec", name] + argv, mustSucceed: mustSucceed)
    }

    /// `sysctl -w` each "key=value" inside the namespace.
    func set(_ assignments: [String]) throws {
        try exec(["sysctl", "-q", "-w"] + assignments, mustSucceed: true)
    }

    func values(_ keys: [String]) throws -> [String] {
        try exec(["sysctl", "-n"] + keys, mustSucceed: true).stdout.split(separator: "\n").map(String.init)
    }

    func ctdoctor(_ arguments: [String]) throws -> CommandResult {
        try exec([Binary.path] + arguments)
    }

    func statuses() throws -> [String: String] {
        let report = try JSONDecoder().decode(Report.self, from: Data(try ctdoctor(["check", "--format", "json"]).stdout.utf8))
        return Dictionary(uniqueKeysWithValues: report.findings.map { ($0.id, $0.status.rawValue) })
    }

    private static func sh(_ argv: [String], mustSucceed: Bool) throws -> CommandResult {
        let result = try SystemCommandRunner().run(argv, timeout: 120).get()
        if mustSucceed && result.exitStatus != 0 {
            throw InputError("\(argv.joined(separator: " ")) exited \(result.exitStatus): \(result.stderr)")
        }
        return result
    }
}
