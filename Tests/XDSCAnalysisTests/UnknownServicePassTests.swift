import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `UnknownServicePass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct UnknownServicePassTests {
    @Test func unknownServiceWithDidYouMeanAndRelated() {
        let text = policy(
            routes: """
                      - match: {prefix: /u}
                        to: ⟨u⟩user
                        mirror: {to: ⟨m⟩nope}
                      - match: {prefix: /o}
                        to: {orders: 90, ⟨w⟩order: 10}
                """)
        expectDiagnostics(text, [(.unknownService, "u"), (.unknownService, "m"), (.unknownService, "w"), (.unusedService, "users")])
        let (result, _) = lintMarked([("p.yaml", text)])
        let first = result.diagnostics.first { $0.rule == .unknownService }
        #expect(first?.message == "route sends traffic to unknown service 'user'; did you mean 'users'?")
        #expect(first?.related.first?.span.start == SourcePosition(line: 4, column: 3))
    }
}

extension UnknownServicePassTests {
    /// A misspelled `services:` is one error: the routes are not reported as sending traffic
    /// to unknown services on top of it (the section was not read).
    @Test func noUnknownServicesAfterAMisspelledServicesSection() {
        let text = """
            version: 1
            ⟨key⟩servces:
              users: {endpoints: [10.0.0.1:8080]}
            listeners:
              public:
                address: 0.0.0.0:8080
                hosts:
                  api:
                    domains: [api.example.com]
                    routes:
                      - match: {prefix: /}
                        to: users
            """
        expectDiagnostics(text, [(.unknownField, "key")])
    }
}
