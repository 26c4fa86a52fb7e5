import DoctorCore

/// The files named on the command line (`--snapshot`, `--baseline`), read from the host and decoded by the core.
extension SnapshotFile {
    public static func load(_ path: String) throws(InputError) -> HostSnapshot {
        try decode(InputFiles.read(path, flag: "--snapshot"), path: path)
    }
}

extension Baseline {
    /// The ids of the checks that failed in the report at `path`.
    public static func load(_ path: String) throws(InputError) -> Set<String> {
        try decode(InputFiles.read(path, flag: "--baseline"), path: path)
    }
}

/// Reads a file named by a flag, for the core to decode; the error names the flag and the file.
public enum InputFiles {
    public static func read(_ path: String, flag: String) throws(InputError) -> [UInt8] {
        let bytes = HostRoot("/").readBytes(path)
        guard let raw = bytes.value else {
            throw InputError("\(flag) \(path): cannot read: \(SnapshotFile.errnoText(bytes.problem ?? "", path: path))")
        }
        return raw
    }
}
