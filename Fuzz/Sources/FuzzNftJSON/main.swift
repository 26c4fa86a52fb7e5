// `nft -j list ruleset`: the JSON document, read item by item, and the facts taken from it.
import DoctorCore
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    var collector = NftCollector()
    var failed = false
    bytes.withUnsafeBytes { raw in
        do throws(NftRuleset.Unexpected) { try NftRuleset.read(raw, into: &collector) } catch { failed = true }
    }
    guard !failed else { return }
    var ruleset = Ruleset()
    _ = collector.finish(into: &ruleset)
}
