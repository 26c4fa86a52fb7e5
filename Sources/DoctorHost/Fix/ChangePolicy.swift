import DoctorCore
import Foundation

/// What ctdoctor may change: one allow-list, checked before `fix --apply` takes a step and before `fix --undo` runs
/// anything a journal asks for (a journal is a file, and a file can be forged).
///
/// - sysctls under `net.netfilter.` only, one-line values;
/// - its own boot files (`OwnFiles`), with only net.netfilter keys or module names in them;
/// - a dynamic debug control file, with `file … [line N] ±p` queries;
/// - `modprobe NAME` / `modprobe -r NAME` for a module ctdoctor knows, no options;
/// - `nft` on its own tables (`inet ctdoctor`, `inet ctdoctor_…`), or on one rule by its handle (and nft JSON of the
///   same kinds), a transaction of such commands;
/// - `iptables` (any of its six commands) inserting, appending or deleting one rule, no `--modprobe`.
public enum ChangePolicy {
    public static let programs: Set<String> = [
        "modprobe", "nft", "iptables", "ip6tables", "iptables-legacy", "ip6tables-legacy", "iptables-nft", "ip6tables-nft",
    ]

    static let iptablesTables: Set<String> = ["filter", "nat", "mangle", "raw", "security"]

    /// Modules ctdoctor probes and may load or unload.
    static var modules: Set<String> { Set(ModuleProbe.configOption.keys).union(ModuleProbe.nfLogSyslogAliases) }

    /// Sysctls a fix may write: conntrack's own keys, nothing else.
    public static func mayWrite(sysctl key: String) -> Bool {
        key.hasPrefix("net.netfilter.") && !key.contains("/") && !key.contains("..")
            && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    /// Why ctdoctor will not carry out this action, or nil when it may.
    public static func refusal(_ action: RemediationStep.Action) -> String? {
        switch action {
        case .sysctl(let key, let value):
            guard mayWrite(sysctl: key) else { return "refusing to write \(key): ctdoctor only writes net.netfilter.* sysctls" }
            return oneLine(value) ? nil : "refusing to write \(key): the value is not one line of text"
        case .command(let argv):
            if case .failure(let why) = Command.parse(argv) { return why.message }
            return nil
        case .writeFile(let path, let contents):
            guard OwnFiles.all.contains(path) else {
                return "refusing to write \(path): ctdoctor only writes \(OwnFiles.all.sorted().joined(separator: " and "))"
            }
            return ownFileRefusal(path, contents)
        case .controlWrite(let path, let text, _):
            guard isDynamicDebugControl(path) else { return "refusing to write \(path): not a dynamic debug control file" }
            return dynamicDebugQuery(text) ? nil : "refusing to write \(text.debugDescription) to \(path): not a pr_debug query ctdoctor writes"
        case .advice:
            return "advice has nothing to run"
        }
    }

    /// Why `fix --undo` will not put this journal entry back, or nil: its action must be one ctdoctor may take, and
    /// what undo writes or runs must be that action's inverse, within the same allow-list.
    public static func refusal(undoing entry: Journal.Entry) -> String? {
        if let why = refusal(entry.action) { return why }
        switch entry.action {
        case .sysctl(let key, _):
            if let previous = entry.previous, !oneLine(previous) { return "refusing to write \(key): the recorded value is not one line" }
        case .writeFile(let path, _):
            if let previous = entry.previous, let why = ownFileRefusal(path, previous) { return why }
        case .controlWrite(let path, _, _):
            if let previous = entry.previous, !dynamicDebugQuery(previous) {
                return "refusing to write \(previous.debugDescription) to \(path): not a pr_debug query ctdoctor writes"
            }
        case .command(let argv):
            guard let undo = entry.undo, !undo.isEmpty else { return nil }
            guard case .success(let done) = Command.parse(argv) else { return nil }
            switch Command.parse(undo) {
            case .failure(let why): return why.message
            case .success(let reverse):
                if !reverse.undoes(done) {
                    return "refusing to run \(ShellQuote.join(undo)): it is not what reverses \(ShellQuote.join(argv))"
                }
            }
        case .advice:
            break
        }
        return nil
    }

    static func oneLine(_ text: String) -> Bool {
        text.utf8.count <= 4096 && !text.contains { $0.isNewline || $0 == "\0" }
    }

    static func isDynamicDebugControl(_ path: String) -> Bool {
        path.hasSuffix("/dynamic_debug/control") && (path.hasPrefix("/proc/") || path.hasPrefix("/sys/kernel/debug/"))
            && !path.contains("..")
    }

    /// `file PATTERN [line N] +p|-p`, several joined by "; ": what ctdoctor writes and records to undo.
    static func dynamicDebugQuery(_ text: String) -> Bool {
        guard oneLine(text), !text.isEmpty else { return false }
        return text.components(separatedBy: "; ").allSatisfy { query in
            let words = query.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard words.count == 3 || words.count == 5, words[0] == "file", !words[1].isEmpty,
                  ["+p", "-p"].contains(words.last!) else { return false }
            return words.count == 3 || (words[2] == "line" && !words[3].isEmpty && words[3].allSatisfy(\.isNumber))
        }
    }

    /// ctdoctor's own files hold only what it writes there: net.netfilter assignments, or module names.
    static func ownFileRefusal(_ path: String, _ contents: String) -> String? {
        for line in contents.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let allowed: Bool
            if path == OwnFiles.sysctl {
                let key = line.split(separator: "=", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                allowed = line.contains("=") && mayWrite(sysctl: key.hasPrefix("-") ? String(key.dropFirst()) : key)
            } else {
                allowed = line.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }
            }
            if !allowed { return "refusing to write \(path): the line \(line.debugDescription) is not one ctdoctor writes there" }
        }
        return nil
    }

    struct Refusal: Error {
        var message: String
    }

    /// A command ctdoctor may run, parsed far enough to tell what it changes and what reverses it.
    enum Command: Equatable {
        case modprobe(load: Bool, module: String)
        /// nft on one of ctdoctor's own tables: verb (add, delete, flush…), object (table, chain, rule, ct helper),
        /// the table, the object's name.
        case ownTable(verb: String, object: String, table: String, name: String?)
        /// Several nft commands in one transaction (`add table …; add chain …; add rule …`).
        case batch([Command])
        /// nft on one rule of any table, by handle: delete it, or insert a rule at its position.
        case ruleByHandle(delete: Bool, family: String, table: String, chain: String, handle: String)
        /// nft JSON adding a rule back into its chain.
        case addRule(family: String, table: String, chain: String)
        case iptables(program: String, table: String, verb: String, chain: String, spec: [String])

        static func parse(_ argv: [String]) -> Result<Command, Refusal> {
            guard let program = argv.first, programs.contains(program) else {
                return .failure(Refusal(message: "refusing to run \(argv.first ?? "an empty command"): not one of \(programs.sorted().joined(separator: ", "))"))
            }
            let refused = Refusal(message: "refusing to run \(ShellQuote.join(argv)): not a change ctdoctor makes with \(program)")
            let parsed: Command?
            switch program {
            case "modprobe": parsed = modprobe(Array(argv.dropFirst()))
            case "nft": parsed = argv.count == 3 && argv[1] == "-j" ? nftJSON(argv[2]) : nft(Array(argv.dropFirst()))
            default: parsed = iptables(program, Array(argv.dropFirst()))
            }
            return parsed.map { .success($0) } ?? .failure(refused)
        }

        /// Whether running this puts back what `done` changed.
        func undoes(_ done: Command) -> Bool {
            switch (done, self) {
            case (.modprobe(let load, let a), .modprobe(let unload, let b)):
                return a == b && load != unload
            case (.ownTable("add", "table", let t, nil), .ownTable("delete", "table", let t2, nil)):
                return t == t2
            case (.ownTable("add", "chain", let t, let a), .ownTable("delete", "chain", let t2, let b)),
                 (.ownTable("add", "ct helper", let t, let a), .ownTable("delete", "ct helper", let t2, let b)):
                return t == t2 && a == b
            case (.ownTable("add", "rule", let t, let chain), .ownTable("flush", "chain", let t2, let flushed)):
                return t == t2 && chain == flushed
            case (.batch(let commands), .ownTable("delete", "table", let t, nil)):
                // A transaction that creates one of ctdoctor's tables and fills it is undone by deleting that table.
                guard case .ownTable("add", "table", t, nil)? = commands.first else { return false }
                return commands.allSatisfy { if case .ownTable(_, _, t, _) = $0 { true } else { false } }
            case (.ruleByHandle(true, let f, let t, let c, _), .addRule(let f2, let t2, let c2)):
                return (f, t, c) == (f2, t2, c2)
            case (.iptables(let p, let t, let verb, let c, let spec), .iptables(let p2, let t2, "-D", let c2, let spec2)):
                return ["-I", "-A"].contains(verb) && (p, t, c) == (p2, t2, c2) && spec == spec2
            case (.iptables(let p, let t, "-D", let c, let spec), .iptables(let p2, let t2, let verb, let c2, let spec2)):
                return ["-I", "-A"].contains(verb) && (p, t, c) == (p2, t2, c2) && spec == spec2
            default:
                return false
            }
        }

        static func modprobe(_ words: [String]) -> Command? {
            switch words.count {
            case 1 where modules.contains(words[0]): .modprobe(load: true, module: words[0])
            case 2 where words[0] == "-r" && modules.contains(words[1]): .modprobe(load: false, module: words[1])
            default: nil
            }
        }

        /// nft joins its words into one command line and reads that, so the line is what is checked: split into
        /// commands and tokens the way nft reads them, each command must be one ctdoctor makes.
        static func nft(_ words: [String]) -> Command? {
            guard let first = words.first, !first.hasPrefix("-"),
                  let commands = nftCommands(words.joined(separator: " ")), !commands.isEmpty else { return nil }
            var parsed: [Command] = []
            for tokens in commands {
                guard let command = nftCommand(tokens) else { return nil }
                parsed.append(command)
            }
            return parsed.count == 1 ? parsed[0] : .batch(parsed)
        }

        /// One command's tokens: on one of ctdoctor's own tables, or on one rule of another by its handle.
        static func nftCommand(_ tokens: [String]) -> Command? {
            guard tokens.count >= 3, !tokens.contains(where: { $0.contains("include") || $0.contains("define") }) else { return nil }
            let verb = tokens[0]
            var rest = Array(tokens.dropFirst())
            var object = rest.removeFirst()
            if object == "ct" {
                guard rest.first == "helper" else { return nil }
                rest.removeFirst()
                object = "ct helper"
            }
            guard rest.count >= 2, ["add", "create", "insert", "delete", "flush"].contains(verb),
                  ["table", "chain", "rule", "ct helper"].contains(object) else { return nil }
            let (family, table) = (rest[0], rest[1])
            let tail = Array(rest.dropFirst(2))
            guard plainName(family), plainName(table) else { return nil }
            if family == "inet" && Nft.isOwn(table) {
                if object == "table" { return tail.isEmpty ? .ownTable(verb: verb, object: object, table: table, name: nil) : nil }
                guard let name = tail.first, plainName(name) else { return nil }
                if verb == "delete" || verb == "flush" { guard tail.count == 1 else { return nil } }
                return .ownTable(verb: verb, object: object, table: table, name: name)
            }
            guard object == "rule", tail.count >= 3, plainName(tail[0]), tail[2].allSatisfy(\.isNumber), !tail[2].isEmpty else { return nil }
            if verb == "delete" && tail.count == 3 && tail[1] == "handle" {
                return .ruleByHandle(delete: true, family: family, table: table, chain: tail[0], handle: tail[2])
            }
            if (verb == "insert" || verb == "add") && tail[1] == "position" && tail.count > 3 {
                return .ruleByHandle(delete: false, family: family, table: table, chain: tail[0], handle: tail[2])
            }
            return nil
        }

        /// nft's command line as commands of tokens: `;` ends a command outside braces and quotes; a `{ … }` body and
        /// a quoted string stay inside one token. Nil for what ctdoctor never writes: nested or unclosed braces, an
        /// unclosed quote, a line break, a comment (`#`) or a variable (`$`).
        static func nftCommands(_ text: String) -> [[String]]? {
            var commands: [[String]] = [], tokens: [String] = [], token = ""
            var inBraces = false, quoted = false
            func endToken() {
                if !token.isEmpty { tokens.append(token) }
                token = ""
            }
            for c in text {
                if c.isNewline { return nil }
                if quoted {
                    token.append(c)
                    if c == "\"" { quoted = false }
                    continue
                }
                switch c {
                case "\"": quoted = true; token.append(c)
                case "#", "$": return nil
                case "{":
                    if inBraces { return nil }
                    inBraces = true
                    token.append(c)
                case "}":
                    if !inBraces { return nil }
                    inBraces = false
                    token.append(c)
                case ";" where !inBraces:
                    endToken()
                    if !tokens.isEmpty { commands.append(tokens) }
                    tokens = []
                case " ", "\t":
                    if inBraces { token.append(c) } else { endToken() }
                default:
                    token.append(c)
                }
            }
            guard !quoted, !inBraces else { return nil }
            endToken()
            if !tokens.isEmpty { commands.append(tokens) }
            return commands
        }

        static func plainName(_ name: String) -> Bool {
            guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
            return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
        }

        /// `{"nftables": [{"add"|"delete": {"rule": {…}}}]}`: one rule deleted by handle, or one rule added back.
        static func nftJSON(_ text: String) -> Command? {
            guard let document = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)),
                  case .object(let top) = document, top.keys.sorted() == ["nftables"],
                  case .array(let commands)? = top["nftables"], commands.count == 1,
                  case .object(let command) = commands[0], command.count == 1, let verb = command.keys.first,
                  case .object(let objects)? = command[verb], objects.keys.sorted() == ["rule"],
                  case .object(let rule)? = objects["rule"],
                  let family = rule["family"]?.string, let table = rule["table"]?.string, let chain = rule["chain"]?.string
            else { return nil }
            switch verb {
            case "delete":
                guard let handle = rule["handle"]?.int, Set(rule.keys) == ["family", "table", "chain", "handle"] else { return nil }
                return .ruleByHandle(delete: true, family: family, table: table, chain: chain, handle: String(handle))
            case "add":
                guard rule["expr"] != nil, Set(rule.keys).isSubset(of: ["family", "table", "chain", "expr", "comment"]) else { return nil }
                return .addRule(family: family, table: table, chain: chain)
            default:
                return nil
            }
        }

        /// `[-t TABLE] -I CHAIN [N] | -A CHAIN | -D CHAIN` then the rule's words; never `--modprobe` (`-M`), which
        /// names a program iptables runs.
        static func iptables(_ program: String, _ words: [String]) -> Command? {
            var rest = words[...]
            var table = "filter"
            if rest.first == "-t" {
                rest = rest.dropFirst()
                guard let t = rest.first, iptablesTables.contains(t) else { return nil }
                table = t
                rest = rest.dropFirst()
            }
            guard let verb = rest.first, ["-I", "-A", "-D"].contains(verb), rest.count >= 2 else { return nil }
            let chain = rest[rest.index(after: rest.startIndex)]
            guard !chain.hasPrefix("-"), !chain.isEmpty else { return nil }
            rest = rest.dropFirst(2)
            if verb == "-I", let position = rest.first, !position.isEmpty, position.allSatisfy(\.isNumber) { rest = rest.dropFirst() }
            let spec = Array(rest)
            guard !spec.contains(where: namesAProgram) else { return nil }
            return .iptables(program: program, table: table, verb: verb, chain: chain, spec: spec)
        }

        /// `--modprobe=…` or any abbreviation getopt accepts for it, and `-M` alone or in a cluster of short options.
        static func namesAProgram(_ word: String) -> Bool {
            if word.hasPrefix("--") {
                let option = String(word.dropFirst(2).prefix { $0 != "=" })
                return option.count >= 1 && "modprobe".hasPrefix(option)
            }
            return word.hasPrefix("-") && word.dropFirst().prefix { $0.isLetter }.contains("M")
        }
    }

    /// ctdoctor's own nft tables: `inet ctdoctor` for the rules fixes add, and `inet ctdoctor_…` for the wizard's
    /// temporary ones (its trace table).
    enum Nft {
        static func isOwn(_ table: String) -> Bool { table == "ctdoctor" || table.hasPrefix("ctdoctor_") }
    }
}
