import DoctorHost
import Foundation
import Testing

/// Every shell script in the repository (CI, install, fuzzing, kernels, scenarios, benchmarks) passes shellcheck at
/// its strictest level; a deliberate word split carries a directive that says why.
struct ShellScriptTests {
    /// Tracked files whose first line names sh or bash.
    static func scripts() throws -> [String] {
        let root = Binary.packageRoot.path
        let listed = try SystemCommandRunner().run(["git", "-C", root, "ls-files"], timeout: 30).get()
        return listed.stdout.split(separator: "\n").map { root + "/" + $0 }.filter { path in
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            let head = String(decoding: (try? handle.read(upToCount: 64)) ?? Data(), as: UTF8.self)
            guard head.hasPrefix("#!"), let line = head.split(separator: "\n").first else { return false }
            return line.hasSuffix("/sh") || line.hasSuffix("bash") || line.hasSuffix(" sh")
        }
    }

    @Test func everyShellScriptPassesShellcheck() throws {
        let scripts = try Self.scripts()
        #expect(scripts.contains { $0.hasSuffix("/.ci/run") } && scripts.contains { $0.hasSuffix("/Fuzz/run") },
                "\(scripts)")
        guard SystemCommandRunner().locate("shellcheck") != nil else {
            Issue.record("shellcheck is not installed: scripts/install-deps installs it")
            return
        }
        let lint = try SystemCommandRunner().run(["shellcheck", "-S", "info"] + scripts, timeout: 120).get()
        #expect(lint.exitStatus == 0, "\(lint.stdout)\(lint.stderr)")
    }
}
