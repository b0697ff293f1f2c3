import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// An unnamed route is `#N` in messages, N its position as written: a route dropped for an
/// error before it still counts, on both inputs.
@Suite struct RouteNumberingTests {
    static func shadowMessages(_ files: [(String, String)]) -> [String] {
        lintMarked(files).0.diagnostics.filter { $0.rule == .routeShadowed }.map(\.message)
    }

    @Test func policyRoutesAreNumberedAsWrittenAfterADroppedRoute() {
        let text = policy(
            routes: """
                      - to: users
                      - match: {prefix: /api}
                        to: users
                      - match: {prefix: /api/v1}
                        to: orders
                """)
        let (result, _) = lintMarked([("policy.yaml", text)])
        // The first route has no `match` and is not lowered.
        #expect(result.diagnostics.contains { $0.rule == .missingField })
        #expect(
            Self.shadowMessages([("policy.yaml", text)]) == [
                "route #3 can never be reached: earlier route #2 matches every request it matches"
            ])
    }

    @Test func envoyRoutesAreNumberedAsWrittenAfterDroppedRoutes() {
        let rds = """
            name: public
            virtual_hosts:
            - name: web
              domains: ["*"]
              routes:
              - 42
              - match: {prefix: /, bogus: 1}
                route: {cluster: a}
              - match: {prefix: /api}
                route: {cluster: a}
              - match: {prefix: /api/v1}
                route: {cluster: b}
            """
        let (result, _) = lintMarked([("rds.yaml", rds)])
        // A list item that is not a route, and a route with an unknown field: both dropped.
        #expect(result.diagnostics.contains { $0.rule == .typeMismatch })
        #expect(result.diagnostics.contains { $0.rule == .unknownField })
        #expect(
            Self.shadowMessages([("rds.yaml", rds)]) == [
                "route #4 can never be reached: earlier route #3 matches every request it matches"
            ])
    }

    @Test func withoutDroppedRoutesTheNumberIsThePosition() {
        let text = policy(
            routes: """
                      - match: {prefix: /api}
                        to: users
                      - match: {prefix: /api/v1}
                        to: orders
                """)
        #expect(
            Self.shadowMessages([("policy.yaml", text)]) == [
                "route #2 can never be reached: earlier route #1 matches every request it matches"
            ])
    }
}
