import ArgumentParser
import Checks
import DoctorCore
import DoctorHost

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Why a check exists, what it looks at, and where to read more.")

    @Argument(help: ArgumentHelp("A check id, as `ctdoctor checks` lists them.", valueName: "id"))
    var id: String

    func run() throws {
        guard let info = Catalog.all.map(\.info).first(where: { $0.id == id }) else {
            throw InputError("explain: unknown check id '\(id)' (`ctdoctor checks` lists them)")
        }
        var out = ["\(info.id) — \(info.title)", "weight \(info.weight)", "", info.rationale]
        if !info.references.isEmpty {
            out += ["", "References:"] + info.references.map { "  \($0)" }
        }
        try StandardOutput.write(out.joined(separator: "\n") + "\n")
    }
}
