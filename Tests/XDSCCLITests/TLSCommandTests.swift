import Foundation
import Testing
import XDSCTestSupport

/// TLS through the binary: a certificate that cannot be loaded stops `xdsc run` with an error
/// at its position, and `xdsc test traffic` sends `https://` requests to a TLS listener.
@Suite(.timeLimit(.minutes(2)))
struct TLSCommandTests {
    /// An Envoy file with a TLS listener (certificate `cert`, key `key`) routing to cluster `users`.
    static func envoy(cert: String, key: String) -> String {
        """
        static_resources:
          listeners:
            - name: edge
              address: {socket_address: {address: 127.0.0.1, port_value: 0}}
              filter_chains:
                - transport_socket:
                    name: envoy.transport_sockets.tls
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                      common_tls_context:
                        tls_certificates:
                          - certificate_chain: {filename: \(cert)}
                            private_key: {filename: \(key)}
                  filters:
                    - name: envoy.filters.network.http_connection_manager
                      typed_config:
                        "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                        stat_prefix: edge
                        http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                        route_config:
                          virtual_hosts:
                            - name: all
                              domains: ["*"]
                              require_tls: ALL
                              routes: [{match: {prefix: /}, route: {cluster: users}}]
          clusters:
            - name: users
              load_assignment:
                cluster_name: users
                endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]
        """
    }

    @Test func aMissingCertificateStopsRunAtItsPosition() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("envoy.yaml").path
        try Self.envoy(cert: "missing/server.crt", key: "missing/server.key").write(toFile: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "--config", file])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        // Line 12, the value after `certificate_chain: {filename: `.
        #expect(
            r.stderr.contains("error[invalid-value]: the certificate chain file `missing/server.crt` does not exist\n  --> \(file):12:51"),
            "\(r.stderr)")
    }

    @Test func aKeyThatDoesNotFitStopsRun() throws {
        let pki = try TestPKI.get()
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("envoy.yaml").path
        try Self.envoy(cert: pki.serverCert, key: pki.otherKey).write(toFile: file, atomically: true, encoding: .utf8)
        let r = try CLI.run(["run", "--config", file])
        #expect(r.status == 1)
        #expect(
            r.stderr.contains("error[invalid-value]: the private key does not match the certificate\n  --> \(file):13:45"), "\(r.stderr)")
    }

    @Test func httpsRequestsInATrafficSpec() throws {
        let pki = try TestPKI.get()
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.envoy(cert: pki.serverCert, key: pki.serverKey)
            .write(to: dir.appendingPathComponent("envoy.yaml"), atomically: true, encoding: .utf8)
        let tests = """
            tests:
              - name: over TLS
                request: {url: https://api.example.com/users/7}
                expect:
                  status: 200
                  upstream: {service: users, headers: {x-forwarded-proto: https}}
              - name: the direct answer over TLS
                request: {url: "https://API.example.com:443/users/8"}
                expect: {status: 200, upstream: {path: /users/8}}
            """
        // Trusting the CA, then exactly the listener's certificate.
        for header in ["ca_file: \(pki.caCert)\n", ""] {
            let spec = dir.appendingPathComponent("spec.yaml").path
            try ("config: envoy.yaml\n" + header + tests).write(toFile: spec, atomically: true, encoding: .utf8)
            let r = try CLI.run(["test", "traffic", spec])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            #expect(r.stdout.hasSuffix("2 tests: 2 passed, 0 failed\n"), "\(r.stdout)")
        }
    }
}
