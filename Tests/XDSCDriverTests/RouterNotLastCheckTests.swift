import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `RouterNotLastCheck` on Envoy files and policies; each test fails on any diagnostic it did
/// not expect.
@Suite struct RouterNotLastCheckTests {
    @Test func routerFollowedByAnotherFilter() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users}
                """, clusters: ["users"],
            filters: """
                - ⟨router⟩name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                - name: envoy.filters.http.cors
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
                """)
        expectDiagnostics(files: [("envoy.yaml", text)], [(.routerNotLast, "router")])
    }

    @Test func chainEndingInAModelledNonTerminalFilter() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users}
                """, clusters: ["users"],
            filters: """
                - ⟨cors⟩name: envoy.filters.http.cors
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
                """)
        expectDiagnostics(files: [("envoy.yaml", text)], [(.routerNotLast, "cors")])
    }

    /// A lowered policy ends in the router: the check runs and finds nothing.
    @Test func policyLowersWithTheRouterLast() {
        expectDiagnostics(
            policy(
                routes: """
                          - match: {prefix: /u}
                            to: users
                          - match: {prefix: /o}
                            to: orders
                    """), [])
    }
}
