/// The command a person would run for the same effect as an action: derived here, and only here, so the report,
/// the JSON, the `fix` script and `fix --apply`'s progress lines all show the same text.
extension RemediationStep.Action {
    /// As an argument vector; nil for advice. File and control writes need a shell (`sh -c`) for the redirection.
    public var argv: [String]? {
        switch self {
        case .sysctl(let key, let value): ["sysctl", "-w", "\(key)=\(value)"]
        case .command(let argv): argv
        case .writeFile, .controlWrite: shellCommand.map { ["sh", "-c", $0] }
        case .advice: nil
        }
    }

    /// As it is typed into a POSIX shell, every word quoted; nil for advice. A file write is a quoted
    /// here-document, which copies the text byte for byte, so it spans lines.
    public var shellCommand: String? {
        switch self {
        case .sysctl, .command:
            return argv.map(ShellQuote.join)
        case .writeFile(let path, let contents):
            let folder = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            let body = contents + (contents.hasSuffix("\n") || contents.isEmpty ? "" : "\n")
            let end = Self.delimiter(notIn: body)
            return [ShellQuote.join(["mkdir", "-p", folder]), "cat > \(ShellQuote.quote(path)) <<'\(end)'", body + end]
                .joined(separator: "\n")
        case .controlWrite(let path, let text, _):
            return ShellQuote.join(["printf", "%s\\n", text]) + " > " + ShellQuote.quote(path)
        case .advice:
            return nil
        }
    }

    /// A here-document delimiter that no line of `body` equals, so the text cannot end the document early.
    static func delimiter(notIn body: String) -> String {
        let lines = Set(body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
        var candidate = "CTDOCTOR_EOF"
        var n = 0
        while lines.contains(candidate) {
            n += 1
            candidate = "CTDOCTOR_EOF_\(n)"
        }
        return candidate
    }
}
