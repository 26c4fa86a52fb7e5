import Foundation
import Testing
@testable import DoctorCore
@testable import DoctorHost

@Suite struct ShellQuoteTests {
    @Test(arguments: ["abc", "-w", "net.netfilter.nf_log.2=nf_log_ipv4", "/proc/sys/net/netfilter", "a@b%c+d:e,f_g"])
    func safeWordsStayAsTheyAre(_ word: String) {
        #expect(ShellQuote.quote(word) == word)
    }

    @Test func unsafeWordsAreSingleQuoted() {
        #expect(ShellQuote.quote("a b") == "'a b'")
        #expect(ShellQuote.quote("$(rm -rf /)") == "'$(rm -rf /)'")
        #expect(ShellQuote.quote("it's") == "'it'\\''s'")
        #expect(ShellQuote.quote("") == "''")
        #expect(ShellQuote.quote("two\nlines") == "'two\nlines'")
        #expect(ShellQuote.join(["sysctl", "-w", "a=b c"]) == "sysctl -w 'a=b c'")
    }

    static let hostile = [
        "a b", "$(rm -rf /)", "`rm -rf /`", "it's", "'", "''", "two\nlines", "", " ", "*", "~", "a\"b", "tab\there",
        "back\\slash", "$HOME", "!", "semi;colon", "amp&", "pipe|", "<in", ">out", "#hash", "ünïcödé", "-n",
    ]

    /// The shell must give back exactly the word that was quoted.
    @Test(arguments: hostile)
    func shellReadsBackTheSameWord(_ word: String) throws {
        let script = "printf '%s\\n' " + ShellQuote.quote(word)
        let result = try SystemCommandRunner().run(["sh", "-c", script], timeout: 5).get()
        #expect(result.exitStatus == 0)
        #expect(result.stdout == word + "\n")
    }

    @Test func joinedCommandLineKeepsEveryWordApart() throws {
        let script = ShellQuote.join(["printf", "[%s]"] + Self.hostile)
        let result = try SystemCommandRunner().run(["sh", "-c", script], timeout: 5).get()
        #expect(result.stdout == Self.hostile.map { "[\($0)]" }.joined())
    }
}
