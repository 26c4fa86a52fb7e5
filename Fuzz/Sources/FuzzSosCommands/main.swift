// Recorded command output a sosreport holds, and other files read whole: conntrack -S, lsmod, dynamic debug control,
// nfct helper list, sysctl -a, sysctl.d lines, a kernel config, gzip (/proc/config.gz), `conntrack -L -o extended`
// (or OVS's dpctl/dump-conntrack) with conntrack's summary spliced in, OVS's dpctl/ct-stats-show, `uptime`,
// `hostnamectl status` and /proc/PID/status.
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    let (which, rest) = pick(bytes, among: 13)
    let input = text(rest)
    switch which {
    case 0: _ = ConntrackStatsProbe.parseConntrackS(input, source: "conntrack -S")
    case 1: _ = ModuleProbe.parseProcModules(input)
    case 2: _ = DynamicDebugProbe.parse(input, control: "/proc/dynamic_debug/control")
    case 3: _ = HelperProbe.parseNfct(input)
    case 4: _ = SysctlProbe.parseSysctlA(input, cite: "sysctl -a")
    case 5: for line in input.split(separator: "\n") { _ = PersistenceProbe.parseSysctl(String(line)) }
    case 6: _ = KernelConfigProbe.parse(input)
    case 7: _ = Gzip.decompress(rest)
    case 8: _ = ConntrackListingProbe.parse(input, source: "conntrack -L -o extended")
    case 9: _ = ConntrackListingProbe.parseCtStats(input, source: "dpctl/ct-stats-show")
    case 10: _ = HostIdentityProbe.parseUptime(input)
    case 11: _ = HostIdentityProbe.hostnamectlKernel(input)
    default: _ = HostIdentityProbe.capNetAdmin(status: input)
    }
}
