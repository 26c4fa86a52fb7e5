import DoctorCore
import Foundation
import Testing
@testable import DoctorHost

/// The readers that take tool output piece by piece: the result must not depend on where the pieces break, and
/// hostile output must not grow memory.
@Suite struct StreamingParserTests {
    static let saved = try! RecordedCommands.recordings("iptables")[["iptables-nft-save"]]!.get().stdout

    static func read(_ text: String, pieces: [Int], keepEveryRule: Bool = true) -> IptablesSave {
        let reader = IptablesSaveReader(keepEveryRule: keepEveryRule)
        let bytes = Array(text.utf8)
        var offset = 0, i = 0
        while offset < bytes.count {
            let size = max(1, pieces[i % pieces.count])
            let end = min(bytes.count, offset + size)
            bytes[offset..<end].withUnsafeBytes { reader.feed($0) }
            offset = end
            i += 1
        }
        return reader.finish()
    }

    @Test(arguments: [[1], [2, 3, 5], [7, 64, 1], [4096], [1_000_000]])
    func piecesDoNotChangeTheResult(_ pieces: [Int]) {
        #expect(Self.read(Self.saved, pieces: pieces) == IptablesSave.parse(Self.saved))
    }

    @Test func aQuotedCommentSpanningLinesStaysOneRule() {
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment \"two\nlines\" -j ACCEPT\nCOMMIT\n"
        let save = Self.read(text, pieces: [3])
        #expect(save.tables.first?.rules.map(\.spec) == [["-m", "comment", "--comment", "two\nlines", "-j", "ACCEPT"]])
    }

    /// Streaming keeps only the rules a check can cite, but counts every rule and keeps every jump between chains.
    @Test func streamingKeepsWhatTheFactsNeed() {
        let full = IptablesSave.parse(Self.saved)
        let lean = Self.read(Self.saved, pieces: [100], keepEveryRule: false)
        for (a, b) in zip(full.tables, lean.tables) {
            #expect(a.ruleCount == b.ruleCount && a.jumps == b.jumps && a.chains == b.chains)
            #expect(b.rules == a.rules.filter(XtFacts.records))
            #expect(b.rules.count < a.rules.count || a.rules.allSatisfy(XtFacts.records))
        }
    }

    @Test func aLineWithoutEndIsDroppedNotKept() {
        let long = String(repeating: "x", count: IptablesSaveReader.maxLine + 10)
        let text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT " + long + "\n-A INPUT -j TRACE\nCOMMIT\n"
        let save = Self.read(text, pieces: [65536], keepEveryRule: false)
        #expect(save.tables.first?.ruleCount == 1, "the long line is dropped whole, the next one read")
        #expect(save.tables.first?.rules.first?.target == "TRACE")
    }

    @Test func jsonTextRoundTripsLikeJSONEncoder() throws {
        let text = #"{"b":[1,2.5,-3,{"z":null,"a":true}],"a":"q\"uote\\ /slash\n\t\u0001é","c":false}"#
        let value = try JSONValue.parse(text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(value.serialized == String(decoding: try encoder.encode(value), as: UTF8.self))
        #expect(try JSONValue.parse(value.serialized) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == value)
    }

    @Test func jsonRejectsWhatIsNotJSON() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"\u{01}\"", "1 2", String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)] {
            #expect(throws: JSONValue.SyntaxError.self, "\(bad.prefix(20))") { try JSONValue.parse(bad) }
        }
    }

    @Test func nftItemsAreReadOneByOne() throws {
        var items: [JSONValue] = []
        let text = #"{"nftables": [{"metainfo": {"version": "1.0.6"}}, {"table": {"family": "ip", "name": "t"}}], "other": [1]}"#
        try Array(text.utf8).withUnsafeBytes { bytes in
            try JSONValue.eachElement(of: "nftables", in: bytes) { items.append($0) }
        }
        #expect(items.count == 2 && items[1]["table"]?["name"]?.string == "t")
    }
}
