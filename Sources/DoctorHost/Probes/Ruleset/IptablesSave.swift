import CLinux
import DoctorCore

/// `iptables-save` / `ip6tables-save` output, either backend.
struct IptablesSave: Equatable {
    var tables: [XtTable] = []
    /// From the header: "(nf_tables)" or "(legacy)"; nil when the header names neither (legacy before 1.8) or is missing.
    var headerBackend: RulesetBackend?
    /// Tables iptables-nft cannot show because nft wrote them ("# Table `filter' contains incompatible base-chains").
    var incompatibleTables: Set<String> = []

    /// Every rule of every table, read whole.
    static func parse(_ text: String) -> IptablesSave {
        let reader = IptablesSaveReader(keepEveryRule: true)
        var text = text
        text.withUTF8 { reader.feed(UnsafeRawBufferPointer($0)) }
        return reader.finish()
    }

    /// Splits as iptables-restore does: white space separates words, `"…"` groups them, `\\` escapes inside quotes.
    /// A quote opens only at the start of a word, since iptables-save quotes whole words and prints names (a chain
    /// called `q"x`) unquoted.
    static func words(_ text: String) -> [String] {
        var words = IptablesWords()
        var text = text
        text.withUTF8 { _ = words.split(UnsafeRawBufferPointer($0)) }
        return words.strings
    }

    static func rule(chain: String, position: Int, spec: [String], text: String) -> XtRule {
        var rule = XtRule(chain: chain, position: position, spec: spec, text: text)
        var i = 0, negate = false, inTarget = false
        func value() -> String? { i + 1 < spec.count ? spec[i + 1] : nil }
        while i < spec.count {
            let word = spec[i]
            if word == "!" {
                negate = true
                i += 1
                continue
            }
            let next = value()
            var consumed = next != nil
            switch word {
            case "-p", "--protocol":
                if !negate, let next { rule.match.protocols = [next.lowercased()] }
            case "-i", "--in-interface":
                rule.match.inInterface = next.map { (negate ? "!" : "") + $0 }
            case "-o", "--out-interface":
                rule.match.outInterface = next.map { (negate ? "!" : "") + $0 }
            case "-s", "--source", "-d", "--destination":
                if let next { rule.match.addresses.append((negate ? "! " : "") + word + " " + next) }
            case "--dport", "--destination-port", "--dports", "--destination-ports":
                if !negate, let next { rule.match.destinationPorts = XtFacts.ports(next) }
            case "--sport", "--source-port", "--sports", "--source-ports":
                if !negate, let next { rule.match.sourcePorts = XtFacts.ports(next) }
            case "--ctstate", "--state":
                if !negate, let next { rule.match.ctStates = next.lowercased().split(separator: ",").map(String.init) }
            case "--helper":
                if inTarget { rule.ctHelper = next } else { rule.helperMatch = next }
            case "-j", "--jump", "-g", "--goto":
                rule.target = next
                inTarget = true
                if next == "NOTRACK" { rule.notrack = true }
            case "-m", "--match", "--comment", "--log-prefix", "--nflog-prefix":
                // Skipped with their value, so a comment reading "-j TRACE" is never taken for a target.
                break
            case "--notrack":
                rule.notrack = rule.target == "CT"
                consumed = false
            case "--random-fully":
                rule.randomFully = true
                consumed = false
            default:
                consumed = false
            }
            i += consumed ? 2 : 1
            negate = false
        }
        return rule
    }
}

/// Reads iptables-save output piece by piece as the tool writes it, without Foundation and without a String per
/// line: each rule is split into words in one reused buffer and only its target is looked at. A rule that can
/// matter to a check (a NAT, drop, reject, accept, TRACE, NOTRACK or CT target, or a helper) is read in full by
/// `IptablesSave.rule`; of the others only the jump to a chain of the table is kept, for `ChainReach`. So a
/// kube-proxy ruleset of 70,000 rules costs the memory of its NAT rules and jumps, not of its text.
final class IptablesSaveReader {
    /// Targets of the rules `XtFacts.add` may record; any other rule matters only through a `--helper` or `--notrack`.
    static let recordedTargets: Set<[UInt8]> = Set(
        ["MASQUERADE", "SNAT", "DNAT", "REDIRECT", "DROP", "REJECT", "TRACE", "NOTRACK", "ACCEPT"].map { Array($0.utf8) })

    private let keepEveryRule: Bool
    private var save = IptablesSave()
    private var partial: [UInt8] = []
    /// A rule line that ended inside a quoted word (a comment may hold a line break), waiting for the next line.
    private var continued: [UInt8]?
    private var table: XtTable?
    private var declared: Set<String> = []
    private var positions: [String: Int] = [:]
    private var lastChain: [UInt8] = []
    private var lastChainName = ""
    private var words = IptablesWords()

    init(keepEveryRule: Bool = false) {
        self.keepEveryRule = keepEveryRule
    }

    /// Longer than any rule iptables can hold (a comment is at most 256 bytes): such a line is dropped unread, so
    /// output without line breaks cannot grow memory.
    static let maxLine = 1 << 20
    private var droppingLine = false

    func feed(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        for i in 0..<bytes.count where bytes[i] == UInt8(ascii: "\n") {
            if droppingLine || partial.count + (i - start) > Self.maxLine {
                droppingLine = false
                partial.removeAll()
            } else if partial.isEmpty {
                physicalLine(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
            } else {
                partial.append(contentsOf: bytes[start..<i])
                let line = partial
                partial.removeAll(keepingCapacity: true)
                line.withUnsafeBytes { physicalLine($0) }
            }
            start = i + 1
        }
        guard !droppingLine else { return }
        partial.append(contentsOf: bytes[start...])
        if partial.count > Self.maxLine {
            partial.removeAll()
            droppingLine = true
        }
    }

    func finish() -> IptablesSave {
        if !partial.isEmpty {
            let line = partial
            partial = []
            line.withUnsafeBytes { physicalLine($0) }
        }
        // A quote left open to the end: the rule is taken as it stands, untrimmed.
        if let pending = continued {
            continued = nil
            pending.withUnsafeBytes { logicalLine($0, trim: false) }
        }
        return save
    }

    private func physicalLine(_ raw: UnsafeRawBufferPointer) {
        if var pending = continued {
            pending.append(UInt8(ascii: "\n"))
            pending.append(contentsOf: raw)
            continued = nil
            pending.withUnsafeBytes { line in
                if Self.isRule(line), words.quoteIsOpen(line), line.count <= Self.maxLine { continued = Array(line) }
                else { logicalLine(line, trim: true) }
            }
            return
        }
        if Self.isRule(raw), words.quoteIsOpen(raw) {
            continued = Array(raw)
            return
        }
        logicalLine(raw, trim: true)
    }

    private static func isRule(_ line: UnsafeRawBufferPointer) -> Bool {
        line.count >= 3 && line[0] == UInt8(ascii: "-") && line[1] == UInt8(ascii: "A") && line[2] == UInt8(ascii: " ")
    }

    private func logicalLine(_ untrimmed: UnsafeRawBufferPointer, trim: Bool) {
        let line = trim ? Bytes.trimmed(untrimmed) : untrimmed
        guard let first = line.first else { return }
        switch first {
        case UInt8(ascii: "#"):
            comment(line)
        case UInt8(ascii: "*"):
            table = XtTable(name: Bytes.string(Bytes.trimmed(UnsafeRawBufferPointer(rebasing: line[1...]))), chains: [], rules: [])
            declared = []
            positions = [:]
            lastChain = []
        case UInt8(ascii: ":"):
            let name = line[1...].drop { $0 == UInt8(ascii: " ") }.prefix { $0 != UInt8(ascii: " ") }
            guard !name.isEmpty else { return }
            let chain = Bytes.string(UnsafeRawBufferPointer(rebasing: name))
            table?.chains.append(chain)
            declared.insert(chain)
        case UInt8(ascii: "C") where Bytes.equal(line, "COMMIT"):
            if let table {
                save.tables.append(table)
                self.table = nil
            }
        case UInt8(ascii: "-") where Self.isRule(line):
            rule(line)
        default:
            break
        }
    }

    private func comment(_ line: UnsafeRawBufferPointer) {
        if Bytes.hasPrefix(line, "# Generated by"), save.headerBackend == nil {
            if Bytes.contains(line, "(nf_tables)") { save.headerBackend = .iptablesNft }
            else if Bytes.contains(line, "(legacy)") { save.headerBackend = .iptablesLegacy }
        }
        if Bytes.hasPrefix(line, "# Table `"), Bytes.contains(line, "incompatible") {
            let name = line[9...].prefix { $0 != UInt8(ascii: "'") }
            if !name.isEmpty { save.incompatibleTables.insert(Bytes.string(UnsafeRawBufferPointer(rebasing: name))) }
        }
    }

    /// `-A CHAIN words…`: the chain name is taken as printed (iptables-save does not quote it, and it may hold a `"`).
    private func rule(_ line: UnsafeRawBufferPointer) {
        guard table != nil else { return }
        let rest = UnsafeRawBufferPointer(rebasing: line[3...])
        let chainBytes = UnsafeRawBufferPointer(rebasing: rest.prefix { $0 != UInt8(ascii: " ") })
        let position = nextPosition(chainBytes)
        words.split(UnsafeRawBufferPointer(rebasing: rest[chainBytes.count...]))
        let scan = words.scanTarget()
        table!.ruleCount += 1
        if keepEveryRule || scan.mattersAlone || scan.target.map({ Self.recordedTargets.contains(Array($0)) }) == true {
            let rule = IptablesSave.rule(chain: lastChainName, position: position, spec: words.strings, text: Bytes.string(line))
            if keepEveryRule || XtFacts.records(rule) { table!.rules.append(rule) }
            if let target = rule.target, declared.contains(target) { table!.jumps.append(XtJump(from: rule.chain, to: target)) }
        } else if let target = scan.target {
            let name = String(decoding: target, as: UTF8.self)
            if declared.contains(name) { table!.jumps.append(XtJump(from: lastChainName, to: name)) }
        }
    }

    /// The 1-based place of the next rule in its chain. Rules come chain by chain, so the chain's name is made a
    /// String once per run of rules, not once per rule.
    private func nextPosition(_ chain: UnsafeRawBufferPointer) -> Int {
        if !chain.elementsEqual(lastChain) {
            lastChain = Array(chain)
            lastChainName = Bytes.string(chain)
        }
        positions[lastChainName, default: 0] += 1
        return positions[lastChainName]!
    }
}

/// The words of one iptables-save rule, unquoted as iptables-restore reads them, kept in one reused buffer.
struct IptablesWords {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []

    var count: Int { ends.count }

    func word(_ i: Int) -> ArraySlice<UInt8> { bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]] }

    var strings: [String] { (0..<count).map { String(decoding: word($0), as: UTF8.self) } }

    /// Whether a rule line ends inside a quoted word.
    mutating func quoteIsOpen(_ line: UnsafeRawBufferPointer) -> Bool {
        split(UnsafeRawBufferPointer(rebasing: line[3...]))
    }

    /// Splits `text` into words; returns whether it ended inside a quote.
    @discardableResult
    mutating func split(_ text: UnsafeRawBufferPointer) -> Bool {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        var inWord = false, open = false, escaped = false
        for c in text {
            if open {
                if escaped { bytes.append(c); escaped = false }
                else if c == UInt8(ascii: "\\") { escaped = true }
                else if c == UInt8(ascii: "\"") { open = false }
                else { bytes.append(c) }
            } else if c == UInt8(ascii: "\"") && !inWord {
                open = true
                inWord = true
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") {
                if inWord { ends.append(bytes.count) }
                inWord = false
            } else {
                bytes.append(c)
                inWord = true
            }
        }
        if inWord { ends.append(bytes.count) }
        return open
    }

    static let skippedWithValue: Set<[UInt8]> = Set([
        "-p", "--protocol", "-i", "--in-interface", "-o", "--out-interface", "-s", "--source", "-d", "--destination",
        "--dport", "--destination-port", "--dports", "--destination-ports", "--sport", "--source-port", "--sports",
        "--source-ports", "--ctstate", "--state", "-m", "--match", "--comment", "--log-prefix", "--nflog-prefix",
    ].map { Array($0.utf8) })
    static let targetOptions: Set<[UInt8]> = Set(["-j", "--jump", "-g", "--goto"].map { Array($0.utf8) })

    /// The target as `IptablesSave.rule` would read it (the same walk over the words, with the same options taking
    /// a value), and whether the rule has a `--helper` or `--notrack`, which matter whatever the target.
    func scanTarget() -> (target: ArraySlice<UInt8>?, mattersAlone: Bool) {
        var target: ArraySlice<UInt8>?
        var mattersAlone = false
        var i = 0
        while i < count {
            let w = word(i)
            if w.count == 1 && w.first == UInt8(ascii: "!") {
                i += 1
                continue
            }
            let hasNext = i + 1 < count
            var consumed = false
            if Self.targetOptions.contains(Array(w)) {
                target = hasNext ? word(i + 1) : nil
                consumed = hasNext
            } else if w.elementsEqual("--helper".utf8) {
                mattersAlone = true
                consumed = hasNext
            } else if w.elementsEqual("--notrack".utf8) {
                mattersAlone = true
            } else if Self.skippedWithValue.contains(Array(w)) {
                consumed = hasNext
            }
            i += consumed ? 2 : 1
        }
        return (target, mattersAlone)
    }
}

/// Byte-level helpers for the line readers, so a parser never goes through Foundation's string search.
enum Bytes {
    static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0d) }

    static func trimmed(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0, end = line.count
        while start < end, isSpace(line[start]) { start += 1 }
        while end > start, isSpace(line[end - 1]) { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: line[start..<end])
    }

    static func string(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

    static func equal(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        bytes.count == text.utf8CodeUnitCount && hasPrefix(bytes, text)
    }

    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ prefix: StaticString) -> Bool {
        let p = UnsafeRawBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        return bytes.count >= p.count && bytes.prefix(p.count).elementsEqual(p)
    }

    static func contains(_ bytes: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        start(of: needle, in: bytes) != nil
    }

    /// The offset where `needle` first starts in `bytes`.
    static func start(of needle: StaticString, in bytes: UnsafeRawBufferPointer) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard count > 0 else { return 0 }
        guard bytes.count >= count, let base = bytes.baseAddress,
              let found = ctd_memmem(base, bytes.count, needle.utf8Start, count) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The offset just after the first `needle` in `bytes`.
    static func end(of needle: StaticString, in bytes: UnsafeRawBufferPointer) -> Int? {
        start(of: needle, in: bytes).map { $0 + needle.utf8CodeUnitCount }
    }
}
