import Foundation
@testable import PolicyFile
import Testing
@testable import DoctorCore

/// A hostile policy file ends in one error naming FILE:LINE, never a crash or gigabytes (issue 15, items 4 and 12).
@Suite struct PolicyHardeningTests {
    let parser = PolicyParser(file: "site.yaml", knownChecks: ["table.usage", "tcp.loose", "rules.backend-mix"])

    func failure(_ yaml: String) -> PolicyError? {
        do {
            _ = try parser.parse(yaml)
            return nil
        } catch {
            return error
        }
    }

    /// Flow brackets, compact block sequences, indentation, flow mappings: 5,000 levels segfaulted in Yams before.
    @Test(arguments: [
        ("flow", "sysctls: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"),
        ("flow mappings", "sysctls: " + String(repeating: "{a: ", count: 5000) + String(repeating: "}", count: 5000) + "\n"),
        ("compact sequences", "require:\n" + String(repeating: "- ", count: 5000) + "x\n"),
        ("indentation", "sysctls:\n" + (1..<300).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + "\n"),
        ("nested flow across lines", "sysctls: [\n" + String(repeating: "[\n", count: 5000) + String(repeating: "]\n", count: 5001)),
    ])
    func deepNestingIsRefusedWithItsPlace(name: String, yaml: String) throws {
        let e = try #require(failure(yaml), "\(name)")
        #expect(e.problem.contains("nested more than 64 levels deep"), "\(name): \(e)")
        #expect(e.line != nil && e.column != nil, "\(name): \(e)")
    }

    /// Quotes that hide closing brackets from a naive scan, so the brackets after them add up unseen.
    @Test func quotedBracketsDoNotHideNesting() throws {
        let inner = String(repeating: "[", count: 40)
        let yaml = "sysctls: [" + inner + " \"a\n" + String(repeating: "]", count: 41) + "\", " + String(repeating: "[", count: 3000)
            + String(repeating: "]", count: 3041) + "\n"
        #expect(failure(yaml)?.problem.contains("nested more than") == true)
    }

    @Test func ordinaryPoliciesAreNotTooDeep() throws {
        #expect(YAMLNesting.firstTooDeep(PolicyParserTests.example) == nil)
        let text = """
            waivers:
              - check: rules.backend-mix
                reason: |
                  a long reason with [brackets and { braces
                        and deeper indented lines
                  - that look like lists
                expires: 2027-01-31
            """
        #expect(YAMLNesting.firstTooDeep(text) == nil)
        #expect(try parser.parse(text).waivers.count == 1)
    }

    /// The composer runs on a large stack: even nesting the scan let through cannot overflow it.
    @Test func composerSurvivesNestingThePreScanWouldRefuse() {
        let yaml = "sysctls: " + String(repeating: "[", count: 20000) + String(repeating: "]", count: 20000) + "\n"
        let result = BigStack.run { Result { () throws(PolicyError) -> Policy in try parser.parseChecked(yaml) } }
        guard case .failure(let e) = result else { Issue.record("a nested list is not a sysctls mapping"); return }
        #expect(e.problem.contains("must be a mapping"), "\(e)")
    }

    @Test func aliasExpansionIsBounded() throws {
        let big = String(repeating: "x", count: 900_000)
        let bomb = "sysctls:\n  net.netfilter.nf_conntrack_max: &a \"\(big)\"\nwaivers:\n"
            + String(repeating: "  - {check: tcp.loose, reason: *a}\n", count: 2000)
        let e = try #require(failure(bomb))
        #expect(e.problem.contains("aliases expand to more than"), "\(e)")
        #expect(e.line != nil)

        var laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...12 { laughs += "b\(i): &b\(i) [" + Array(repeating: i == 1 ? "*a" : "*b\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(failure(laughs)?.problem.contains("aliases expand to more than") == true)
        #expect(clock.now - start < .seconds(5))
    }

    @Test func aliasesWithinTheBudgetStillWork() throws {
        let yaml = """
            waivers:
              - {check: tcp.loose, reason: &why "OPS-1234 (approved by J. Doe)"}
              - {check: rules.backend-mix, reason: *why}
            """
        #expect(try parser.parse(yaml).waivers.map(\.reason) == ["OPS-1234 (approved by J. Doe)", "OPS-1234 (approved by J. Doe)"])
    }

    @Test func duplicateWaiversAndRequirementsAreRefused() throws {
        let waivers = """
            waivers:
              - {check: tcp.loose, reason: accepted}
              - {check: rules.backend-mix, reason: other}
              - {check: tcp.loose, reason: contradictory, expires: 2020-01-01}
            """
        let e = try #require(failure(waivers))
        #expect(e.line == 4, "\(e)")
        #expect(e.problem == "waivers: 'tcp.loose' has two waivers (first at line 2)")
        let require = try #require(failure("require: [table.usage, tcp.loose, table.usage]\n"))
        #expect(require.line == 1 && require.problem.contains("'table.usage' is required twice"), "\(require)")
    }
}
