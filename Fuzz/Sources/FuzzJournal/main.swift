// `fix --undo JOURNAL`: the decoding Journal.load does, then what undo prints of each entry.
import DoctorCore
import DoctorHost
import Foundation
import FuzzSupport

runFuzzer { bytes in
    guard let journal = try? JSONDecoder().decode(Journal.self, from: Data(bytes)) else { return }
    for entry in journal.entries {
        _ = Neutralise.text("\(entry.checkID) \(entry.purpose) \(entry.previous ?? "") \(entry.message ?? "")")
        _ = entry.undo.map(ShellQuote.join)
    }
}
