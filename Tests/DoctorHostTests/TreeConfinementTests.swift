import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// A copied tree (`--root`, `--sos`) is read inside itself whatever links it holds (issue 15, item 7), and a file
/// whose name is not UTF-8 is read, not skipped (item 12).
@Suite struct TreeConfinementTests {
    let temp: TemporaryRoot
    let outside: String
    var host: HostRoot { temp.root }

    /// A tree under `temp/tree`, and beside it (outside the tree) a secret file and folder a link may aim at.
    init() throws {
        let dir = try TemporaryRoot()
        outside = dir.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside + "/conf.d", withIntermediateDirectories: true)
        try "SECRET\n".write(toFile: outside + "/secret", atomically: true, encoding: .utf8)
        try "net.netfilter.nf_conntrack_max = 1\n".write(toFile: outside + "/conf.d/evil.conf", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/tree/etc", withIntermediateDirectories: true)
        dir.root = HostRoot(dir.path + "/tree")
        temp = dir
    }

    func link(_ hostPath: String, to target: String) throws {
        let real = host.path + hostPath
        try FileManager.default.createDirectory(atPath: (real as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: real, withDestinationPath: target)
    }

    @Test func absoluteLinkIsTakenUnderTheTree() throws {
        try link("/sos_commands/host/hostname", to: outside + "/secret")
        #expect(host.read("/sos_commands/host/hostname").value == nil)
        #expect(host.read("/sos_commands/host/hostname").problem?.contains("No such file") == true)
        // The same absolute target inside the tree is what gets read.
        try temp.write(outside + "/secret", "tree's own\n")
        #expect(host.readTrimmed("/sos_commands/host/hostname").value == "tree's own")
        #expect(try String(contentsOfFile: outside + "/secret", encoding: .utf8) == "SECRET\n")
    }

    @Test func dotDotNeverClimbsAboveTheRoot() throws {
        let depth = host.path.split(separator: "/").count
        let up = String(repeating: "../", count: depth + 3)
        try link("/proc/sys/kernel/hostname", to: up + outside.dropFirst() + "/secret")
        #expect(host.read("/proc/sys/kernel/hostname").value == nil)
        #expect(host.read("/../../../../" + outside + "/secret").value == nil, "a host path with .. stays in the tree too")
        #expect(host.resolve("/a/../../../b") == host.path + "/b")
    }

    @Test func linkedFolderIsListedAndReadInsideTheTree() throws {
        try link("/etc/sysctl.d", to: outside + "/conf.d")
        #expect(host.list("/etc/sysctl.d").value == nil)
        var problems: [String] = []
        let files = ConfigDirectories(directories: ["/etc/sysctl.d"], suffix: ".conf").files(host, problems: &problems)
        #expect(files.isEmpty)
    }

    @Test func linkLoopEndsInAnErrorNotAHang() throws {
        try link("/proc/sys/net/netfilter/a", to: "b")
        try link("/proc/sys/net/netfilter/b", to: "/proc/sys/net/netfilter/a")
        try link("/proc/sys/net/netfilter/self", to: ".")
        let reading = host.read("/proc/sys/net/netfilter/a")
        #expect(reading.value == nil)
        #expect(reading.problem?.contains("symbolic links") == true, "\(String(describing: reading.problem))")
        #expect(host.read(String(repeating: "/proc/sys/net/netfilter/self", count: 1) + String(repeating: "/self", count: 50) + "/a").value == nil)
    }

    @Test func writesThroughLinksLandInTheTree() throws {
        try link("/etc/sysctl.d", to: outside + "/conf.d")
        #expect(host.makeDirectories("/etc/sysctl.d") == nil)
        #expect(host.write("/etc/sysctl.d/90-ctdoctor.conf", "x = 1\n", create: true) == nil)
        #expect(!FileManager.default.fileExists(atPath: outside + "/conf.d/90-ctdoctor.conf"), "nothing written outside")
        #expect(FileManager.default.fileExists(atPath: host.path + outside + "/conf.d/90-ctdoctor.conf"), "written under the tree")
        try link("/etc/victim", to: outside + "/secret")
        #expect(host.write("/etc/victim", "overwritten") != nil, "the re-rooted target does not exist, so nothing is written")
        #expect(host.remove("/etc/sysctl.d/90-ctdoctor.conf") == nil)
        #expect(try String(contentsOfFile: outside + "/secret", encoding: .utf8) == "SECRET\n")
        #expect(FileManager.default.fileExists(atPath: outside + "/conf.d/evil.conf"))
    }

    @Test func metadataAndReadLinkStayInside() throws {
        try link("/proc/self/ns/net", to: "net:[4026531833]")
        #expect(host.readLink("/proc/self/ns/net").value == "net:[4026531833]")
        #expect(host.exists("/proc/self/ns/net"), "a dangling link exists")
        try link("/etc/out", to: outside)
        #expect(!host.isDirectory("/etc/out"))
        #expect(host.mode("/etc/out/secret") == nil && host.inode("/etc/out/secret") == nil)
    }

    /// sosreport's links stored as plain files keep working, and an absolute one is re-rooted the same way.
    @Test func linksStoredAsFilesAreFollowedInsideTheTree() throws {
        try temp.write("/proc/self", "96008\n")
        try temp.write("/proc/96008/net/netfilter/nf_log", "2 NONE (nf_log_ipv4)\n")
        try temp.write("/proc/net", "self/net\n")
        #expect(host.read("/proc/net/netfilter/nf_log").value == "2 NONE (nf_log_ipv4)\n")
        try temp.write("/sys/stored", outside + "\n")
        #expect(host.read("/sys/stored/secret").value == nil)
    }

    /// Without openat2 the step-by-step open refuses any link on the way.
    @Test func fallbackRefusesLinksOnTheWay() throws {
        try link("/etc/out", to: outside)
        let root = open(host.path, O_RDONLY | O_DIRECTORY)
        defer { close(root) }
        let refused = HostRoot.openStepByStep(root, "etc/out/secret", O_RDONLY, mode: 0)
        let code = errno
        #expect(refused == -1)
        #expect(code == ELOOP || code == ENOTDIR, "\(code)")
        try temp.write("/etc/plain", "ok")
        let fd = HostRoot.openStepByStep(root, "etc/plain", O_RDONLY, mode: 0)
        #expect(fd >= 0)
        close(fd)
    }

    @Test func nameThatIsNotUTF8IsReadAndShownEscaped() throws {
        let dir = host.path + "/etc/sysctl.d"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let name: [UInt8] = Array("10-".utf8) + [0xFF, 0xC3] + Array(".conf".utf8)
        let fd = open(Array(dir.utf8).map { CChar(bitPattern: $0) } + [CChar(bitPattern: UInt8(ascii: "/"))]
                      + name.map { CChar(bitPattern: $0) } + [0], O_WRONLY | O_CREAT, 0o644)
        #expect(fd >= 0)
        _ = "net.netfilter.nf_conntrack_max = 65536\n".withCString { write(fd, $0, strlen($0)) }
        close(fd)
        var problems: [String] = []
        let files = ConfigDirectories(directories: ["/etc/sysctl.d"], suffix: ".conf").files(host, problems: &problems)
        #expect(files.count == 1)
        #expect(files.first?.path == "/etc/sysctl.d/10-\\xFF\\xC3.conf")
        #expect(files.first?.text.value == "net.netfilter.nf_conntrack_max = 65536\n")
    }
}
