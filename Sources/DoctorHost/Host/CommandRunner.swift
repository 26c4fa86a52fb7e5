import DoctorCore
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
    /// The program printed more than `limit` on one stream; it was stopped and its output dropped.
    case tooMuchOutput(String, limit: ReadLimit)

    public var description: String {
        switch self {
        case .notFound(let p): "\(p): not installed (not found on PATH)"
        case .timedOut(let p, let s): "\(p): no answer within \(s) s, stopped"
        case .unavailable(let why): why
        case .failedToStart(let p, let why): "\(p): could not start: \(why)"
        case .tooMuchOutput(let p, let limit): "\(p): output \(limit), stopped"
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
    /// The most a program may print on each of stdout and stderr: the largest rulesets print tens of megabytes.
    public var outputLimit = ReadLimit(256 * ReadLimit.miB, "a command's output")

    public init(searchPath: [String]? = nil) {
        let env = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let defaults = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        self.searchPath = searchPath ?? (env.split(separator: ":").map(String.init) + defaults)
    }

    public func locate(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        return searchPath.lazy.map { $0 + "/" + program }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Spawned with posix_spawn and reaped with waitpid, not Foundation's `Process`: `Process` learns that a child
    /// ended through a loopback UDP socket, which cannot be created in a network namespace whose `lo` is down
    /// (a fresh `ip netns add` or `unshare -n`), and then never reports the end.
    public func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
        guard let program = argv.first else { return .failure(.failedToStart("", reason: "empty command")) }
        guard let executable = locate(program) else { return .failure(.notFound(program)) }
        let started = Self.start(executable, argv)
        guard started.error == 0 else {
            return .failure(.failedToStart(program, reason: HostRoot.describe(errno: started.error)))
        }
        let pid = started.pid
        // Drain both pipes while the program runs, so a chatty program cannot block on a full pipe.
        let collected = OutputCollector()
        let group = DispatchGroup()
        let limit = outputLimit.bytes
        for (fd, isOut) in [(started.stdout, true), (started.stderr, false)] {
            group.enter()
            DispatchQueue.global().async {
                // Past the limit the pipe is closed: the program's next write gets EPIPE (SIGPIPE) and it ends.
                let (data, overflowed) = Self.readAll(fd, limit: limit)
                collected.set(data, stdout: isOut, overflowed: overflowed)
                close(fd)
                group.leave()
            }
        }
        let deadline = DispatchTime.now() + timeout
        var status: Int32 = 0
        while !Self.reap(pid, &status) {
            if DispatchTime.now() >= deadline {
                Self.stop(pid, &status)
                _ = group.wait(timeout: .now() + 1)
                return .failure(.timedOut(program, seconds: timeout))
            }
            usleep(5_000)
        }
        if group.wait(timeout: deadline) == .timedOut {
            // The program ended but left something running in its group that holds the output open.
            kill(-pid, SIGKILL)
            if group.wait(timeout: .now() + 1) == .timedOut { return .failure(.timedOut(program, seconds: timeout)) }
        }
        if collected.overflowed {
            kill(-pid, SIGKILL)
            return .failure(.tooMuchOutput(program, limit: outputLimit))
        }
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return .success(CommandResult(
            exitStatus: exitStatus,
            stdout: String(decoding: collected.stdout, as: UTF8.self),
            stderr: String(decoding: collected.stderr, as: UTF8.self)))
    }

    /// Pipes are made close-on-exec in a second step; holding this while starting keeps another runner's child
    /// from inheriting our write ends in between (it would hold our output open until it ends).
    private static let spawnLock = NSLock()

    /// Starts the program in a process group of its own (so a timeout can stop its children too), stdin /dev/null;
    /// returns the read ends of its stdout and stderr, or the errno that stopped it.
    private static func start(_ executable: String, _ argv: [String]) -> (pid: pid_t, stdout: Int32, stderr: Int32, error: Int32) {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { return (0, -1, -1, errno) }
        guard pipe(&err) == 0 else {
            let code = errno
            close(out[0]); close(out[1])
            return (0, -1, -1, code)
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        // A thread of a dispatch queue blocks most signals; the program must not inherit that mask (a shell's `wait`
        // would never see SIGCHLD), nor a SIGPIPE ignored here.
        var none = sigset_t(), brokenPipe = sigset_t()
        sigemptyset(&none)
        sigemptyset(&brokenPipe)
        sigaddset(&brokenPipe, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &brokenPipe)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, cArgs, cEnv)
        close(out[1])
        close(err[1])
        guard code == 0 else {
            close(out[0]); close(err[0])
            return (0, -1, -1, code)
        }
        return (pid, out[0], err[0], 0)
    }

    /// True once the child has ended (and is reaped).
    private static func reap(_ pid: pid_t, _ status: inout Int32) -> Bool {
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == -1 && errno == EINTR { continue }
            return r == pid || r == -1
        }
    }

    /// SIGTERM to the process group, a second's grace, then SIGKILL.
    private static func stop(_ pid: pid_t, _ status: inout Int32) {
        kill(-pid, SIGTERM)
        for _ in 0..<200 {
            if reap(pid, &status) { return }
            usleep(5_000)
        }
        kill(-pid, SIGKILL)
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// Everything until EOF, or the first `limit` bytes and true when there was more.
    private static func readAll(_ fd: Int32, limit: Int) -> (Data, Bool) {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: chunk[0..<n])
                if data.count > limit { return (Data(), true) }
            } else if n == 0 || errno != EINTR { break }
        }
        return (data, false)
    }
}

private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data(), overflow = false

    func set(_ data: Data, stdout: Bool, overflowed: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if stdout { out = data } else { err = data }
        overflow = overflow || overflowed
    }

    var overflowed: Bool { lock.lock(); defer { lock.unlock() }; return overflow }

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
