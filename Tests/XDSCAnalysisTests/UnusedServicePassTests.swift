import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `UnusedServicePass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct UnusedServicePassTests {
    @Test func unusedService() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /u}
                            to: users
                    """), [(.unusedService, "orders")])
        let (result, _) = lintMarked([
            (
                "p.yaml",
                policy(
                    routes: """
                              - match: {prefix: /u}
                                to: users
                        """)
            )
        ])
        #expect(result.diagnostics.map(\.rule) == [.unusedService])
        #expect(result.diagnostics.first?.severity == .warning)
        #expect(result.diagnostics.first?.message.contains("`orders`") == true)
    }
}

extension UnusedServicePassTests {
    /// A misspelled `listeners:` is one error; the services its routes would use are not
    /// reported unused on top of it (the section was not read).
    @Test func noUnusedServicesAfterAMisspelledListenersSection() {
        let text = """
            version: 1
            services:
              users:
                endpoints: [10.0.0.1:8080]
              orders:
                endpoints: [10.0.0.2:8080]
            ⟨key⟩listners:
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
        let (result, _) = lintMarked([("p.yaml", text)])
        #expect(result.diagnostics.first?.message == "unknown key `listners` in the policy file; did you mean `listeners`?")
    }
}
