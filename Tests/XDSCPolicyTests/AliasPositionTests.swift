import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// Issue 8.13: a finding on a value used through a YAML alias points at the alias (the use),
/// with a related "defined here" at the anchor; a finding about the value itself is made
/// once, where it is written.
@Suite struct AliasPositionTests {
    func diagnostics(_ text: String) -> ([Diagnostic], [String: SourcePosition]) {
        let (result, markers) = lintMarked([("policy.yaml", text)])
        return (result.diagnostics, markers.mapValues(\.1))
    }

    @Test func shadowedAliasIsReportedAtTheAlias() throws {
        let text = policy(
            routes: """
                      - ⟨anchor⟩&r {match: {prefix: /users}, to: users}
                      - {match: {prefix: /orders}, to: orders}
                      - ⟨alias⟩*r
                """)
        expectDiagnostics(text, [(.routeShadowed, "alias")])
        let (diags, m) = diagnostics(text)
        let d = try #require(diags.first { $0.rule == .routeShadowed })
        #expect(d.span.end.column == m["alias"]!.column + 2)
        let related = d.related.map { "\($0.span.start) \($0.message)" }
        #expect(related == ["\(m["anchor"]!) route #1 matches first", "\(m["anchor"]!) `&r` defined here"])
    }

    @Test func duplicateNameThroughAliasAndMergeKey() throws {
        let text = policy(
            routes: """
                      - ⟨anchor⟩&r {⟨name⟩name: ⟨a⟩a, match: {prefix: /users}, to: users}
                      - {match: {prefix: /orders}, to: orders}
                      - <<: ⟨merged⟩*r
                        match: {prefix: /u2}
                """)
        expectDiagnostics(text, [(.duplicateName, "merged")])
        let (diags, m) = diagnostics(text)
        let d = try #require(diags.first { $0.rule == .duplicateName })
        #expect(d.related.map(\.span.start) == [m["a"]!, m["a"]!])
        #expect(d.related.last?.message == "`&r` defined here")
    }

    @Test func aProblemInsideTheAnchoredValueIsReportedOnceWhereItIsWritten() {
        expectDiagnostics(
            policy(
                routes: """
                              - &r {match: {prefix: /users, ⟨bogus⟩bogus: 1}, to: users}
                              - {match: {prefix: /orders}, to: orders}
                              - <<: *r
                                match: {prefix: /u2}
                    """), [(.unknownField, "bogus")])
    }

    @Test func throughAnAliasOfAnAliasTheProblemIsStillReportedOnce() {
        expectDiagnostics(
            policy(
                routes: """
                              - match: ⟨m⟩&m [prefix, /users]
                                to: users
                              - &r {match: *m, to: orders}
                              - *r
                    """), [(.typeMismatch, "m")])
    }

    @Test func anAliasInAnotherContextIsReportedThere() throws {
        // The same header operations, aliased into a second level: only the use repeats them.
        let text = policy(
            routes: """
                      - match: {prefix: /users}
                        to: users
                        request_headers: {set: &h {⟨first⟩x-a: "1"}, add: ⟨alias⟩*h}
                      - {match: {prefix: /orders}, to: orders}
                """)
        expectDiagnostics(text, [(.duplicateKey, "alias")])
        let (diags, m) = diagnostics(text)
        let d = try #require(diags.first)
        #expect(d.related.map(\.span.start) == [m["first"]!, m["first"]!])
        #expect(d.related.map(\.message) == ["first defined here", "`&h` defined here"])
    }

    @Test func humanOutputShowsTheAliasAndOneSnippetForTheAnchor() {
        let (result, _) = lintMarked([
            (
                "policy.yaml",
                policy(
                    routes: """
                              - &r {match: {prefix: /users}, to: users}
                              - {match: {prefix: /orders}, to: orders}
                              - *r
                        """)
            )
        ])
        let text = HumanRenderer(sources: result.sources, color: false).render(result.diagnostics)
        #expect(text.contains("^^ unreachable"), "\(text)")
        #expect(text.contains("- route #1 matches first; `&r` defined here"), "\(text)")
        #expect(text.components(separatedBy: ":::").count == 2, "\(text)")
    }
}
