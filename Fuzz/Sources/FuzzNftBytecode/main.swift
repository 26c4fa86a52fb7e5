// nf_tables rule bytecode as the kernel sends it (NFTA_RULE_EXPRESSIONS): read back into nft's statements, with
// anonymous set elements (the second half of the input, as NFTA_SET_ELEM_LIST_ELEMENTS) for every lookup, and
// the facts taken from them.
import DoctorCore
@testable import DoctorHost
import FuzzSupport
import Netfilter

runFuzzer { bytes in
    guard let first = bytes.first else { return }
    let family = ["ip", "ip6", "inet", "arp", "bridge", "netdev"][Int(first) % 6]
    let split = bytes.count / 2
    let expressions = Array(bytes[1..<max(1, split)])
    let elements = Array(bytes[split...])
    var code = NftBytecode(family: family)
    code.helperObjects = ["ftp-std"]
    code.elements = { _ in
        elements.withUnsafeBytes { raw in
            NetlinkAttributes(raw).filter { $0.type == 1 }.map { item in
                let e = item.nested
                return NftSetElement(key: e[1]?.nested[1]?.bytes ?? [], keyEnd: e[10]?.nested[1]?.bytes,
                                     intervalEnd: (e[3]?.bigEndian ?? 0) & 1 != 0, catchAll: (e[3]?.bigEndian ?? 0) & 2 != 0,
                                     verdict: e[2]?.nested[2].flatMap { NftBytecode.verdict($0.nested) },
                                     data: e[2]?.nested[1]?.bytes, object: e[9]?.string)
            }
        }
    }
    expressions.withUnsafeBytes { code.decode(NetlinkAttributes($0)) }
    let statements = NftStatements(code.result)
    var collector = NftCollector()
    collector.add(NftRuleset.Rule(family: family, table: "t", chain: "c", handle: 1, comment: nil, expr: code.result), statements, order: 0)
    var ruleset = Ruleset()
    _ = collector.finish(into: &ruleset)
}
