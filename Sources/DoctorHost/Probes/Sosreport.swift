import DoctorCore

/// What a copied root that is an unpacked sosreport keeps, and how evidence names it: a path relative to the
/// sosreport's root, without a leading slash, with the line when there is one ("sos_commands/kernel/lsmod:12").
extension HostRoot {
    /// A copied root with a `sos_commands` folder.
    public var isSosreport: Bool { !isLive && isDirectory("/sos_commands") }

    /// A file sos did not copy says nothing about the host: its absence becomes "not collected".
    public func collected<T>(_ reading: Reading<T>) -> Reading<T> {
        guard isSosreport, case .absent(let why) = reading else { return reading }
        return .notCollected("not in this sosreport (\(why))")
    }

    /// How evidence names a file read from this root: the host path on a live host or a copied tree, the path
    /// inside the sosreport (no leading slash) in a sosreport.
    public func cite(_ hostPath: String, line: Int? = nil) -> String {
        let name = isSosreport && hostPath.hasPrefix("/") ? String(hostPath.dropFirst()) : hostPath
        return line.map { "\(name):\($0)" } ?? name
    }
}

/// After every probe of a sosreport ran: what is absent because sos did not keep it is marked as not collected, so
/// checks skip rather than call the host's feature missing. Live-only facts (ctnetlink, the table dump) keep their
/// own "not a live host".
enum SosreportCoverage {
    static func mark(_ snapshot: inout HostSnapshot, _ host: HostRoot) {
        guard host.isSosreport else { return }
        snapshot.stats = host.collected(snapshot.stats)
        snapshot.nfLog.families = host.collected(snapshot.nfLog.families)
        snapshot.persisted = host.collected(snapshot.persisted)
        snapshot.dynamicDebug = host.collected(snapshot.dynamicDebug)
        snapshot.helpers.expectations = host.collected(snapshot.helpers.expectations)
        snapshot.conntrackSlab = host.collected(snapshot.conntrackSlab)
        snapshot.kernelLog = host.collected(snapshot.kernelLog)
    }
}
