import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `DuplicateResourceNameCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct DuplicateResourceNameCheckTests {
    @Test func listenerAndClusterDefinedTwice() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users}
                """, clusters: ["users"],
            listeners: """
                - ⟨listener⟩name: public
                  address:
                    socket_address: {address: 0.0.0.0, port_value: 9090}
                  filter_chains: []
                """,
            extraClusters: """
                - ⟨cluster⟩name: users
                  load_assignment: {cluster_name: users}
                """)
        expectDiagnostics(files: [("envoy.yaml", text)], [(.duplicateName, "listener"), (.duplicateName, "cluster")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(result.diagnostics.map(\.message).sorted() == ["cluster `users` is defined twice", "listener `public` is defined twice"])
        #expect(result.diagnostics.allSatisfy { $0.related.first?.message == "first defined here" })
    }
}
