import DoctorCore
/// Conntrack helper facts the module inventory does not hold: how many expectations exist now, and which
/// userspace helpers are registered. (Which kernel helpers exist is `ModuleProbe`'s, one module per helper family;
/// the `nf_conntrack_helper` auto-assign switch is a sysctl, read by `SysctlProbe` on kernels that still have it.)
/// Run after `KernelConfigProbe`.
public struct HelperProbe: Probe {
    public let name = "conntrack helpers"

    /// One line per expectation (mode 0440: root only).
    public static let expectPath = "/proc/net/nf_conntrack_expect"
    public static let nfctCommand = ["nfct", "helper", "list"]
    public static let timeout = 5.0

    public init() {}

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        var facts = HelperFacts()
        facts.expectations = context.host.read(Self.expectPath).map { text in
            ExpectationCount(
                count: text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }.count,
                source: "\(Self.expectPath) (one line per expectation)")
        }
        // Userspace helpers register through nfnetlink_cthelper: with it on disk and not loaded there are none, and
        // asking (`nfct helper list`) would load it.
        facts.userspace = ModuleAutoload.wouldLoad("nfnetlink_cthelper", snapshot.modules)
            ? .value([]) : Self.userspace(context, config: snapshot.kernelConfig)
        snapshot.helpers = facts
    }

    /// `nfct helper list` prints one `helper { .name = NAME, … }` block per userspace helper.
    static func userspace(_ context: ProbeContext, config: KernelConfig) -> Reading<[String]> {
        let reading = CommandReading.stdout(nfctCommand, runner: context.runner, timeout: timeout)
        if case .failed(let why) = reading, config.tristate("CONFIG_NF_CT_NETLINK_HELPER") == .notSet {
            return .absent("\(why) (this kernel is built without CONFIG_NF_CT_NETLINK_HELPER: no userspace helpers)")
        }
        return reading.map(parseNfct)
    }

    static func parseNfct(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let trimmed = String(line).trimmingWhitespace()
            guard trimmed.hasPrefix(".name = ") else { return nil }
            let name = trimmed.dropFirst(".name = ".count).prefix { $0 != "," }
            return String(name).trimmingWhitespace()
        }
    }
}
