import Foundation
import TestSupport
@testable import DoctorCore
@testable import DoctorHost

/// The fixture roots under Fixtures/roots, copied into the test bundle as a resource.
enum Fixtures {
    static let monolithic = "monolithic-6.18"
    static let modular61 = "modular-6.1-nothing-loaded"
    static let modular510 = "modular-5.10-nf_log_ipv4"
    static let modular515 = "modular-5.15-nf_log_syslog"
    static let all = [monolithic, modular61, modular510, modular515]

    static var rootsPath: String {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("the Fixtures resource is missing from the test bundle")
        }
        return url.appendingPathComponent("roots").path
    }

    static func root(_ name: String) -> HostRoot { HostRoot(rootsPath + "/" + name) }

    static func context(_ root: HostRoot) -> ProbeContext {
        ProbeContext(host: root, runner: RecordedCommandRunner(), toolVersion: "test", now: "2025-01-01T00:00:00Z")
    }

    /// Runs `probes` in order on a fixture root.
    static func snapshot(_ name: String, _ probes: [any Probe]) -> HostSnapshot {
        snapshot(root(name), probes)
    }

    static func snapshot(_ root: HostRoot, _ probes: [any Probe]) -> HostSnapshot {
        var snapshot = HostSnapshot(root: root.path)
        for probe in probes { probe.collect(into: &snapshot, context: context(root)) }
        return snapshot
    }

    /// A writable copy of a fixture root in a fresh temporary folder; symbolic links are copied as links.
    static func copy(_ name: String) throws -> TemporaryRoot {
        let temp = try TemporaryRoot()
        let target = temp.path + "/" + name
        let cp = Process()
        cp.executableURL = URL(fileURLWithPath: "/bin/cp")
        cp.arguments = ["-a", rootsPath + "/" + name, target]
        try cp.run()
        cp.waitUntilExit()
        guard cp.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        temp.root = HostRoot(target)
        return temp
    }
}

/// A temporary folder removed when the value goes away.
final class TemporaryRoot {
    let path: String
    var root: HostRoot

    init() throws {
        let base = TestFolders.base.appendingPathComponent("ctdoctor-test-" + UUID().uuidString)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
        root = HostRoot(path)
    }

    /// Writes `text` at a host path inside the root, creating folders as needed.
    func write(_ hostPath: String, _ text: String) throws {
        let real = root.resolve(hostPath)
        try FileManager.default.createDirectory(
            atPath: (real as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: real, atomically: false, encoding: .utf8)
    }

    func remove(_ hostPath: String) throws {
        try FileManager.default.removeItem(atPath: root.resolve(hostPath, followLast: false))
    }

    func mkdir(_ hostPath: String) throws {
        try FileManager.default.createDirectory(atPath: root.resolve(hostPath), withIntermediateDirectories: true)
    }

    deinit {
        // Give back permissions a test may have taken away (a mode-000 folder cannot be listed or emptied),
        // then remove everything.
        Self.restorePermissions(path)
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func restorePermissions(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) != S_IFLNK else { return }
        chmod(path, 0o755)
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            restorePermissions(path + "/" + name)
        }
    }
}
