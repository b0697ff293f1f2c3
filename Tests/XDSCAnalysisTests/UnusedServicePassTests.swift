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
