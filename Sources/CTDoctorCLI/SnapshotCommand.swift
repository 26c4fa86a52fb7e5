import ArgumentParser
import DoctorCore
import DoctorHost

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Write everything the checks need as JSON, to check later or elsewhere with `check --snapshot`.")

    @OptionGroup(title: "Source") var source: SourceOptions
    @OptionGroup(title: "Collection") var collection: CollectionOptions

    @Option(name: .long, help: ArgumentHelp("Write to this file (whole or not at all) instead of standard output.", valueName: "file"))
    var output: String?

    func validate() throws {
        if collection.isSet && source.isCopy {
            throw ValidationError("\(collection.flags) cannot be used with --root: they need the running kernel")
        }
    }

    func run() throws {
        let text = try JSONReporter.encode(try source.open().takeSnapshot(collection))
        if let output {
            try OutputFile.write(text, to: output)
        } else {
            try StandardOutput.write(text)
        }
    }
}
