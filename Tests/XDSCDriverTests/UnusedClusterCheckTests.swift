import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `UnusedClusterCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct UnusedClusterCheckTests {
    @Test func clusterNoRouteUses() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users, request_mirror_policies: [{cluster: shadow}]}
                """, clusters: ["users", "shadow"],
            extraClusters: """
                - ⟨old⟩name: old
                  load_assignment: {cluster_name: old}
                """)
        expectDiagnostics(files: [("envoy.yaml", text)], [(.unusedService, "old")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(result.diagnostics.first?.severity == .warning)
        #expect(result.diagnostics.first?.message == "cluster `old` is not used by any route")
    }

    /// A filter xdsc keeps opaque may name a cluster (ext_authz, a rate limit service): silent.
    @Test func opaqueFilterMayUseIt() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users}
                """, clusters: ["users", "authz"],
            filters: """
                - name: envoy.filters.http.ext_authz
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz}
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """)
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(!result.diagnostics.contains { $0.rule == .unusedService })
    }

    /// A cluster named outside the model (a stats sink's `tcp_cluster_name`) is not reported.
    @Test func clusterNamedByAStatsSink() {
        let text =
            envoyBootstrap(
                routes: """
                    - match: {prefix: /a}
                      route: {cluster: users}
                    """, clusters: ["users", "statsd"])
                + """

                stats_sinks:
                - name: envoy.stat_sinks.statsd
                  typed_config:
                    "@type": type.googleapis.com/envoy.config.metrics.v3.StatsdSink
                    tcp_cluster_name: statsd
                """
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(!result.diagnostics.contains { $0.rule == .unusedService }, "\(result.diagnostics.map(\.message))")
    }
}
