import ArgumentParser
import DoctorCore
import DoctorHost
import Foundation

public struct CTDoctor: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "ctdoctor",
        abstract: "Health check and fix-it for Linux connection tracking (conntrack) and NAT.",
        discussion: """
            With no command, runs `check` on the current network namespace.

            Exit status:
              0  no failure at or above --fail-on (default: error), and the score is
                 at least --min-score; waived checks and failures already in the
                 --baseline report do not count
              1  a failure at or above --fail-on, or the score is below --min-score
              2  usage or input error: a bad flag, an unknown check id, an unreadable
                 or foreign file, a malformed --policy (FILE:LINE:COLUMN: what is
                 wrong) or --baseline
              3  nothing could be judged: no selected check reached a verdict (each
                 ended in error, could not read its data or was not applicable),
                 or --skip left no check
            """,
        version: CTDoctorVersion.current,
        subcommands: [CheckCommand.self, FixCommand.self, WizardCommand.self, TopCommand.self, WatchCommand.self, ChecksCommand.self, ExplainCommand.self, SnapshotCommand.self],
        defaultSubcommand: CheckCommand.self
    )

    public init() {}
}

/// The process entry: parses, runs, and maps every way out to the documented exit status.
public enum CTDoctorCLI {
    public static func main(_ arguments: [String]? = nil) -> Never {
        let arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        EarlyReads.start(arguments)
        do {
            var command = try parse(arguments)
            try command.run()
            finish(0)
        } catch let error as InputError {
            printError("ctdoctor: \(error.message)")
            exit(Gate.Outcome.usageError.rawValue)
        } catch let code as ExitCode {
            finish(code.rawValue)
        } catch {
            let code = CTDoctor.exitCode(for: error)
            let message = CTDoctor.fullMessage(for: error)
            if code == .success {
                print(message)
                finish(0)
            }
            printError(message)
            // Argument-parser reports usage errors as 64 (EX_USAGE); ctdoctor documents 2.
            exit(code == .validationFailure ? Gate.Outcome.usageError.rawValue : code.rawValue)
        }
    }

    /// The command line, parsed. A line that names a subcommand first (or starts with an option, for the default
    /// `check`) is parsed by that subcommand alone: parsing through the whole tree builds every argument of `check`
    /// three times before it parses one, a fifth of a plain check's time. Whatever that parse does not accept as
    /// the subcommand itself (a mistake, --help, --version) is parsed again through the whole tree, which gives the
    /// documented message and status; the root has no options of its own, so a line both accept means the same.
    static func parse(_ arguments: [String]) throws -> any ParsableCommand {
        if let (subcommand, rest) = named(arguments),
           let command = try? subcommand.parseAsRoot(rest), type(of: command) == subcommand {
            return command
        }
        return try CTDoctor.parseAsRoot(arguments)
    }

    private static func named(_ arguments: [String]) -> (any ParsableCommand.Type, [String])? {
        let configuration = CTDoctor.configuration
        guard let first = arguments.first, !first.hasPrefix("-") else {
            return configuration.defaultSubcommand.map { ($0, arguments) }
        }
        return configuration.subcommands.first { $0.configuration.commandName == first }.map { ($0, Array(arguments.dropFirst())) }
    }

    /// Exits with `status`, unless what was printed cannot be written out: then the output is lost, which is an
    /// error (2) whatever the command found.
    static func finish(_ status: Int32) -> Never {
        do {
            try StandardOutput.flush()
        } catch {
            printError("ctdoctor: \(error.message)")
            exit(status == Gate.Outcome.couldNotRun.rawValue ? status : Gate.Outcome.usageError.rawValue)
        }
        exit(status)
    }

    /// One message on stderr; host text in it (a file name, a key from a policy file) is neutralised.
    static func printError(_ text: String) {
        let safe = Neutralise.text(text)
        // Nowhere left to report a failure to write standard error.
        _ = Descriptor.writeAll(STDERR_FILENO, safe.hasSuffix("\n") ? safe : safe + "\n")
    }
}
