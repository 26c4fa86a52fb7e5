import DoctorCore
import Netfilter

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
    /// The program made no progress (no output, no CPU time) for this long, or ran past its hard limit, and was killed.
    case timedOut(String, seconds: Double)
    /// Live commands are not run, e.g. because the host is a copied tree.
    case unavailable(String)
    /// The program printed more than `limit` on one stream; it was stopped and its output dropped.
    case tooMuchOutput(String, limit: ReadLimit)
    case failedToStart(String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let p): "\(p): not installed (not found on PATH)"
        case .timedOut(let p, let s): "\(p): no progress for \(s) s, stopped"
        case .unavailable(let why): why
        case .tooMuchOutput(let p, let limit): "\(p): output \(limit), stopped"
        case .failedToStart(let p, let why): "\(p): could not start: \(why)"
        }
    }
}

/// A command whose standard output is handed over piece by piece as it arrives, so a parser can read a large
/// listing without the whole of it ever being in memory.
public struct StreamedCommand {
    public var argv: [String]
    /// Seconds without progress (no output and no CPU time) after which the program counts as hung.
    public var timeout: Double
    /// Each piece of standard output, in order, on the calling thread.
    public var output: (UnsafeRawBufferPointer) -> Void

    public init(_ argv: [String], timeout: Double, output: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.argv = argv
        self.timeout = timeout
        self.output = output
    }
}

/// How a streamed command ended: its exit status and what it said on standard error.
public struct StreamedResult: Sendable, Equatable {
    public var exitStatus: Int32
    public var stderr: String

    public init(exitStatus: Int32, stderr: String = "") {
        self.exitStatus = exitStatus
        self.stderr = stderr
    }
}

/// Commands started together; `wait` reads their output and returns when every one has ended, in the order given.
public protocol RunningCommands: AnyObject {
    func wait() -> [Result<StreamedResult, CommandFailure>]
}

/// Runs host commands for probes. Probes ask through this, so tests can hand in recorded output.
public protocol CommandRunner: Sendable {
    func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure>
    /// Starts the commands at once, so they run while the caller does other work until it waits for them.
    func start(_ commands: [StreamedCommand]) -> any RunningCommands
    /// Where the program is, nil when it is not installed.
    func locate(_ program: String) -> String?
}

extension CommandRunner {
    /// Runners that answer from a table cannot tell: the program counts as installed.
    public func locate(_ program: String) -> String? { program }

    /// Runs them one after another when waited for, each output handed over whole: for runners that answer from
    /// a table.
    public func start(_ commands: [StreamedCommand]) -> any RunningCommands {
        DeferredCommands { commands.map { command in
            run(command.argv, timeout: command.timeout).map { result in
                var text = result.stdout
                text.withUTF8 { command.output(UnsafeRawBufferPointer($0)) }
                return StreamedResult(exitStatus: result.exitStatus, stderr: result.stderr)
            }
        } }
    }

    /// Runs the commands at the same time; returns when every one has ended, in the order given.
    public func runAll(_ commands: [StreamedCommand]) -> [Result<StreamedResult, CommandFailure>] {
        start(commands).wait()
    }
}

private final class DeferredCommands: RunningCommands {
    let body: () -> [Result<StreamedResult, CommandFailure>]
    init(_ body: @escaping () -> [Result<StreamedResult, CommandFailure>]) { self.body = body }
    func wait() -> [Result<StreamedResult, CommandFailure>] { body() }
}

/// Runs real programs, found on PATH, all at once when asked for several, and stops the ones that hang.
///
/// Spawned with posix_spawn and reaped with waitpid, not Foundation's `Process`: `Process` learns that a child
/// ended through a loopback UDP socket, which cannot be created in a network namespace whose `lo` is down
/// (a fresh `ip netns add` or `unshare -n`), and then never reports the end. One poll(2) loop on the calling
/// thread reads every pipe and waits for every child (through a pidfd), so no thread is started and a child's end
/// is seen at once rather than at the next tick of a sleep loop.
///
/// A program is stopped when it has made no progress for its `timeout`: no output and no CPU time. A large
/// ruleset takes nft or iptables-save many seconds of work, which is progress; a tool blocked on the xtables lock
/// or on a netlink reply that never comes makes none. A program busy for `hardLimitFactor` times its timeout is
/// stopped all the same.
public struct SystemCommandRunner: CommandRunner {
    public var searchPath: [String]
    public static let hardLimitFactor = 30.0
    /// The most a program may print on stdout: the largest rulesets print tens of megabytes. Past it the program
    /// is stopped and the command fails, whatever its output's reader made of the part it had.
    public var outputLimit = ReadLimit(256 * ReadLimit.miB, "a command's output")

    public init(searchPath: [String]? = nil) {
        let env = getenv("PATH").map { String(cString: $0) } ?? ""
        let defaults = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        self.searchPath = searchPath ?? (env.split(separator: ":").map(String.init) + defaults)
    }

    public func locate(_ program: String) -> String? {
        if program.contains("/") { return Self.isExecutable(program) ? program : nil }
        return searchPath.lazy.map { $0 + "/" + program }.first(where: Self.isExecutable)
    }

    static func isExecutable(_ path: String) -> Bool {
        var info = stat()
        return access(path, X_OK) == 0 && stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    public func run(_ argv: [String], timeout: Double) -> Result<CommandResult, CommandFailure> {
        var stdout: [UInt8] = []
        let command = StreamedCommand(argv, timeout: timeout) { stdout.append(contentsOf: $0) }
        return runAll([command])[0].map {
            CommandResult(exitStatus: $0.exitStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: $0.stderr)
        }
    }

    public func start(_ commands: [StreamedCommand]) -> any RunningCommands {
        var results: [Result<StreamedResult, CommandFailure>?] = Array(repeating: nil, count: commands.count)
        var children: [Child] = []
        for (index, command) in commands.enumerated() {
            guard let program = command.argv.first else {
                results[index] = .failure(.failedToStart("", reason: "empty command"))
                continue
            }
            guard let executable = locate(program) else {
                results[index] = .failure(.notFound(program))
                continue
            }
            switch ChildProcess.spawn(executable, command.argv) {
            case .failure(let error): results[index] = .failure(.failedToStart(program, reason: HostRoot.describe(errno: error.code)))
            case .success(let process): children.append(Child(index: index, command: command, process: process, limit: outputLimit))
            }
        }
        return SpawnedCommands(children: children, results: results)
    }
}

/// Children spawned by `SystemCommandRunner.start`, read and reaped by one poll(2) loop in `wait`.
private final class SpawnedCommands: RunningCommands {
    var children: [Child]
    var results: [Result<StreamedResult, CommandFailure>?]

    init(children: [Child], results: [Result<StreamedResult, CommandFailure>?]) {
        self.children = children
        self.results = results
    }

    /// Never leaves a child unreaped or a pipe open, even when nobody asked for the results.
    deinit {
        if !children.isEmpty { _ = wait() }
    }

    func wait() -> [Result<StreamedResult, CommandFailure>] {
        // Progress is counted from now: until the caller listens, a full pipe stalls a child through no fault of its own.
        let now = CtnetlinkAccess.monotonicSeconds()
        for i in children.indices { children[i].lastProgress = now }
        Self.drive(&children)
        for child in children { results[child.index] = child.result }
        children = []
        return results.map { $0 ?? .failure(.failedToStart("", reason: "not run")) }
    }

    /// Reads and reaps until every child is done.
    private static func drive(_ children: inout [Child]) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while children.contains(where: { !$0.done }) {
            var fds: [pollfd] = []
            var owners: [(child: Int, kind: Child.Stream)] = []
            for (i, child) in children.enumerated() where !child.done {
                for (kind, fd) in child.pollable() {
                    fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                    owners.append((i, kind))
                }
            }
            let now = CtnetlinkAccess.monotonicSeconds()
            let wait = children.filter { !$0.done }.map { $0.nextCheck(now: now) }.min() ?? 0
            let ready = poll(&fds, nfds_t(fds.count), Int32(max(0, min(wait, 1)) * 1000) + 1)
            if ready < 0 && errno != EINTR { break }
            for (slot, fd) in fds.enumerated() where fd.revents != 0 {
                let (i, kind) = owners[slot]
                children[i].service(kind, buffer: &buffer)
            }
            let after = CtnetlinkAccess.monotonicSeconds()
            for i in children.indices where !children[i].done { children[i].checkProgress(now: after) }
        }
    }
}

/// One running command and what is known of it so far.
private struct Child {
    enum Stream { case stdout, stderr, exit }

    let index: Int
    let command: StreamedCommand
    var process: ChildProcess
    var stderr: [UInt8] = []
    var status: Int32?
    var stopped = false
    var lastProgress = CtnetlinkAccess.monotonicSeconds()
    let started = CtnetlinkAccess.monotonicSeconds()
    var cpuTicks = -1
    var nextCheckAt = CtnetlinkAccess.monotonicSeconds()
    /// When the program ended with its output still held open (something it started keeps the pipe).
    var endedAt: Double?

    static let stderrCap = 65536
    let limit: ReadLimit
    var printed = 0
    var overflowed = false

    init(index: Int, command: StreamedCommand, process: ChildProcess, limit: ReadLimit) {
        self.index = index
        self.command = command
        self.process = process
        self.limit = limit
    }

    var done: Bool { status != nil && process.stdout < 0 && process.stderr < 0 }

    var result: Result<StreamedResult, CommandFailure> {
        let program = command.argv.first ?? ""
        if overflowed { return .failure(.tooMuchOutput(program, limit: limit)) }
        if stopped { return .failure(.timedOut(program, seconds: command.timeout)) }
        let raw = status ?? 0
        let exit = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        return .success(StreamedResult(exitStatus: exit, stderr: String(decoding: stderr, as: UTF8.self)))
    }

    func pollable() -> [(Stream, Int32)] {
        var list: [(Stream, Int32)] = []
        if process.stdout >= 0 { list.append((.stdout, process.stdout)) }
        if process.stderr >= 0 { list.append((.stderr, process.stderr)) }
        if status == nil, process.pidfd >= 0 { list.append((.exit, process.pidfd)) }
        return list
    }

    /// Seconds until this child needs looking at without any event: its progress check, or a reap when there is
    /// no pidfd to announce the end.
    func nextCheck(now: Double) -> Double {
        var next = nextCheckAt - now
        if status == nil, process.pidfd < 0 { next = min(next, 0.01) }
        if let endedAt { next = min(next, endedAt + command.timeout - now) }
        return next
    }

    private var tick: Double { min(max(command.timeout / 4, 0.01), 1) }

    mutating func service(_ stream: Stream, buffer: inout [UInt8]) {
        switch stream {
        case .exit:
            reap()
        case .stdout, .stderr:
            let fd = stream == .stdout ? process.stdout : process.stderr
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                lastProgress = CtnetlinkAccess.monotonicSeconds()
                if stream == .stdout {
                    printed += n
                    if printed > limit.bytes {
                        // Past the limit nothing more is read: the program is stopped and the command fails.
                        overflowed = true
                        process.killGroup()
                        process.closeStream(true)
                        process.closeStream(false)
                        reap(blocking: true)
                        return
                    }
                    buffer.withUnsafeBytes { command.output(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                } else if stderr.count < Self.stderrCap {
                    stderr.append(contentsOf: buffer[0..<min(n, Self.stderrCap - stderr.count)])
                }
            } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                process.closeStream(stream == .stdout)
                if process.stdout < 0 && process.stderr < 0 && status == nil && process.pidfd < 0 { reap(blocking: true) }
            }
        }
    }

    mutating func reap(blocking: Bool = false) {
        guard status == nil, let raw = process.reap(blocking: blocking) else { return }
        status = raw
        process.closePidfd()
        if process.stdout >= 0 || process.stderr >= 0 { endedAt = CtnetlinkAccess.monotonicSeconds() }
    }

    /// Stops a child that made no progress for its timeout (or ran past the hard limit), and closes output that
    /// something the program left running still holds after it ended.
    mutating func checkProgress(now: Double) {
        if status == nil, process.pidfd < 0 { reap() }
        if let endedAt, now - endedAt >= command.timeout {
            process.killGroup()
            process.closeStream(true)
            process.closeStream(false)
            return
        }
        guard status == nil, now >= nextCheckAt else { return }
        nextCheckAt = now + tick
        let ticks = process.cpuTicks()
        if ticks != cpuTicks {
            cpuTicks = ticks
            if ticks >= 0 { lastProgress = now }
        }
        guard now - lastProgress >= command.timeout || now - started >= command.timeout * SystemCommandRunner.hardLimitFactor
        else { return }
        stopped = true
        status = process.stop()
        process.closePidfd()
        process.closeStream(true)
        process.closeStream(false)
    }
}

/// A spawned program: its pid, a pidfd when the kernel has them, and the read ends of its stdout and stderr.
private struct ChildProcess {
    let pid: pid_t
    var pidfd: Int32
    var stdout: Int32
    var stderr: Int32

    /// Pipes are made close-on-exec in a second step; holding this while starting keeps another runner's child
    /// from inheriting our write ends in between (it would hold our output open until it ends).
    private static let spawnLock = SpawnLock()

    /// Starts the program in a process group of its own (so a stop reaches its children too), stdin /dev/null.
    static func spawn(_ executable: String, _ argv: [String]) -> Result<ChildProcess, Errno> {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var out: [Int32] = [-1, -1], err: [Int32] = [-1, -1]
        guard pipe(&out) == 0 else { return .failure(Errno(code: errno)) }
        guard pipe(&err) == 0 else {
            let code = errno
            close(out[0]); close(out[1])
            return .failure(Errno(code: code))
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        for fd in [out[0], err[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

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
        // A clean signal state: a blocked or ignored SIGTERM (test runners, shells) would outlive the exec and
        // make the child deaf to the stop.
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, executable, &actions, &attributes, cArgs, environ)
        close(out[1])
        close(err[1])
        guard code == 0 else {
            close(out[0]); close(err[0])
            return .failure(Errno(code: code))
        }
        return .success(ChildProcess(pid: pid, pidfd: ProcessHandle.open(pid), stdout: out[0], stderr: err[0]))
    }

    mutating func closeStream(_ isStdout: Bool) {
        if isStdout, stdout >= 0 { close(stdout); stdout = -1 }
        if !isStdout, stderr >= 0 { close(stderr); stderr = -1 }
    }

    mutating func closePidfd() {
        if pidfd >= 0 { close(pidfd); pidfd = -1 }
    }

    /// The wait status once the child has ended (and is reaped), nil while it runs.
    func reap(blocking: Bool = false) -> Int32? {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if r == -1 && errno == EINTR { continue }
            if r == pid { return status }
            return r == -1 ? 0 : nil
        }
    }

    /// User plus system clock ticks so far (fields 14 and 15 of /proc/PID/stat), -1 when unreadable.
    func cpuTicks() -> Int {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1024)
        let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0, let paren = bytes[0..<n].lastIndex(of: UInt8(ascii: ")")) else { return -1 }
        // After "pid (comm)": state is field 3, utime 14, stime 15.
        let fields = bytes[(paren + 2)..<n].split(separator: UInt8(ascii: " "))
        guard fields.count > 12, let user = Int(String(decoding: fields[11], as: UTF8.self)),
              let system = Int(String(decoding: fields[12], as: UTF8.self)) else { return -1 }
        return user + system
    }

    func killGroup() { kill(-pid, SIGKILL) }

    /// SIGTERM to the process group, a second's grace, then SIGKILL; returns the wait status.
    func stop() -> Int32 {
        kill(-pid, SIGTERM)
        for _ in 0..<200 {
            if let status = reap() { return status }
            usleep(5_000)
        }
        kill(-pid, SIGKILL)
        return reap(blocking: true) ?? 0
    }
}

private struct Errno: Error {
    let code: Int32
}

/// A pthread mutex for the spawn step, at a fixed address.
private final class SpawnLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = .allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
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
