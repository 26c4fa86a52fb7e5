import ArgumentParser
import Checks
import DoctorCore
import DoctorHost
import Foundation

struct ChecksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checks", abstract: "List every check: id, weight and title.")

    @Option(name: .long, help: "Output format.") var format: OutputFormat = .text

    struct Entry: Encodable {
        var id: String
        var title: String
        var weight: Int
        var rationale: String
        var references: [String]
    }

    func run() throws {
        let infos = Catalog.all.map(\.info)
        switch format {
        case .json:
            let entries = infos.map { Entry(id: $0.id, title: $0.title, weight: $0.weight, rationale: $0.rationale, references: $0.references) }
            try StandardOutput.write(try JSONReporter.encode(entries))
        case .text:
            let width = infos.map(\.id.count).max() ?? 0
            try StandardOutput.write(infos.map { info in
                info.id.padding(toLength: width + 2, withPad: " ", startingAt: 0) + String(info.weight).leftPadded(3) + "  " + info.title + "\n"
            }.joined())
        }
    }
}
