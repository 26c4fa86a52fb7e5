import Foundation
import TestSupport
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// Tools that hang, print garbage or never stop printing: the ruleset probe records each as a failed source with the
/// reason, keeps reading the others, and never hangs or grows (issue 15, fault injection).
@Suite struct FaultInjectionTests {
    /// A folder of fake tools, the only place the runner looks.
    static func tools(_ scripts: [String: String]) throws -> String {
        let dir = TestFolders.base.appendingPathComponent("ctd-tools-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, body) in scripts {
            // Written through a close-on-exec descriptor: one inherited by a child another test spawns meanwhile
            // would make executing the script fail with ETXTBSY.
            let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_CLOEXEC, 0o755)
            let bytes = Array(("#!/bin/sh\n" + body + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        return dir
    }

    /// The probe on a root that is not the live host, so it reads the tools (on the live host it asks the kernel
    /// first, and nf_tables over netlink instead of nft).
    static func ruleset(_ scripts: [String: String]) throws -> Ruleset {
        let dir = try tools(scripts)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let context = ProbeContext(host: HostRoot(dir), runner: SystemCommandRunner(searchPath: [dir]), toolVersion: "test", now: "t")
        var snapshot = HostSnapshot()
        RulesetProbe().collect(into: &snapshot, context: context)
        return snapshot.ruleset
    }

    static func source(_ ruleset: Ruleset, _ origin: String) -> Reading<Int>? {
        ruleset.sources.first { $0.origin.hasPrefix(origin) }?.rules
    }

    @Test func garbageFromNftIsAFailedSourceNamingTheProblem() throws {
        let ruleset = try Self.ruleset([
            "nft": #"printf '{"nftables": [{"rule": 12, \033[2J garbage'"#,
            "iptables-legacy-save": "printf '*filter\\n:INPUT ACCEPT [0:0]\\n-A INPUT -j DROP\\nCOMMIT\\n'",
        ])
        guard case .failed(let why)? = Self.source(ruleset, "nft") else { Issue.record("\(ruleset.sources)"); return }
        #expect(why.contains("output is not the JSON expected"), "\(why)")
        #expect(Self.source(ruleset, "iptables-legacy-save") == .value(1), "the other tools are still read")
        #expect(Self.source(ruleset, "iptables-nft-save")?.problem?.contains("not installed") == true)
    }

    @Test func garbageOnStderrWithAFailureIsNeutralisedWhenShown() throws {
        let ruleset = try Self.ruleset(["nft": "printf 'oops\\033]0;pwned\\007\\n' >&2; exit 1"])
        guard case .failed(let why)? = Self.source(ruleset, "nft") else { Issue.record("\(ruleset.sources)"); return }
        #expect(why.contains("exited with status 1: oops"), "\(why)")
        #expect(!Neutralise.text(why).unicodeScalars.contains { Neutralise.isUnsafe($0) })
    }

    /// iptables waiting for the xtables lock hangs like this: stopped after the probe's timeout without progress, the
    /// others still read.
    @Test func hangingToolIsStoppedAtTheTimeout() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let ruleset = try Self.ruleset(["iptables-legacy-save": "exec sleep 60", "nft": "printf '{\"nftables\": []}'"])
        #expect(clock.now - start < .seconds(RulesetProbe.timeout + 5))
        guard case .failed(let why)? = Self.source(ruleset, "iptables-legacy-save") else { Issue.record("\(ruleset.sources)"); return }
        #expect(why.contains("made no progress (no output, no CPU time) for 10 s and was stopped"), "\(why)")
        #expect(Self.source(ruleset, "nft") == .value(0))
    }

    @Test func endlessOutputIsCutAtTheLimit() throws {
        var runner = SystemCommandRunner()
        runner.outputLimit = ReadLimit(1 << 20, "a test's output")
        let clock = ContinuousClock()
        let start = clock.now
        let reading = CommandReading.stdout(["yes", "a rule"], runner: runner, timeout: 30)
        #expect(clock.now - start < .seconds(10))
        #expect(reading.problem?.contains("printed output larger than the 1 MiB limit for a test's output and was stopped") == true,
                "\(String(describing: reading.problem))")
    }
}
