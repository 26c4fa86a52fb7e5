import DoctorCore
/// A command's standard output as a `Reading`, so a probe records why a tool said nothing:
/// not installed or not run (absent), not permitted (denied), hung, crashed or refused (failed).
enum CommandReading {
    static func stdout(_ argv: [String], runner: any CommandRunner, timeout: Double) -> Reading<String> {
        let result = runner.run(argv, timeout: timeout)
        let ended = result.map { StreamedResult(exitStatus: $0.exitStatus, stderr: $0.stderr) }
        return outcome(argv, ended, stdout: try? result.get().stdout).map { _ in (try? result.get().stdout) ?? "" }
    }

    /// How a command ended, as a reading: a value (its exit status, 0) when it succeeded, else why it said nothing.
    /// `stdout` is the output when the caller kept it, for a message a tool printed there instead of on stderr.
    static func outcome(_ argv: [String], _ result: Result<StreamedResult, CommandFailure>, stdout: String? = nil) -> Reading<Int32> {
        let line = ShellQuote.join(argv)
        switch result {
        case .failure(.notFound(let program)):
            return .absent("\(program) is not installed")
        case .failure(.unavailable(let why)):
            return .absent("\(line) not run: \(why)")
        case .failure(.timedOut(_, let seconds)):
            return .failed("\(line) made no progress (no output, no CPU time) for \(Self.seconds(seconds)) and was stopped "
                + "(a tool waiting for the xtables lock or for netlink hangs like this)")
        case .failure(.failedToStart(_, let why)):
            return .failed("\(line) could not start: \(why)")
        case .failure(.tooMuchOutput(_, let limit)):
            return .failed("\(line) printed output \(limit) and was stopped")
        case .success(let result) where result.exitStatus != 0:
            let said = Self.firstLine(result.stderr) ?? stdout.flatMap(Self.firstLine) ?? "no message"
            if Self.notPermitted(result.stderr) {
                return .denied("\(line): \(said)")
            }
            if Self.notSupported(result.stderr) {
                return .absent("\(line): \(said) (the kernel lacks what the tool needs, e.g. nf_tables)")
            }
            return .failed("\(line) exited with status \(result.exitStatus): \(said)")
        case .success(let result):
            return .value(result.exitStatus)
        }
    }

    /// The wordings of EPERM/EACCES from nft, iptables and nfct.
    static func notPermitted(_ stderr: String) -> Bool {
        ["Permission denied", "Operation not permitted", "you must be root"].contains { stderr.contains($0) }
    }

    /// EPROTONOSUPPORT / EOPNOTSUPP / EAFNOSUPPORT: a kernel built without the subsystem (nf_tables, x_tables).
    static func notSupported(_ stderr: String) -> Bool {
        ["Protocol not supported", "Operation not supported", "Address family not supported"].contains { stderr.contains($0) }
    }

    static func firstLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).map { String($0).trimmingWhitespace() }.first { !$0.isEmpty }
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}
