import Testing
import XDSCDiagnostics
import XDSCJSON
import XDSCRegex

/// The rule registry, the renderers and the example requests.
@Suite struct DiagnosticsTests {
    @Test func registryHasOneEntryPerIDWithUniqueCodes() {
        let rules = Rule.registry.rules
        #expect(rules.count == Rule.ID.allCases.count)
        #expect(Set(rules.map(\.id)).count == rules.count)
        #expect(Set(rules.map(\.code)).count == rules.count)
        for r in rules {
            #expect(!r.summary.hasSuffix("."), "\(r.id.rawValue) summary ends with a period")
            #expect(!r.explanation.isEmpty && !r.failingExample.isEmpty && !r.fixedExample.isEmpty)
        }
        #expect(Rule.registry.find("XDS003")?.id == .unknownField)
        #expect(Rule.registry.find("route-shadowed")?.severity == .error)
        #expect(Rule.registry.find("route-overlap")?.severity == .warning)
    }

    @Test func humanCaretSitsUnderTheTokenAfterNonASCII() {
        let file = SourceFile(path: "p.yaml", text: "a: \"é✓\"\nb: {ü: x, tmeout: 1}\n")
        let span = SourceSpan(file: "p.yaml", start: SourcePosition(line: 2, column: 11), end: SourcePosition(line: 2, column: 17))
        let out = HumanRenderer(sources: ["p.yaml": file], color: false).render([
            Diagnostic(.unknownField, "unknown key `tmeout`", at: span, label: "unknown key", help: "rename it")
        ])
        #expect(
            out == """
                error[unknown-field]: unknown key `tmeout`
                 --> p.yaml:2:11
                  |
                2 | b: {ü: x, tmeout: 1}
                  |           ^^^^^^ unknown key
                  = help: rename it

                1 error, 0 warnings

                """)
    }

    @Test func orderingAndDeduplication() {
        let a = Diagnostic(.unusedService, "b", at: .point("b.yaml", line: 1, column: 1))
        let b = Diagnostic(.unknownField, "a", at: .point("a.yaml", line: 9, column: 1))
        let c = Diagnostic(.unknownField, "a", at: .point("a.yaml", line: 2, column: 5))
        #expect(Diagnostic.ordered([a, b, c, b]).map(\.span.file) == ["a.yaml", "a.yaml", "b.yaml"])
        #expect(Diagnostic.ordered([a, b, c, b]).map(\.span.start.line) == [2, 9, 1])
    }

    @Test func githubAnnotationsEscape() {
        let d = Diagnostic(.unknownField, "50% bad,\nreally", at: .point("dir,x/p.yaml", line: 3, column: 4))
        #expect(
            GitHubRenderer().render([d])
                == "::error file=dir%2Cx/p.yaml,line=3,col=4,title=xdsc unknown-field (XDS003)::50%25 bad,%0Areally\n")
    }
}
