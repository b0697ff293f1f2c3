import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `InvalidRegexCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct InvalidRegexCheckTests {
    @Test func rejectedAndTooLargeRegexes() {
        let text = envoyBootstrap(
            routes: #"""
                - ⟨lookahead⟩match: {safe_regex: {regex: "/users/(?=admin).*"}}
                  route: {cluster: users}
                - ⟨large⟩match: {prefix: /h/, headers: [{name: x-id, string_match: {safe_regex: {regex: "[a-z]{1,100}"}}}]}
                  route: {cluster: users}
                - match: {safe_regex: {regex: "/ok/[0-9]+"}}
                  route: {cluster: users}
                """#, clusters: ["users"])
        expectDiagnostics(files: [("envoy.yaml", text)], [(.invalidRegex, "lookahead"), (.invalidRegex, "large")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        let look = result.diagnostics.first { $0.message.contains("(?=admin)") }
        #expect(look?.help == "RE2 has no lookahead/lookbehind; named groups are written `(?P<name>...)`")
    }
}
