// /proc and /sys listings: nf_log, stat/nf_conntrack, slabinfo, modules, modules.dep, the netns link, sysctl values.
import DoctorCore
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    let (which, rest) = pick(bytes, among: 7)
    let input = text(rest)
    switch which {
    case 0: _ = NfLogProbe.parse(input)
    case 1: _ = ConntrackStatsProbe.parse(input)
    case 2: _ = SlabProbe.parse(input)
    case 3: _ = ModuleProbe.parseProcModules(input)
    case 4: _ = ModuleProbe.parseModulesDep(input, tree: "/lib/modules/6.18")
    case 5: _ = HostIdentityProbe.parseNetnsLink(input)
    default:
        // A sysctl value as checks read it: the table's typed lookups.
        let table = SysctlTable(entries: .value(["net.netfilter.nf_conntrack_max": SysctlEntry(value: .value(input.trimmingWhitespace()))]))
        _ = table.int("net.netfilter.nf_conntrack_max")
    }
}
