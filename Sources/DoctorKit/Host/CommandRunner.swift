import Foundation

public struct CommandResult: Sendable, Equatable {
    public var exitStatus: Int32
    public var stdout: String
    public var stderr: String

    public init(exitStatus: Int32, stdout: String, stderr: String = "") {
        self.exitStatus = exitStatus
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum CommandFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The program is not installed (not on PATH).
    case notFound(String)
    /// The program did not finish in time and was killed.
    case timedOut(String, seconds: Double)
    /// Live commands are not run, e.g. because the host is a copied tree.
    case unavailable(String)
    case failedToStart(String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let p): "\(p): not installed (not found on PATH)"
        case .timedOut(let p, let s): "\(p): no answer within \(s) s, stopped"
        case .unavailable(let why): why
        case .failedToStart(let p, let why): "\(p): could not start: \(why)"
        }
    }
}

/// Runs host commands for probes. Probes ask through this, so tests can hand in recorded output.
public protocol CommandRunner: Sendable {
    func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure>
}

/// Runs real programs, found on PATH, killing them when the timeout passes.
public struct SystemCommandRunner: CommandRunner {
    public var searchPath: [String]

    public init(searchPath: [String]? = nil) {
        let env = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let defaults = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        self.searchPath = searchPath ?? (env.split(separator: ":").map(String.init) + defaults)
    }

    public func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        return searchPath.lazy.map { $0 + "/" + program }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
        guard let program = argv.first else { return .failure(.failedToStart("", reason: "empty command")) }
        guard let executable = locate(program) else { return .failure(.notFound(program)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(argv.dropFirst())
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            return .failure(.failedToStart(program, reason: "\(error.localizedDescription)"))
        }
        // Drain both pipes while the program runs, so a chatty program cannot block on a full pipe.
        let collected = OutputCollector()
        let group = DispatchGroup()
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            group.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.set(data, stdout: isOut)
                group.leave()
            }
        }
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            if finished.wait(timeout: .now() + 1) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                finished.wait()
            }
            group.wait()
            return .failure(.timedOut(program, seconds: timeout))
        }
        group.wait()
        return .success(CommandResult(
            exitStatus: process.terminationStatus,
            stdout: String(decoding: collected.stdout, as: UTF8.self),
            stderr: String(decoding: collected.stderr, as: UTF8.self)))
    }
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    func set(_ data: Data, stdout: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stdout { out = data } else { err = data }
    }

    var stdout: Data { lock.lock(); defer { lock.unlock() }; return out }
    var stderr: Data { lock.lock(); defer { lock.unlock() }; return err }
}

/// For copied trees and tests: answers from a table of recorded outputs, never runs anything.
public struct RecordedCommandRunner: CommandRunner {
    public var recordings: [[String]: Result<CommandResult, CommandFailure>]
    public var otherwise: CommandFailure

    public init(_ recordings: [[String]: Result<CommandResult, CommandFailure>] = [:],
                otherwise: CommandFailure = .unavailable("live commands are not run against a copied root")) {
        self.recordings = recordings
        self.otherwise = otherwise
    }

    public func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
        recordings[argv] ?? .failure(otherwise)
    }
}
