/// Runs checks over a snapshot. Every selected check yields exactly one finding, whatever its status, so a report
/// always tells "passed" from "not run"; with `only`, the report holds those checks and no others.
public enum CheckEngine {
    public static let skippedOnRequest = "skipped on request (--skip)"

    public static func run(
        _ checks: [any Check], on snapshot: HostSnapshot,
        only: Set<String>? = nil, skip: Set<String> = []
    ) -> [Finding] {
        checks.filter { only?.contains($0.info.id) ?? true }.map { check in
            let info = check.info
            if skip.contains(info.id) { return info.skipped(skippedOnRequest) }
            return check.evaluate(snapshot)
        }
    }

    /// Ids among `requested` that no check has; the caller reports them as a usage error.
    public static func unknownIDs(_ requested: [String], in checks: [any Check]) -> [String] {
        let known = Set(checks.map(\.info.id))
        return requested.filter { !known.contains($0) }
    }
}
