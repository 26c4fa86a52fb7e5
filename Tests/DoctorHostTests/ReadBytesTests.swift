import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

/// `HostRoot.readBytes` reads a page first and grows its reads (procfs zeroes a buffer as large as each read);
/// whatever the size, the bytes and the limit must come out as with one large read.
@Suite struct ReadBytesTests {
    static func text(_ count: Int) -> String {
        String((0..<count).map { i in Character(UnicodeScalar(UInt8(97 + i % 26))) })
    }

    @Test(arguments: [0, 1, 4095, 4096, 4097, 300_000])
    func aRegularFileComesBackWhole(_ size: Int) throws {
        let temp = try TemporaryRoot()
        try temp.write("/data", Self.text(size))
        #expect(temp.root.read("/data", limit: .configFile).value == Self.text(size))
    }

    /// /proc/kallsyms: megabytes a /proc file reports as size 0, read in growing chunks.
    @Test func aProcFileOfManyReadsComesBackWhole() throws {
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/kallsyms"))
        let expected = [UInt8](try handle.readToEnd() ?? Data())
        try handle.close()
        let read = try #require(HostRoot("/").readBytes("/proc/kallsyms", limit: .procListing).value)
        #expect(read.count == expected.count)
        // Compared as a Bool: a failing comparison of two 5 MB values would have the test library diff them.
        let same = read == expected
        #expect(same)
    }

    /// A device that never ends stops one byte past the limit, whatever the size of the reads by then.
    @Test(arguments: [1, 4096, 100_000, 3_000_000])
    func anEndlessDeviceStopsAtItsLimit(_ limit: Int) {
        let read = HostRoot("/").readBytes("/dev/zero", limit: ReadLimit(limit, "a test device"))
        #expect(read.value == nil)
        #expect(read.problem == "/dev/zero: \(ReadLimit(limit, "a test device"))")
    }

    @Test func aSysctlReadsAsTheFileSays() throws {
        let path = "/proc/sys/kernel/ostype"
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(HostRoot("/").read(path, limit: .sysctlValue).value == expected)
    }
}
