// `nft -j list ruleset`: the JSON document and the facts taken from it.
import DoctorCore
@testable import DoctorHost
import FuzzSupport

runFuzzer { bytes in
    guard case .success(let document) = NftRuleset.decode(text(bytes)) else { return }
    var ruleset = Ruleset()
    _ = NftRuleset.collect(document, skipping: [], into: &ruleset)
}
