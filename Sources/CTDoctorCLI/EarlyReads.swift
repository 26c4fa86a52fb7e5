import DoctorHost

/// Reads a live snapshot needs whatever its options say, started before the command line is parsed so that they
/// and the parse (a fifth of a plain check) run side by side.
enum EarlyReads {
    static func start(_ arguments: [String]) {
        if takesLiveSnapshot(arguments) { KernelLogProbe.startEarly() }
    }

    /// Whether the command line most likely asks for a snapshot of the live host: `check` (named or by default),
    /// `fix` or `snapshot`, without an option that names another source or asks for help. A wrong guess costs one
    /// read and never changes a result: the early read serves only a snapshot of the live host.
    static func takesLiveSnapshot(_ arguments: [String]) -> Bool {
        let elsewhere = ["--root", "--sos", "--snapshot", "--undo", "-h", "--help", "--version"]
        if arguments.contains(where: { word in elsewhere.contains { word == $0 || word.hasPrefix($0 + "=") } }) { return false }
        guard let first = arguments.first, !first.hasPrefix("-") else { return true }
        return ["check", "fix", "snapshot"].contains(first)
    }
}
