// Recorded command output a sosreport holds, and other files read whole: conntrack -S, lsmod, dynamic debug control,
// nfct helper list, sysctl -a, sysctl.d lines, a kernel config, and gzip (/proc/config.gz).
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    let (which, rest) = pick(bytes, among: 8)
    let input = text(rest)
    switch which {
    case 0: _ = ConntrackStatsProbe.parseConntrackS(input, source: "conntrack -S")
    case 1: _ = ModuleProbe.parseProcModules(input)
    case 2: _ = DynamicDebugProbe.parse(input, control: "/proc/dynamic_debug/control")
    case 3: _ = HelperProbe.parseNfct(input)
    case 4: _ = SysctlProbe.parseSysctlA(input, cite: "sysctl -a")
    case 5: for line in input.split(separator: "\n") { _ = PersistenceProbe.parseSysctl(String(line)) }
    case 6: _ = KernelConfigProbe.parse(input)
    default: _ = Gzip.decompress(rest)
    }
}
