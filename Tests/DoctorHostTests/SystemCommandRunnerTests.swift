import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct SystemCommandRunnerTests {
    let runner = SystemCommandRunner()

    @Test func capturesOutputAndExitStatus() throws {
        let echo = try runner.run(["echo", "hello", "world"], timeout: 5).get()
        #expect(echo == CommandResult(exitStatus: 0, stdout: "hello world\n", stderr: ""))

        let failing = try runner.run(["sh", "-c", "echo out; echo err >&2; exit 3"], timeout: 5).get()
        #expect(failing.exitStatus == 3)
        #expect(failing.stdout == "out\n")
        #expect(failing.stderr == "err\n")
    }

    @Test func programNotOnPathIsNotFound() {
        let name = "ctdoctor-no-such-program-\(UUID().uuidString)"
        guard case .failure(.notFound(let program)) = runner.run([name], timeout: 5) else {
            Issue.record("expected notFound")
            return
        }
        #expect(program == name)
        guard case .failure(.notFound) = runner.run(["/nonexistent/bin/tool"], timeout: 5) else {
            Issue.record("expected notFound for a missing absolute path")
            return
        }
        guard case .failure(.notFound) = SystemCommandRunner(searchPath: []).run(["echo"], timeout: 5) else {
            Issue.record("expected notFound with an empty search path")
            return
        }
    }

    @Test func emptyCommandFailsToStart() {
        guard case .failure(.failedToStart) = runner.run([], timeout: 5) else {
            Issue.record("expected failedToStart")
            return
        }
    }

    @Test func slowProgramIsStoppedAtTheTimeout() {
        let clock = ContinuousClock()
        let start = clock.now
        let result = runner.run(["sleep", "5"], timeout: 0.5)
        let elapsed = clock.now - start
        #expect(result == .failure(.timedOut("sleep", seconds: 0.5)))
        #expect(elapsed < .seconds(2), "took \(elapsed)")
        #expect(elapsed >= .milliseconds(450), "returned before the timeout: \(elapsed)")
    }

    @Test func programLeavingAChildBehindReturnsByTheTimeout() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try runner.run(["sh", "-c", "sleep 30 & echo started"], timeout: 1).get()
        #expect(result.exitStatus == 0)
        #expect(result.stdout == "started\n")
        #expect(clock.now - start < .seconds(3))
    }

    @Test func killedBySignalIs128PlusTheSignal() throws {
        #expect(try runner.run(["sh", "-c", "kill -9 $$"], timeout: 5).get().exitStatus == 137)
    }

    @Test func largeOutputDoesNotBlock() throws {
        // Far more than a pipe buffer (64 KiB) on both streams at once.
        let result = try runner.run(
            ["sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' a; head -c 300000 /dev/zero | tr '\\0' b >&2"],
            timeout: 10
        ).get()
        #expect(result.exitStatus == 0)
        #expect(result.stdout.utf8.count == 1_000_000)
        #expect(result.stderr.utf8.count == 300_000)
    }

    @Test func recordedRunnerAnswersFromItsTable() {
        let recorded = RecordedCommandRunner([["nft", "-j", "list", "ruleset"]: .success(CommandResult(exitStatus: 0, stdout: "{}"))])
        #expect(recorded.run(["nft", "-j", "list", "ruleset"], timeout: 1) == .success(CommandResult(exitStatus: 0, stdout: "{}")))
        guard case .failure(.unavailable) = recorded.run(["iptables-save"], timeout: 1) else {
            Issue.record("expected unavailable")
            return
        }
    }
}
