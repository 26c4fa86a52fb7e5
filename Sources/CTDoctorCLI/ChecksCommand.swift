import ArgumentParser
import Checks
import DoctorCore
import DoctorHost
import Foundation

struct ChecksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checks", abstract: "List every check: id, weight and title.")

    @Option(name: .long, help: "Output format.") var format: OutputFormat = .text
    @OptionGroup var policy: PolicyOption

    struct Entry: Encodable {
        var id: String
        var title: String
        var weight: Int
        var rationale: String
        var references: [String]
    }

    /// The built-in checks, then those the policy file adds; without one, the kinds of check a policy can add.
    func run() throws {
        let loaded = try policy.load(knownChecks: Catalog.all)
        let infos = Catalog.all.map(\.info) + (loaded.map(PolicyEvaluator.checkInfos) ?? [])
        switch format {
        case .json:
            let entries = infos.map { Entry(id: $0.id, title: $0.title, weight: $0.weight, rationale: $0.rationale, references: $0.references) }
            try StandardOutput.write(try JSONReporter.encode(entries))
        case .text:
            let width = infos.map(\.id.count).max() ?? 0
            var text = infos.map { info in
                info.id.padding(toLength: width + 2, withPad: " ", startingAt: 0) + String(info.weight).leftPadded(3) + "  " + info.title + "\n"
            }.joined()
            if loaded == nil {
                text += "\nWith --policy FILE, a site policy adds checks of these kinds (`ctdoctor explain` tells more):\n"
                text += PolicyEvaluator.families.map { "  \($0.pattern)  \($0.meaning)\n" }.joined()
            }
            try StandardOutput.write(text)
        }
    }
}
