// iptables-save output (either backend) and sosreport's `iptables -t TABLE -nvL` listings, and the facts taken from them.
import DoctorCore
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    let (which, rest) = pick(bytes, among: 2)
    var ruleset = Ruleset()
    if which == 0 {
        let save = IptablesSave.parse(text(rest))
        _ = XtFacts.collect(save.tables, backend: .iptablesLegacy, family: "ip", command: "iptables-legacy", into: &ruleset)
    } else {
        let table = IptablesListing.parse(text(rest), table: "nat")
        _ = XtFacts.collect([table], backend: .iptables, family: "ip", command: nil, into: &ruleset)
    }
}
