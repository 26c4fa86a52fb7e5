import DoctorCore

/// What a copied root that is an unpacked sosreport keeps, and how evidence names it: a path relative to the
/// sosreport's root, without a leading slash, with the line when there is one ("sos_commands/kernel/lsmod:12").
extension HostRoot {
    /// A copied root with a `sos_commands` folder.
    public var isSosreport: Bool { !isLive && isDirectory("/sos_commands") }

    /// How evidence names a file read from this root: the host path on a live host or a copied tree, the path
    /// inside the sosreport (no leading slash) in a sosreport.
    public func cite(_ hostPath: String, line: Int? = nil) -> String {
        let name = isSosreport && hostPath.hasPrefix("/") ? String(hostPath.dropFirst()) : hostPath
        return line.map { "\(name):\($0)" } ?? name
    }
}
