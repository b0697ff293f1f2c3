import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `UndefinedClusterCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct UndefinedClusterCheckTests {
    @Test func routeToAnUndefinedClusterWithDidYouMean() {
        let text = envoyBootstrap(
            routes: """
                - ⟨typo⟩match: {prefix: /a}
                  route: {cluster: userz}
                - ⟨split⟩match: {prefix: /b}
                  route: {weighted_clusters: {clusters: [{name: users, weight: 1}, {name: gone, weight: 1}]}}
                - match: {prefix: /c}
                  route: {cluster: users}
                """, clusters: ["users"])
        expectDiagnostics(files: [("envoy.yaml", text)], [(.unknownService, "typo"), (.unknownService, "split")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        let typo = result.diagnostics.first { $0.message.contains("`userz`") }
        #expect(typo?.help == "did you mean `users`?")
        #expect(typo?.message == "route in route configuration `public` sends traffic to cluster `userz`, which is not defined")
    }

    /// Without any cluster read (an RDS file on its own) nothing is reported.
    @Test func noClustersReadNoFindings() {
        let rds = """
            name: public
            virtual_hosts:
            - name: web
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: anything}
            """
        expectDiagnostics(files: [("rds.yaml", rds)], [])
    }
}
