/// The JSON contract `ctdoctor.report/1` (see DESIGN.md). Adding fields is fine; renaming or removing needs a new schema.
public struct Report: Codable, Sendable, Equatable {
    public static let schemaID = "ctdoctor.report/1"

    public struct Tool: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
    }

    public struct Netns: Codable, Sendable, Equatable {
        public var inode: UInt64?
        public var initial: Bool?
        public var name: String?
        /// How `initial` was decided.
        public var basis: String
        /// How `--netns` / `--all-netns` reached it; absent for a plain run.
        public var found: String?
    }

    public struct Host: Codable, Sendable, Equatable {
        public var hostname: String?
        public var kernel: String?
        public var netns: Netns
        /// The folder read ("/" on a live host), or the snapshot file checked.
        public var source: String
    }

    /// Counts per status, always with all six keys.
    public struct Summary: Codable, Sendable, Equatable {
        public var counts: [CheckStatus: Int]

        public init(_ findings: [Finding]) {
            counts = Dictionary(uniqueKeysWithValues: CheckStatus.allCases.map { s in (s, findings.filter { $0.status == s }.count) })
        }

        public subscript(_ status: CheckStatus) -> Int { counts[status] ?? 0 }

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: Key.self)
            var counts: [CheckStatus: Int] = [:]
            for status in CheckStatus.allCases {
                counts[status] = try c.decodeIfPresent(Int.self, forKey: Key(stringValue: status.rawValue)) ?? 0
            }
            self.counts = counts
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            for status in CheckStatus.allCases {
                try c.encode(self[status], forKey: Key(stringValue: status.rawValue))
            }
        }
    }

    public var schema: String
    public var tool: Tool
    public var host: Host
    public var takenAt: String
    public var score: Int
    public var summary: Summary
    public var findings: [Finding]
    /// `check --sos`: each part of the snapshot the sosreport could not fill, and why (`Coverage.unfilled`).
    public var unfilled: [String]?
    /// Where values came from when that matters (a sosreport's two readings of one sysctl).
    public var notes: [String]?
    /// What `ctdoctor fix` would do about the findings, in order, each step once, held steps with why: the plan the
    /// text report's commands and the `fix` script print. Absent in reports written before it was added.
    public var plan: FixPlan?

    public init(snapshot: HostSnapshot, findings: [Finding], source: String? = nil) {
        var scored = findings
        score = Scoring.score(&scored)
        self.findings = scored
        summary = Summary(scored)
        schema = Self.schemaID
        tool = Tool(name: "ctdoctor", version: CTDoctorVersion.current)
        takenAt = snapshot.takenAt
        let ns = snapshot.host.netns
        host = Host(
            hostname: snapshot.host.hostname.value,
            kernel: snapshot.host.kernelRelease.value,
            netns: Netns(inode: ns.inode.value, initial: ns.initial, name: ns.name, basis: ns.basis, found: ns.found),
            source: source ?? snapshot.root)
        notes = snapshot.sourceNotes
        plan = FixPlan(findings: scored, includeDisruptive: false, initialNamespace: ns.initial)
    }
}

public enum CTDoctorVersion {
    public static let current = "0.1.0"
}
