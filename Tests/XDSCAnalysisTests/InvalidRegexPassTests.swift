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

    /// Each distinct pattern is compiled once; every place it is written is still reported,
    /// with the same message, and a repeated valid pattern stays silent.
    @Test func repeatedPatternsAreReportedAtEveryOccurrence() {
        let text = policy(
            routes: """
                      - match: {regex: ⟨a⟩"/x/(?=y)"}
                        to: users
                      - match: {regex: "/ok/[0-9]+", methods: [GET]}
                        to: orders
                      - match: {prefix: /h, headers: {x-id: {regex: ⟨b⟩"/x/(?=y)"}}}
                        to: orders
                      - match: {regex: "/ok/[0-9]+"}
                        to: users
                      - match: {regex: ⟨c⟩"/x/(?=y)", methods: [POST]}
                        to: orders
                      - match: {regex: "/v[0-9]+/(.*)"}
                        to: orders
                        rewrite: {regex: {pattern: "^/v[0-9]+/(.*)", substitution: ⟨d⟩"/\\\\2"}}
                      - match: {regex: "/w[0-9]+/(.*)"}
                        to: orders
                        rewrite: {regex: {pattern: "^/v[0-9]+/(.*)", substitution: ⟨e⟩"/\\\\2"}}
                      - match: {regex: "/u[0-9]+/(.*)"}
                        to: orders
                        rewrite: {regex: {pattern: "^/v[0-9]+/(.*)", substitution: "/\\\\1"}}
                """)
        expectDiagnostics(
            text, [(.invalidRegex, "a"), (.invalidRegex, "b"), (.invalidRegex, "c"), (.invalidRegex, "d"), (.invalidRegex, "e")])
        let (result, _) = lintMarked([("p.yaml", text)])
        let rejected = result.diagnostics.filter { $0.message.hasPrefix("RE2 rejects regex") }
        #expect(rejected.count == 3)
        #expect(Set(rejected.map(\.message)).count == 1)
        #expect(rejected.allSatisfy { $0.help?.contains("no lookahead") == true })
        #expect(result.diagnostics.filter { $0.message.hasPrefix("substitution `/\\2`") }.count == 2)
    }
}
