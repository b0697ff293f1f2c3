import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `InvalidRegexPass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct InvalidRegexPassTests {
    @Test func invalidRegexUsesRE2sMessageAndProgramSize() {
        let text = policy(
            routes: """
                      - match: {regex: ⟨a⟩"/users/(?=x)"}
                        to: users
                      - match: {regex: ⟨b⟩"/[a-z]{1,200}"}
                        to: users
                      - match: {prefix: /q, headers: {x-id: {regex: ⟨c⟩"(a"}}}
                        to: orders
                      - match: {regex: "/v[0-9]+/(.*)"}
                        to: orders
                        rewrite: {regex: {pattern: "^/v[0-9]+/(.*)", substitution: ⟨d⟩"/\\\\2"}}
                """)
        expectDiagnostics(text, [(.invalidRegex, "a"), (.invalidRegex, "b"), (.invalidRegex, "c"), (.invalidRegex, "d")])
        let (result, _) = lintMarked([("p.yaml", text)])
        #expect(result.diagnostics.first?.message.contains("invalid perl operator: (?=") == true)
        #expect(result.diagnostics.contains { $0.message.contains("over Envoy's default limit of 100") })
    }
}
