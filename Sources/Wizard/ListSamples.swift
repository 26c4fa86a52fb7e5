import Foundation
import DoctorCore

/// stuck flow: the unconfirmed and dying lists, sampled over time, read for the running kernel. Since 5.19 there is no
/// unconfirmed list to dump, and the dying list holds only entries whose DESTROY event a listener has not taken yet.
public enum ListSamples {
    public static let reworkedIn = KernelVersion(5, 19)

    public static func lines(_ samples: [ConntrackLists], kernel: KernelVersion?) -> [String] {
        let reworked = kernel.map { $0 >= reworkedIn }
        let name = kernel.map { "Linux \($0)" } ?? "a kernel of unknown version"
        var out: [String] = []
        for (n, l) in samples.enumerated() {
            let later = String(format: "%.1f", l.resampleSeconds)
            let dying = "dying \(l.dying.first) (still listed \(later) s later: \(l.dying.stillListed ?? 0))"
            let unconfirmed = reworked == true ? "unconfirmed: no such list on \(name)"
                : "unconfirmed \(l.unconfirmed.first) (still listed: \(l.unconfirmed.stillListed ?? 0))"
            out.append("sample \(n + 1): \(dying); \(unconfirmed)")
        }
        guard samples.count > 1 else { return out }
        let held = samples.map { $0.dying.stillListed ?? 0 }
        out.append("dying list, entries that stayed: " + held.map(String.init).joined(separator: " → "))
        if held.allSatisfy({ $0 > 0 }) {
            out.append(reworked == true
                ? "on \(name) the dying list holds entries whose DESTROY event could not be delivered: a listener with reliable delivery (conntrackd, a CNI) does not read its socket"
                : "entries stay on the dying list: something still holds a reference to them (a queued packet, a listener with reliable delivery)")
        }
        if reworked != true, samples.allSatisfy({ ($0.unconfirmed.stillListed ?? 0) > 0 }) {
            out.append("entries stay unconfirmed: packets held before conntrack confirms them (NFQUEUE without a verdict, a qdisc or a bridge holding them)")
        }
        return out
    }
}
