/// JSON text to `JSONValue` and back without Foundation: a small recursive-descent reader over bytes (no Codable
/// machinery, no trial decoding of every value as each type in turn), and a writer whose output is what
/// `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` gives for the same value.
extension JSONValue {
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Parses one JSON document (surrounding white space allowed, nothing else after it).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONValue {
        var reader = JSONReader(bytes: bytes)
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.offset == bytes.count else { throw reader.error("text after the JSON value") }
        return value
    }

    public static func parse(_ text: String) throws(SyntaxError) -> JSONValue {
        let bytes = Array(text.utf8)
        var result: Result<JSONValue, SyntaxError> = .failure(SyntaxError(offset: 0, reason: "empty"))
        bytes.withUnsafeBytes { raw in
            do throws(SyntaxError) { result = .success(try parse(raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Hands each element of the array found under `key` of the top-level object to `body`, parsed one at a time,
    /// so a long array (nft's `{"nftables": [...]}`) never becomes one tree. Other keys are skipped.
    public static func eachElement(
        of key: String, in bytes: UnsafeRawBufferPointer, _ body: (JSONValue) throws(SyntaxError) -> Void
    ) throws(SyntaxError) {
        var reader = JSONReader(bytes: bytes)
        reader.skipSpace()
        try reader.expect(UInt8(ascii: "{"))
        var first = true
        while true {
            reader.skipSpace()
            if reader.peek == UInt8(ascii: "}") { reader.offset += 1; break }
            if !first { try reader.expect(UInt8(ascii: ",")); reader.skipSpace() }
            first = false
            let name = try reader.string()
            reader.skipSpace()
            try reader.expect(UInt8(ascii: ":"))
            reader.skipSpace()
            guard name == key, reader.peek == UInt8(ascii: "[") else {
                _ = try reader.value(depth: 0)
                continue
            }
            reader.offset += 1
            var firstElement = true
            while true {
                reader.skipSpace()
                if reader.peek == UInt8(ascii: "]") { reader.offset += 1; break }
                if !firstElement { try reader.expect(UInt8(ascii: ",")) }
                firstElement = false
                try body(try reader.value(depth: 1))
            }
        }
        reader.skipSpace()
        guard reader.offset == bytes.count else { throw reader.error("text after the JSON value") }
    }

    /// Compact JSON with object keys sorted and `/` left unescaped.
    public var serialized: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .number(let n):
            if let i = int { out += String(i).utf8 } else { out += "\(n)".utf8 }
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, element) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, key) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                o[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\"".utf8
            case UInt8(ascii: "\\"): out += "\\\\".utf8
            case 0x0a: out += "\\n".utf8
            case 0x0d: out += "\\r".utf8
            case 0x09: out += "\\t".utf8
            case 0x08: out += "\\b".utf8
            case 0x0c: out += "\\f".utf8
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += "\\u00".utf8
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

private struct JSONReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    /// Deeper than any nft document; a hostile one cannot exhaust the stack.
    static let maxDepth = 512

    var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    func error(_ reason: String) -> JSONValue.SyntaxError { JSONValue.SyntaxError(offset: offset, reason: reason) }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { offset += 1 }
    }

    mutating func expect(_ c: UInt8) throws(JSONValue.SyntaxError) {
        guard peek == c else { throw error("expected '\(Character(Unicode.Scalar(c)))'") }
        offset += 1
    }

    mutating func value(depth: Int) throws(JSONValue.SyntaxError) -> JSONValue {
        guard depth < Self.maxDepth else { throw error("nested too deeply") }
        skipSpace()
        guard let c = peek else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"):
            offset += 1
            var object: [String: JSONValue] = [:]
            skipSpace()
            if peek == UInt8(ascii: "}") { offset += 1; return .object(object) }
            while true {
                skipSpace()
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                object[key] = try value(depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { offset += 1; continue }
                try expect(UInt8(ascii: "}"))
                return .object(object)
            }
        case UInt8(ascii: "["):
            offset += 1
            var array: [JSONValue] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { offset += 1; return .array(array) }
            while true {
                array.append(try value(depth: depth + 1))
                skipSpace()
                if peek == UInt8(ascii: ",") { offset += 1; continue }
                try expect(UInt8(ascii: "]"))
                return .array(array)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try number())
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONValue.SyntaxError) {
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard offset + w.count <= bytes.count, bytes[offset..<(offset + w.count)].elementsEqual(w) else {
            throw error("invalid literal")
        }
        offset += w.count
    }

    mutating func number() throws(JSONValue.SyntaxError) -> Double {
        let start = offset
        while let c = peek, (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-")
            || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            offset += 1
        }
        guard offset > start, let n = Double(String(decoding: bytes[start..<offset], as: UTF8.self)), n.isFinite else {
            throw error("invalid number")
        }
        return n
    }

    mutating func string() throws(JSONValue.SyntaxError) -> String {
        try expect(UInt8(ascii: "\""))
        let start = offset
        // Fast path: no escapes.
        while let c = peek, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\"), c >= 0x20 { offset += 1 }
        if peek == UInt8(ascii: "\"") {
            offset += 1
            return String(decoding: bytes[start..<(offset - 1)], as: UTF8.self)
        }
        var out = Array(bytes[start..<offset])
        while true {
            guard let c = peek else { throw error("unterminated string") }
            offset += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw error("unterminated escape") }
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xd800..<0xdc00).contains(scalar), peek == UInt8(ascii: "\\") {
                        offset += 1
                        try expect(UInt8(ascii: "u"))
                        let low = try hex4()
                        guard (0xdc00..<0xe000).contains(low) else { throw error("invalid surrogate pair") }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    }
                    out += String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8
                default: throw error("invalid escape")
                }
            case 0..<0x20:
                throw error("control character in a string")
            default:
                out.append(c)
            }
        }
    }

    mutating func hex4() throws(JSONValue.SyntaxError) -> UInt32 {
        guard offset + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[offset..<(offset + 4)], as: UTF8.self), radix: 16)
        else { throw error("invalid \\u escape") }
        offset += 4
        return v
    }
}

extension JSONValue: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}
