import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `DuplicateAddressCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct DuplicateAddressCheckTests {
    @Test func twoListenersOnOneAddress() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users}
                """, clusters: ["users"],
            listeners: """
                - ⟨second⟩name: internal
                  address:
                    socket_address: {address: 0.0.0.0, port_value: 8080}
                  filter_chains: []
                - name: other
                  address:
                    socket_address: {address: 0.0.0.0, port_value: 8081}
                  filter_chains: []
                """)
        expectDiagnostics(files: [("envoy.yaml", text)], [(.duplicateAddress, "second")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(result.diagnostics.first?.message == "listener `internal` binds 0.0.0.0:8080, already used by listener `public`")
    }
}
