/// `check --all-netns --format json`: one document holding one ordinary `ctdoctor.report/1` per network namespace,
/// in the order they were found, each naming its namespace in `host.netns` (inode, name, `found`).
public struct NamespaceReports: Codable, Sendable, Equatable {
    public static let schemaID = "ctdoctor.netns-reports/1"

    public var schema: String
    public var reports: [Report]

    public init(_ reports: [Report]) {
        schema = Self.schemaID
        self.reports = reports
    }
}

extension Gate {
    /// The exit status for several namespaces at once: 1 when any trips the gate, else 3 when any could not be
    /// judged at all, else 0.
    public func outcome(for reports: [Report]) -> Outcome {
        let outcomes = reports.map(outcome(for:))
        if outcomes.contains(.thresholdReached) { return .thresholdReached }
        if outcomes.contains(.couldNotRun) { return .couldNotRun }
        return .ok
    }
}
