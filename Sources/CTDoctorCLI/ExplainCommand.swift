import ArgumentParser
import Checks
import DoctorCore
import DoctorHost

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Why a check exists, what it looks at, and where to read more.")

    @Argument(help: ArgumentHelp("A check id, as `ctdoctor checks` lists them.", valueName: "id"))
    var id: String

    @OptionGroup var policy: PolicyOption

    func run() throws {
        let loaded = try policy.load(knownChecks: Catalog.all)
        let infos = Catalog.all.map(\.info) + (loaded.map(PolicyEvaluator.checkInfos) ?? [])
        guard let info = infos.first(where: { $0.id == id }) else {
            if let family = PolicyEvaluator.families.first(where: { id.hasPrefix($0.pattern.prefix { $0 != "<" }) }) {
                print("\(id) — a site policy check: \(family.meaning).\n\nIt exists only with the --policy file that names it; "
                    + "`ctdoctor explain \(id) --policy FILE` shows where that file sets it.")
                return
            }
            throw InputError("explain: unknown check id '\(id)' (`ctdoctor checks` lists them)")
        }
        var out = ["\(info.id) — \(info.title)", "weight \(info.weight)", "", info.rationale]
        if !info.references.isEmpty {
            out += ["", "References:"] + info.references.map { "  \($0)" }
        }
        try StandardOutput.write(out.joined(separator: "\n") + "\n")
    }
}
