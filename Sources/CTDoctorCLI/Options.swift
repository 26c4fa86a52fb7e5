import ArgumentParser
import DoctorCore
import DoctorHost
import PolicyFile
import Foundation

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// The formats of a check report: JSON is the contract, the others are views of it for CI systems and people.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, junit, sarif, tap, prometheus, markdown
}

extension Severity: ExpressibleByArgument {}

struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read procfs and sysfs from this folder (a copied tree) instead of /.", valueName: "dir"))
    var root: String?

    @Option(name: .long, help: ArgumentHelp(
        "Check another network namespace: a name under /run/netns, or a process id (that process's namespace). Needs CAP_SYS_ADMIN for setns.",
        valueName: "name|pid"))
    var netns: String?

    @Option(name: .long, help: ArgumentHelp(
        "Read an unpacked sosreport: --root plus its sos_commands outputs (sysctl -a, lsmod, dmesg, firewall tables); the report lists what it could not fill.",
        valueName: "dir"))
    var sos: String?

    func validate() throws {
        if sos != nil && root != nil { throw ValidationError("--sos and --root cannot be used together: --sos is a --root that also reads sos_commands") }
        if netns != nil && (root != nil || sos != nil) {
            throw ValidationError("--netns cannot be used with --root or --sos: a copied tree has no namespaces")
        }
    }

    /// A copied tree is read: --root or --sos.
    var isCopy: Bool { root != nil || sos != nil }

    /// The source, opened once per command: folders checked, `--netns` entered.
    func open() throws(InputError) -> HostSource {
        try HostSource.open(root: root, sos: sos, netns: netns)
    }
}

extension HostSource {
    func takeSnapshot(_ collection: CollectionOptions) -> HostSnapshot {
        takeSnapshot(sample: collection.sample, deep: collection.deep)
    }

    /// An instant snapshot by default; a parsed CollectionOptions is needed for more, since an unparsed one cannot be read.
    func takeSnapshot(sample: Double = 0, deep: Bool = false) -> HostSnapshot {
        defer { if deep { Progress.clear() } }
        return takeSnapshot(now: Clock.nowISO8601(), sample: sample, deep: deep, progress: Progress.reporter())
    }
}

/// How much to collect from a live host beyond the instant reading.
struct CollectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Read the conntrack statistics twice, this many seconds apart, so checks judge what is happening now (rates) instead of lifetime totals. 0 (the default) reads them once and stays instant.",
        valueName: "seconds"))
    var sample: Double = 0

    @Flag(name: .long, help: "Also stream the conntrack table once (as `ctdoctor top` does) so checks can use its state histogram; takes about a second per 300,000 entries.")
    var deep = false

    func validate() throws {
        guard sample >= 0, sample <= 3600 else { throw ValidationError("--sample must be between 0 and 3600 seconds, got \(sample)") }
    }

    var isSet: Bool { sample > 0 || deep }

    /// "--sample" or "--deep", for messages about combinations that cannot work.
    var flags: String { [sample > 0 ? "--sample" : nil, deep ? "--deep" : nil].compactMap { $0 }.joined(separator: " and ") }
}

struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format; json is the stable contract, the others are views of it.")
    var format: ReportFormat = .text

    @Option(name: .long, help: ArgumentHelp("Write the report to this file (whole or not at all) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(name: .long, help: "No colour (also when NO_COLOR is set or the output is not a terminal).")
    var noColor = false

    @Flag(name: .long, help: "Text: show only failing checks.")
    var quiet = false

    @Flag(name: .long, help: "Text: explain every check, not only the failing ones.")
    var verbose = false

    func emit(_ text: String) throws(InputError) {
        if let output {
            try OutputFile.write(text, to: output)
        } else {
            try StandardOutput.write(text)
        }
    }

    var palette: Palette { Palette.forStandardOutput(noColorFlag: noColor || output != nil) }
}

struct SelectionOptions: ParsableArguments {
    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Run only these checks (ids, space- or comma-separated).", valueName: "id"))
    var only: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Skip these checks.", valueName: "id"))
    var skip: [String] = []

    static func split(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",").map { String($0).trimmingWhitespace() } }.filter { !$0.isEmpty }
    }

    func resolved(against checks: [any Check]) throws(InputError) -> (only: Set<String>?, skip: Set<String>) {
        let only = Self.split(self.only), skip = Self.split(self.skip)
        for (flag, ids) in [("--only", only), ("--skip", skip)] {
            if let unknown = CheckEngine.unknownIDs(ids, in: checks).first {
                throw InputError("\(flag): unknown check id '\(unknown)' (`ctdoctor checks` lists them)")
            }
        }
        return (only.isEmpty ? nil : Set(only), Set(skip))
    }
}

struct GateOptions: ParsableArguments {
    @Option(name: .long, help: "Exit 1 when a check fails at this severity or above.")
    var failOn: Severity = .error

    @Option(name: .long, help: ArgumentHelp("Exit 1 when the score is below this (0-100).", valueName: "n"))
    var minScore: Int?

    func validate() throws {
        if let minScore, !(0...100).contains(minScore) {
            throw ValidationError("--min-score must be between 0 and 100, got \(minScore)")
        }
    }

    @OptionGroup var policy: PolicyOption

    @Option(name: .long, help: ArgumentHelp(
        "An earlier JSON report: checks already failing in it do not trip --fail-on; only new failures do.",
        valueName: "report.json"))
    var baseline: String?

    /// The gate, with the baseline's failing checks read from its file.
    func gate() throws(InputError) -> Gate {
        Gate(failOn: failOn, minScore: minScore, baseline: try baseline.map { path throws(InputError) in try Baseline.load(path) } ?? [])
    }

    func loadPolicy(knownChecks: [any Check]) throws(InputError) -> Policy? {
        try policy.load(knownChecks: knownChecks)
    }
}

/// `--policy FILE`, for the commands that judge (`check`, `fix`) and those that list checks (`checks`, `explain`).
struct PolicyOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A site policy (YAML): expected net.netfilter values and modules, required checks, severities, waivers.",
        valueName: "file"))
    var policy: String?

    /// The policy file, parsed; nil without --policy.
    func load(knownChecks: [any Check]) throws(InputError) -> Policy? {
        guard let policy else { return nil }
        let raw = try InputFiles.read(policy, flag: "--policy", limit: .policy)
        do {
            return try PolicyParser.decode(raw, path: policy, knownChecks: Set(knownChecks.map(\.info.id)))
        } catch {
            throw InputError("--policy \(error)")
        }
    }
}

enum Clock {
    /// "2026-01-10T12:00:00Z". strftime rather than ISO8601DateFormatter, whose set-up cost a few milliseconds of
    /// every run.
    static func nowISO8601() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 32)
        let length = strftime(&text, text.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: text.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "2026-01-10": the day waivers are judged against (UTC).
    static func todayUTC() -> String { String(nowISO8601().prefix(10)) }
}
