import DoctorCore
import Netfilter

/// Conntrack helper facts the module inventory does not hold: how many expectations exist now, and which
/// userspace helpers are registered. (Which kernel helpers exist is `ModuleProbe`'s, one module per helper family;
/// the `nf_conntrack_helper` auto-assign switch is a sysctl, read by `SysctlProbe` on kernels that still have it.)
/// Run after `KernelConfigProbe`.
public struct HelperProbe: CommandProbe {
    public let name = "conntrack helpers"

    /// One line per expectation (mode 0440: root only).
    public static let expectPath = "/proc/net/nf_conntrack_expect"
    public static let nfctCommand = ["nfct", "helper", "list"]
    public static let timeout = 5.0

    public init() {}

    /// `nfct helper list`'s output, kept whole (a few lines).
    public final class Output {
        var bytes: [UInt8] = []
    }

    /// On a live host the helpers are asked for over netlink, as nfct would: no process to start.
    public func commands(_ context: ProbeContext) -> (sink: Output, commands: [StreamedCommand]) {
        let output = Output()
        guard !context.host.isLive else { return (output, []) }
        return (output, [StreamedCommand(Self.nfctCommand, timeout: Self.timeout) { output.bytes.append(contentsOf: $0) }])
    }

    public func collect(into snapshot: inout HostSnapshot, context: ProbeContext) {
        var facts = HelperFacts()
        facts.expectations = context.host.read(Self.expectPath).map { text in
            ExpectationCount(
                count: text.split(whereSeparator: \.isNewline).filter { !$0.allSatisfy(\.isWhitespace) }.count,
                source: "\(Self.expectPath) (one line per expectation)")
        }
        let (output, results) = commandResults(context)
        if ModuleAutoload.wouldLoad("nfnetlink_cthelper", snapshot.modules) {
            // Userspace helpers register through nfnetlink_cthelper: with it on disk and not loaded there are none,
            // and asking (over netlink, or `nfct helper list`) would load it.
            facts.userspace = .value([])
        } else if context.host.isLive {
            facts.userspace = Self.userspaceOverNetlink()
        } else {
            let text = String(decoding: output.bytes, as: UTF8.self)
            facts.userspace = Self.userspace(CommandReading.outcome(Self.nfctCommand, results[0], stdout: text).map { _ in text },
                                             config: snapshot.kernelConfig)
        }
        snapshot.helpers = facts
    }

    static func userspaceOverNetlink() -> Reading<[String]> {
        do {
            return .value(try UserspaceHelpers.names())
        } catch {
            switch error.kind {
            case .permissionDenied: return .denied(error.description)
            case .unsupported, .operationNotSupported:
                return .absent("\(UserspaceHelpers.request.name): \(error.errnoName): this kernel has no nfnetlink_cthelper "
                    + "(CONFIG_NF_CT_NETLINK_HELPER): no userspace helpers")
            default: return .failed(error.description)
            }
        }
    }

    /// `nfct helper list` prints one `helper { .name = NAME, … }` block per userspace helper.
    static func userspace(_ reading: Reading<String>, config: KernelConfig) -> Reading<[String]> {
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
