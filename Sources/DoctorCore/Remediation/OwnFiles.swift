/// ctdoctor's own boot files: it writes them whole, keeping what it wrote there before, and no other file.
public enum OwnFiles {
    public static let sysctl = "/etc/sysctl.d/90-ctdoctor.conf"
    public static let modulesLoad = "/etc/modules-load.d/ctdoctor.conf"
    public static let all: Set<String> = [sysctl, modulesLoad]

    static let header = """
        # Written by ctdoctor (fix --persist). ctdoctor owns this file and rewrites it, keeping the entries
        # already here; put settings of your own in another file.

        """

    /// 90-ctdoctor.conf with `assignments` added to (or replacing) the keys it already sets.
    public static func sysctlContents(adding assignments: [(key: String, value: String)], persisted: PersistedSettings?) -> String {
        var values: [String: String] = [:]
        for (key, entry) in persisted?.sysctls ?? [:] {
            if entry.file == sysctl {
                values[key] = entry.value
            } else if let ours = entry.overrides.last(where: { $0.file == sysctl }) {
                values[key] = ours.value
            }
        }
        for (key, value) in assignments { values[key] = value }
        return header + values.keys.sorted().map { "\($0) = \(values[$0]!)\n" }.joined()
    }

    /// ctdoctor.conf in modules-load.d with `modules` added to those it already lists.
    public static func modulesLoadContents(adding modules: [String], persisted: PersistedSettings?) -> String {
        let listed = (persisted?.modulesLoad ?? []).filter { $0.file == modulesLoad }.map(\.value)
        return header + Set(listed + modules).sorted().map { "\($0)\n" }.joined()
    }
}
