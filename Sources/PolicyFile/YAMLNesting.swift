/// A cheap look at a YAML text's nesting before Yams composes it: Yams builds nodes recursively, so a policy nested
/// 5,000 deep (`[[[[…` in 10 KB) overflows the stack. The scan over-estimates rather than misses: each block level
/// counts twice (a mapping and a sequence can share an indentation), every `- `, `? ` and `: ` that opens a
/// collection on the same line counts, and text it cannot place (an unclosed quote, a line inside a block scalar it
/// is unsure of) is scanned as structure. A real policy nests 5 deep; the limit leaves room for any reasonable one.
enum YAMLNesting {
    static let limit = 64

    /// Where the nesting first goes past `limit` (1-based line and column), or nil.
    static func firstTooDeep(_ text: String, limit: Int = limit) -> (line: Int, column: Int)? {
        var scanner = Scanner(limit: limit)
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let column = scanner.scan(Array(line.utf8)) { return (index + 1, column + 1) }
        }
        return nil
    }

    private struct Scanner {
        let limit: Int
        var indents: [Int] = []
        var flowDepth = 0
        /// The next non-space character starts a node (line start, or after `- `, `? `, `: `, `[`, `{`, `,`).
        var tokenStart = true
        /// A plain scalar is running (its quotes and, in block context, its brackets are text).
        var inPlain = false
        /// A quoted scalar runs on to a later line: the quote that will close it.
        var inQuote: UInt8?
        /// Lines indented more than this belong to a block scalar (`|`, `>`) or continue a plain scalar.
        var textParent: Int?

        init(limit: Int) { self.limit = limit }

        /// Returns the 0-based column where the limit is passed, or nil.
        mutating func scan(_ line: [UInt8]) -> Int? {
            var i = 0
            if let quote = inQuote {
                guard let end = Self.closingQuote(line, quote: quote, from: 0) else { return nil }
                inQuote = nil
                tokenStart = false
                inPlain = false
                i = end + 1
            }
            let indent = line.prefix { $0 == UInt8(ascii: " ") }.count
            // The collection a text on this line belongs to starts here: YAML's indentation of it.
            var collectionColumn = indent
            var lastToken = indent
            var compact = 0
            if i == 0 {
                let rest = line[indent...]
                if rest.allSatisfy({ [0x20, 0x09, 0x0D].contains($0) }) || rest.first == UInt8(ascii: "#") { return nil }
                if flowDepth == 0 {
                    if let parent = textParent, indent > parent { return nil }
                    textParent = nil
                    inPlain = false
                    tokenStart = true
                    while let top = indents.last, top > indent { indents.removeLast() }
                    if indents.last.map({ $0 < indent }) ?? true { indents.append(indent) }
                }
                i = indent
            }
            func depth() -> Int { 2 * (indents.count + compact) + flowDepth }
            if depth() > limit { return i }
            func isSpace(_ at: Int) -> Bool { at >= line.count || [0x20, 0x09, 0x0D].contains(line[at]) }
            while i < line.count {
                let c = line[i]
                if c == UInt8(ascii: "#") && (i == 0 || isSpace(i - 1)) { break }
                if tokenStart {
                    switch c {
                    case 0x20, 0x09, 0x0D, UInt8(ascii: ","):
                        i += 1
                        continue
                    case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":") where isSpace(i + 1):
                        if flowDepth == 0 {
                            compact += 1
                            if c == UInt8(ascii: "-") { collectionColumn = i }
                        }
                        if depth() > limit { return i }
                        i += 1
                        continue
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        flowDepth += 1
                        if depth() > limit { return i }
                        i += 1
                        continue
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        flowDepth = max(0, flowDepth - 1)
                        tokenStart = false
                        i += 1
                        continue
                    case UInt8(ascii: "'"), UInt8(ascii: "\""):
                        lastToken = i
                        tokenStart = false
                        inPlain = false
                        guard let end = Self.closingQuote(line, quote: c, from: i + 1) else {
                            inQuote = c
                            return nil
                        }
                        i = end + 1
                        continue
                    case UInt8(ascii: "&"), UInt8(ascii: "!"):
                        while i < line.count && !isSpace(i) { i += 1 }
                        continue
                    case UInt8(ascii: "|"), UInt8(ascii: ">") where flowDepth == 0:
                        textParent = collectionColumn
                        return nil
                    default:
                        lastToken = i
                        tokenStart = false
                        inPlain = true
                    }
                    i += 1
                    continue
                }
                if flowDepth > 0 {
                    switch c {
                    case UInt8(ascii: ","):
                        tokenStart = true
                        inPlain = false
                    case UInt8(ascii: "["), UInt8(ascii: "{"):
                        flowDepth += 1
                        tokenStart = true
                        inPlain = false
                        if depth() > limit { return i }
                    case UInt8(ascii: "]"), UInt8(ascii: "}"):
                        flowDepth -= 1
                        inPlain = false
                    case UInt8(ascii: ":") where isSpace(i + 1) || !inPlain || (i + 1 < line.count && ",[]{}".utf8.contains(line[i + 1])):
                        tokenStart = true
                        inPlain = false
                    default:
                        break
                    }
                } else if c == UInt8(ascii: ":") && isSpace(i + 1) {
                    // A key: the mapping it opens starts at the key's column.
                    collectionColumn = lastToken
                    tokenStart = true
                    inPlain = false
                }
                i += 1
            }
            // A plain scalar still running at the end of a block line may go on in more-indented lines.
            if flowDepth == 0 && inPlain { textParent = collectionColumn }
            return nil
        }

        /// The index of the `quote` that closes a quoted scalar, searching from `start` ('' and \" do not close), or nil.
        static func closingQuote(_ line: [UInt8], quote: UInt8, from start: Int) -> Int? {
            var i = start
            while i < line.count {
                if quote == UInt8(ascii: "\"") && line[i] == UInt8(ascii: "\\") { i += 2; continue }
                if line[i] == quote {
                    if quote == UInt8(ascii: "'") && i + 1 < line.count && line[i + 1] == quote { i += 2; continue }
                    return i
                }
                i += 1
            }
            return nil
        }
    }
}
