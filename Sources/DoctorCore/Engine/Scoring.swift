import Foundation

/// The 0–100 score: each check that reached a verdict carries its weight; a failure takes away
/// weight × severity factor (info ¼, warning ½, error ¾, critical 1). Not-applicable, skipped and
/// error findings do not count; waived ones count as passed.
public enum Scoring {
    /// Fills each finding's `scoreImpact` (points lost, one decimal) and returns the score.
    public static func score(_ findings: inout [Finding]) -> Int {
        let counted = findings.filter { [.pass, .fail, .waived].contains($0.status) }
        let total = Double(counted.reduce(0) { $0 + $1.weight })
        guard total > 0 else {
            for i in findings.indices { findings[i].scoreImpact = 0 }
            return 100
        }
        var lost = 0.0
        for i in findings.indices {
            let f = findings[i]
            guard f.status == .fail, let severity = f.severity else {
                findings[i].scoreImpact = 0
                continue
            }
            let impact = 100 * Double(f.weight) * severity.scoreFactor / total
            lost += impact
            findings[i].scoreImpact = (impact * 10).rounded() / 10
        }
        return max(0, min(100, Int((100 - lost).rounded())))
    }
}
