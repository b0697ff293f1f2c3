import Foundation
import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCTestSupport

@testable import XDSCProxy

/// TLS over real loopback sockets, with certificates the `openssl` CLI makes at test time:
/// listeners served with their certificate, filter chains selected by SNI, `https` requests
/// for the route engine and `x-forwarded-proto`, client certificates, upstream TLS with
/// `--upstreams real`, and the diagnostics of certificates that cannot be used.
@Suite struct TLSEndToEndTests {
    @Test func aTLSListenerIsServedWithItsCertificate() async throws {
        let pki = try TestPKI.get()
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "tls", tls: TLSFixtures.downstreamTLS(pki))]))
        #expect(config.listeners.first?.servesTLS == true)
        let server = try await TLSFixtures.start(config)
        let direct = try await TLSFixtures.send(server, "/direct", pki: pki)
        let forwarded = try await TLSFixtures.send(server, "/users/7", pki: pki)
        // Plain HTTP to a TLS listener gets no HTTP answer.
        let plain = try await TestClient.exchange(
            port: try #require(server.port(of: "edge")), ["GET /direct HTTP/1.1\r\nhost: api.example.com\r\n\r\n"], timeout: .seconds(10))
        await server.shutdown()
        #expect(direct.status == 200)
        #expect(direct.body == "tls")
        #expect(forwarded.status == 200)
        let echo = try #require(try? JSON.parse(forwarded.body))
        // conn_manager_utility.cc: x-forwarded-proto from the connection, https over TLS.
        #expect(echo["headers"]?["x-forwarded-proto"]?.stringValue == "https")
        #expect(echo["path"]?.stringValue == "/users/7")
        #expect(!plain.hasPrefix("HTTP/"))
    }

    @Test func aClientThatDoesNotTrustTheCertificateFailsTheHandshake() async throws {
        let pki = try TestPKI.get()
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "tls", tls: TLSFixtures.downstreamTLS(pki))]))
        let server = try await TLSFixtures.start(config)
        // The server's own certificate as the only CA: its issuer is unknown.
        let tls = try ClientTLS.trusting(caFile: pki.serverCert, serverName: "api.example.com")
        await #expect(throws: ClientError.self) {
            _ = try await TrafficClient.send(
                address: "127.0.0.1", port: server.port(of: "edge") ?? 0, method: "GET", target: "/direct", host: "api.example.com",
                headers: [], body: "", tls: tls, timeout: .seconds(20))
        }
        await server.shutdown()
    }

    @Test func requireTLSDoesNotRedirectOverTLS() async throws {
        let pki = try TestPKI.get()
        let tlsConfig = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "secure", tls: TLSFixtures.downstreamTLS(pki), requireTLS: true)]))
        let plainConfig = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "secure", requireTLS: true)]))
        let tlsServer = try await TLSFixtures.start(tlsConfig)
        let plainServer = try await TLSFixtures.start(plainConfig)
        let overTLS = try await TLSFixtures.send(tlsServer, "/direct", pki: pki)
        let overPlain = try await TestClient.request(port: try #require(plainServer.port(of: "edge")), "/direct", host: "api.example.com")
        await tlsServer.shutdown()
        await plainServer.shutdown()
        #expect(overTLS.status == 200)
        #expect(overTLS.body == "secure")
        #expect(overPlain.status == 301)
        #expect(overPlain.header("location") == "https://api.example.com/direct")
    }

    @Test func filterChainsAreSelectedBySNI() async throws {
        let pki = try TestPKI.get()
        let tls = TLSFixtures.downstreamTLS(pki)
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(
                chains: [
                    TLSFixtures.chain(body: "exact", match: #""filter_chain_match": {"server_names": ["api.example.com"]}, "#, tls: tls),
                    TLSFixtures.chain(body: "wildcard", match: #""filter_chain_match": {"server_names": ["*.example.com"]}, "#, tls: tls),
                    TLSFixtures.chain(body: "any-tls", match: #""filter_chain_match": {"transport_protocol": "tls"}, "#, tls: tls),
                    TLSFixtures.chain(body: "plain", match: #""filter_chain_match": {"transport_protocol": "raw_buffer"}, "#),
                ], inspector: true))
        #expect(config.startWarnings(ProxyOptions()).allSatisfy { !$0.contains("tls_inspector") })
        let server = try await TLSFixtures.start(config)
        let exact = try await TLSFixtures.send(server, "/direct", sni: "api.example.com", pki: pki)
        let wildcard = try await TLSFixtures.send(server, "/direct", sni: "web.example.com", pki: pki)
        let noSNI = try await TLSFixtures.send(server, "/direct", sni: nil, pki: pki)
        let plain = try await TestClient.request(port: try #require(server.port(of: "edge")), "/direct")
        await server.shutdown()
        #expect(exact.body == "exact")
        #expect(wildcard.body == "wildcard")
        #expect(noSNI.body == "any-tls")
        #expect(plain.body == "plain")
    }

    @Test func withoutTheTLSInspectorNoSNIIsSeen() throws {
        let pki = try TestPKI.get()
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [
                TLSFixtures.chain(
                    body: "a", match: #""filter_chain_match": {"server_names": ["api.example.com"]}, "#, tls: TLSFixtures.downstreamTLS(pki)
                )
            ]))
        let listener = try #require(config.listeners.first)
        #expect(!listener.inspectsClientHello)
        // As Envoy without the inspector: no SNI, `raw_buffer`, so the SNI chain never matches.
        #expect(listener.chain(for: ConnectionFacts.uninspected) == nil)
        #expect(config.startWarnings(ProxyOptions()).contains { $0.contains("without the `tls_inspector`") })
    }

    @Test func aRequiredClientCertificateIsChecked() async throws {
        let pki = try TestPKI.get()
        let tls = TLSFixtures.downstreamTLS(pki, extra: #", "require_client_certificate": true"#)
            .replacingOccurrences(
                of: #""alpn_protocols""#, with: #""validation_context": {"trusted_ca": {"filename": "\#(pki.caCert)"}}, "alpn_protocols""#)
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "mtls", tls: tls)]))
        let server = try await TLSFixtures.start(config)
        let with = try await TLSFixtures.send(server, "/direct", pki: pki, clientCertificate: true)
        var refused = false
        do {
            let r = try await TLSFixtures.send(server, "/direct", pki: pki)
            refused = r.status != 200
        } catch {
            refused = true
        }
        await server.shutdown()
        #expect(with.status == 200)
        #expect(with.body == "mtls")
        #expect(refused)
    }

    @Test func upstreamTLSWithRealUpstreams() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: true)
        let clientCertificate =
            #", "tls_certificates": [{"certificate_chain": {"filename": "\#(pki.clientCert)"}, "private_key": {"filename": "\#(pki.clientKey)"}}]"#
        let socket = { (cert: Bool) in
            """
            , "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", "sni": "users.example.com",
              "common_tls_context": {"validation_context": {"trusted_ca": {"filename": "\(pki.caCert)"}}\(cert ? clientCertificate : "")}}}
            """
        }
        let withCert = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "")], clusterExtra: socket(true), endpointPort: upstream.port))
        let withoutCert = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "")], clusterExtra: socket(false), endpointPort: upstream.port))
        #expect(withCert.startWarnings(ProxyOptions()).contains { $0.contains("mock upstreams speak plain HTTP") })
        let a = try await TLSFixtures.start(withCert, upstreams: .real)
        let ok = try await TestClient.request(port: try #require(a.port(of: "edge")), "/users/1", host: "api.example.com")
        await a.shutdown()
        let b = try await TLSFixtures.start(withoutCert, upstreams: .real)
        let refused = try await TestClient.request(port: try #require(b.port(of: "edge")), "/users/1", host: "api.example.com")
        await b.shutdown()
        await upstream.close()
        #expect(ok.status == 200)
        #expect(ok.echo?["endpoint"]?.stringValue == "tls-upstream")
        #expect(upstream.serverNames.first == "users.example.com")
        // A failed handshake is a connection failure (router.cc's reset reply).
        #expect(refused.status == 503)
        #expect(refused.body.contains("connection failure"))
    }

    @Test func certificatesThatCannotBeUsedAreReportedWhereTheyAreNamed() async throws {
        let pki = try TestPKI.get()
        let missing = TLSFixtures.bootstrap(chains: [
            TLSFixtures.chain(
                body: "", tls: TLSFixtures.downstreamTLS(pki).replacingOccurrences(of: pki.serverCert, with: pki.dir + "/nope.crt"))
        ])
        var config = try TLSFixtures.configuration(missing)
        let errors = config.loadTLS()
        let e = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(e.message == "the certificate chain file `\(pki.dir)/nope.crt` does not exist")
        // The span is the `filename` value in the file.
        let line = missing.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("nope.crt") }.map { $0 + 1 }
        #expect(e.span?.file == "envoy.json")
        #expect(e.span?.start.line == line)

        var mismatched = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "", tls: TLSFixtures.downstreamTLS(pki, key: pki.otherKey))]))
        #expect(mismatched.loadTLS().map { $0.message } == ["the private key does not match the certificate"])

        var notPEM = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "", tls: TLSFixtures.downstreamTLS(pki, key: pki.dir + "/server.ext"))]))
        #expect(notPEM.loadTLS().first?.message.contains("is not a PEM private key") == true)

        // The server refuses to start with such a configuration, without crashing.
        let bad = try TLSFixtures.configuration(missing)
        await #expect(throws: TLSSetupError.self) { _ = try await TLSFixtures.start(bad) }
    }

    @Test func inlinePEMIsServed() async throws {
        let pki = try TestPKI.get()
        let cert = try String(contentsOfFile: pki.serverCert, encoding: .utf8).replacingOccurrences(of: "\n", with: "\\n")
        let key = try String(contentsOfFile: pki.serverKey, encoding: .utf8).replacingOccurrences(of: "\n", with: "\\n")
        let tls = TLSFixtures.downstreamTLS(pki)
            .replacingOccurrences(of: #"{"filename": "\#(pki.serverCert)"}"#, with: #"{"inline_string": "\#(cert)"}"#)
            .replacingOccurrences(of: #"{"filename": "\#(pki.serverKey)"}"#, with: #"{"inline_string": "\#(key)"}"#)
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "inline", tls: tls)]))
        let server = try await TLSFixtures.start(config)
        let r = try await TLSFixtures.send(server, "/direct", pki: pki)
        await server.shutdown()
        #expect(r.body == "inline")
    }
}
