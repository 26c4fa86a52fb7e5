/// How much of one file ctdoctor reads before calling it too large for what it should be. Every read has one, so a
/// `/dev/zero`, a 1 GB file in a copied tree or a FIFO that never ends costs at most the limit, never the machine.
public struct ReadLimit: Sendable, Equatable, CustomStringConvertible {
    public var bytes: Int
    /// What the file should be, for the message: "a sysctl value".
    public var kind: String

    public init(_ bytes: Int, _ kind: String) {
        self.bytes = bytes
        self.kind = kind
    }

    public static let kiB = 1024, miB = 1024 * 1024

    /// One /proc/sys file: the kernel caps them at a page; 64 KiB leaves room for copied trees.
    public static let sysctlValue = ReadLimit(64 * kiB, "a sysctl value")
    /// /proc listings (modules, mounts, slabinfo, nf_log, per-CPU statistics, expectations) and recorded command output.
    public static let procListing = ReadLimit(16 * miB, "a /proc listing")
    /// A configuration file (sysctl.d, modprobe.d, modules-load.d, a kernel config, modules.dep).
    public static let configFile = ReadLimit(16 * miB, "a configuration file")
    /// The kernel log: dmesg, kern.log, a sosreport's dmesg; the largest ring buffer is 32 MiB.
    public static let kernelLog = ReadLimit(64 * miB, "a kernel log")
    /// A sosreport's recorded command output (sysctl -a, conntrack -S, iptables -nvL, lsmod).
    public static let commandOutput = ReadLimit(64 * miB, "a recorded command output")
    /// The dynamic-debug control file: one line per pr_debug site of the kernel and its modules.
    public static let dynamicDebug = ReadLimit(64 * miB, "a dynamic-debug control file")
    /// `--snapshot`: the table dump is a fixed-size summary, so a real snapshot is well under a megabyte.
    public static let snapshot = ReadLimit(64 * miB, "a snapshot")
    /// `--baseline`: a JSON report.
    public static let report = ReadLimit(64 * miB, "a report")
    /// `--policy`: a site policy is a page or two of YAML.
    public static let policy = ReadLimit(1 * miB, "a policy file")
    /// `fix --undo`: a journal holds one entry per step.
    public static let journal = ReadLimit(16 * miB, "a journal")

    /// "16 MiB".
    public var size: String {
        bytes >= Self.miB && bytes % Self.miB == 0 ? "\(bytes / Self.miB) MiB"
            : bytes >= Self.kiB && bytes % Self.kiB == 0 ? "\(bytes / Self.kiB) KiB" : "\(bytes) bytes"
    }

    /// "larger than the 64 KiB limit for a sysctl value".
    public var description: String { "larger than the \(size) limit for \(kind)" }
}
