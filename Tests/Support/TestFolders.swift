import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The folder every test's temporary files go under: one per test process, removed when the process exits, so a
/// test run leaves nothing behind in /tmp (a full run made about 330 folders there).
public enum TestFolders {
    public static let base: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ctd-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { TestFolders.removeAll() }
        return url
    }()

    private static func removeAll() {
        try? FileManager.default.removeItem(at: base)
    }
}
