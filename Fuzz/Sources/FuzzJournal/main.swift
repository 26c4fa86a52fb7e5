// `fix --undo JOURNAL`: the decoding Journal.load does, whether its namespace stamp tells it from this namespace, the
// allow-list that decides whether each entry may be undone (a forged journal is outside input: its commands go through
// ChangePolicy's nft/iptables/modprobe parsers), then what undo prints of each entry.
import DoctorCore
@testable import DoctorHost
import Foundation
import FuzzSupport

let stamp = NamespaceStamp(bootID: "df107890-dbdb-457e-8216-d6642738ae61", initial: false, madeAt: 1_795_676_768.5)

runFuzzer { bytes in
    guard let journal = try? JSONDecoder().decode(Journal.self, from: Data(bytes)) else { return }
    _ = stamp.refusal(undoing: journal)
    for entry in journal.entries {
        _ = ChangePolicy.refusal(undoing: entry)
        if let undo = entry.undo { _ = ChangePolicy.Command.parse(undo) }
        _ = Neutralise.text("\(entry.checkID) \(entry.purpose) \(entry.previous ?? "") \(entry.message ?? "")")
        _ = entry.undo.map(ShellQuote.join)
    }
}
