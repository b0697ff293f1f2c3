import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCTestSupport

@testable import XDSCProxy

/// HTTP/2 over TLS (ALPN) downstream and upstream, the upstream certificate checks (SAN
/// matchers, `auto_sni`, `auto_san_validation`) with Envoy's 503 bodies, over real loopback
/// sockets with certificates made at test time.
@Suite struct TLSProtocolEndToEndTests {
    /// The ALPN protocol a TLS client offering `offered` gets from `port` (nil: none).
    static func negotiated(port: Int, offering offered: [String], pki: TestPKI) async throws -> String? {
        var c = TLSConfiguration.makeClientConfiguration()
        c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.caCert))
        c.applicationProtocols = offered
        let context = try NIOSSLContext(configuration: c)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let result = loop.makePromise(of: String?.self)
        let connected = ClientBootstrap(group: loop)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "api.example.com"))
                    try ch.pipeline.syncOperations.addHandler(
                        ApplicationProtocolNegotiationHandler { alpn in
                            if case .negotiated(let p) = alpn { result.succeed(p) } else { result.succeed(nil) }
                            return ch.eventLoop.makeSucceededVoidFuture()
                        })
                }
            }
            .connect(host: "127.0.0.1", port: port)
        // A failed connect or handshake settles the result too.
        connected.whenFailure { result.fail($0) }
        connected.whenSuccess { $0.closeFuture.whenComplete { _ in result.fail(ChannelError.ioOnClosedChannel) } }
        let channel = try await connected.get()
        defer { channel.close(promise: nil) }
        return try await result.futureResult.get()
    }

    /// An HTTP/2 request over TLS with the traffic client.
    static func h2(_ server: ProxyServer, _ path: String, pki: TestPKI) async throws -> ClientResponse {
        try await TrafficClient.send(
            address: "127.0.0.1", port: try #require(server.port(of: "edge")), method: "GET", target: path, host: "api.example.com",
            headers: [], body: "", tls: try ClientTLS.trusting(caFile: pki.caCert, serverName: "api.example.com"), http2: true,
            timeout: .seconds(20))
    }

    @Test func aListenerOfferingH2ServesHTTP2OverTLS() async throws {
        let pki = try TestPKI.get()
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "h2-tls", tls: TLSFixtures.downstreamTLS(pki))]))
        #expect(config.startWarnings(ProxyOptions()).allSatisfy { !$0.contains("ALPN") })
        let server = try await TLSFixtures.start(config)
        let port = try #require(server.port(of: "edge"))
        let direct = try await Self.h2(server, "/direct", pki: pki)
        let forwarded = try await Self.h2(server, "/users/7", pki: pki)
        let both = try await Self.negotiated(port: port, offering: ["h2", "http/1.1"], pki: pki)
        let oneOne = try await Self.negotiated(port: port, offering: ["http/1.1"], pki: pki)
        // HTTP/1.1 over the same listener still works (ALPN `http/1.1`).
        let http1 = try await TLSFixtures.send(server, "/direct", pki: pki)
        await server.shutdown()
        #expect(direct.status == 200)
        #expect(direct.body == "h2-tls")
        #expect(forwarded.status == 200)
        let echo = try #require(try? JSON.parse(forwarded.body))
        #expect(echo["headers"]?["x-forwarded-proto"]?.stringValue == "https")
        #expect(both == "h2")
        #expect(oneOne == "http/1.1")
        #expect(http1.body == "h2-tls")
    }

    @Test func withoutALPNTheFirstBytesDecide() async throws {
        let pki = try TestPKI.get()
        // No `alpn_protocols`: nothing is negotiated, and AUTO looks for the preface.
        let tls = TLSFixtures.downstreamTLS(pki).replacingOccurrences(of: #""alpn_protocols": ["h2", "http/1.1"], "#, with: "")
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "detected", tls: tls)]))
        let server = try await TLSFixtures.start(config)
        let none = try await Self.negotiated(port: try #require(server.port(of: "edge")), offering: ["h2"], pki: pki)
        let r = try await Self.h2(server, "/direct", pki: pki)
        await server.shutdown()
        #expect(none == nil)
        #expect(r.body == "detected")
    }

    @Test func codecTypeHTTP1SpeaksHTTP1WhateverALPNChose() async throws {
        let pki = try TestPKI.get()
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [
                TLSFixtures.chain(body: "one", tls: TLSFixtures.downstreamTLS(pki), manager: #""codec_type": "HTTP1", "#)
            ]))
        let server = try await TLSFixtures.start(config)
        var h2Failed = false
        do {
            let r = try await Self.h2(server, "/direct", pki: pki)
            h2Failed = r.status != 200
        } catch {
            h2Failed = true
        }
        let http1 = try await TLSFixtures.send(server, "/direct", pki: pki)
        await server.shutdown()
        #expect(h2Failed)
        #expect(http1.body == "one")
    }

    /// The `transport_socket` of an upstream TLS context trusting `ca`, with `validation`
    /// fields after `trusted_ca`, and `tail` fields after `common_tls_context`.
    static func upstreamSocket(ca: String, validation: String = "", alpn: String = "", tail: String = "") -> String {
        """
        , "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"\(tail),
          "common_tls_context": {\(alpn)"validation_context": {"trusted_ca": {"filename": "\(ca)"}\(validation)}}}}
        """
    }

    static let http2Options =
        #", "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {"@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "explicit_http_config": {"http2_protocol_options": {}}}}"#

    /// `upstream_http_protocol_options` for an HTTP/1.1 cluster.
    static func autoOptions(_ fields: String) -> String {
        #", "typed_extension_protocol_options": {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {"@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", "explicit_http_config": {"http_protocol_options": {}}, "upstream_http_protocol_options": {"#
            + fields + "}}}"
    }

    /// Serves one request to `path` with `host` through a proxy whose cluster `users` has
    /// `clusterExtra`, dialling `upstream` for real.
    static func through(_ clusterExtra: String, upstream: TLSTestUpstream, path: String = "/users/1", host: String = "api.example.com")
        async throws -> WireResponse
    {
        let config = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "")], clusterExtra: clusterExtra, endpointPort: upstream.port))
        let server = try await TLSFixtures.start(config, upstreams: .real)
        let r: WireResponse
        do {
            r = try await TestClient.request(port: try #require(server.port(of: "edge")), path, host: host)
        } catch {
            await server.shutdown()
            throw error
        }
        await server.shutdown()
        return r
    }

    @Test func anHTTP2ClusterSpeaksH2OverTLS() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false, alpn: ["h2", "http/1.1"])
        let socket = Self.upstreamSocket(ca: pki.caCert, tail: #", "sni": "users.example.com""#)
        let h2 = try await Self.through(Self.http2Options + socket, upstream: upstream)
        // HTTP/1.1 clusters offer `http/1.1` (the pool's fallback), so the upstream picks it.
        let h1 = try await Self.through(socket, upstream: upstream)
        await upstream.close()
        #expect(h2.status == 200)
        #expect(h2.echo?["protocol"]?.stringValue == "HTTP/2")
        #expect(h1.status == 200)
        #expect(h1.echo?["protocol"]?.stringValue == "HTTP/1.1")
        #expect(upstream.negotiatedProtocols == ["h2", "http/1.1"])
    }

    @Test func configuredALPNWinsOverTheFallback() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false, alpn: ["h2", "http/1.1"])
        let socket = Self.upstreamSocket(ca: pki.caCert, alpn: #""alpn_protocols": ["h2"], "#)
        let r = try await Self.through(Self.http2Options + socket, upstream: upstream)
        await upstream.close()
        #expect(r.echo?["protocol"]?.stringValue == "HTTP/2")
        #expect(upstream.negotiatedProtocols == ["h2"])
    }

    static let sanFailure =
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: "
        + "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher:TLS_error_end"

    @Test func sanMatchersAreChecked() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false)
        func socket(_ matchers: String) -> String {
            Self.upstreamSocket(ca: pki.caCert, validation: ", \"match_typed_subject_alt_names\": [\(matchers)]")
        }
        // The certificate has DNS `*.example.com`, `example.com`, `localhost` and IP 127.0.0.1.
        let wildcard = try await Self.through(
            socket(#"{"san_type": "DNS", "matcher": {"exact": "users.example.com"}}"#), upstream: upstream)
        let ip = try await Self.through(socket(#"{"san_type": "IP_ADDRESS", "matcher": {"exact": "127.0.0.1"}}"#), upstream: upstream)
        let wrong = try await Self.through(socket(#"{"san_type": "DNS", "matcher": {"exact": "users.internal"}}"#), upstream: upstream)
        let wrongType = try await Self.through(socket(#"{"san_type": "URI", "matcher": {"exact": "localhost"}}"#), upstream: upstream)
        let deprecated = try await Self.through(
            Self.upstreamSocket(ca: pki.caCert, validation: #", "match_subject_alt_names": [{"suffix": ".example.com"}]"#),
            upstream: upstream)
        let received = upstream.registry.received.count
        await upstream.close()
        #expect(wildcard.status == 200)
        #expect(ip.status == 200)
        #expect(deprecated.status == 200)
        for r in [wrong, wrongType] {
            #expect(r.status == 503)
            #expect(r.body == Self.sanFailure)
        }
        // The failed checks sent nothing upstream.
        #expect(received == 3)
    }

    @Test func anHTTP2ClusterFailsItsSANCheckTheSameWay() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false, alpn: ["h2"])
        let socket = Self.upstreamSocket(
            ca: pki.caCert, validation: #", "match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": "a.internal"}}]"#)
        let r = try await Self.through(Self.http2Options + socket, upstream: upstream)
        await upstream.close()
        #expect(r.status == 503)
        #expect(r.body == Self.sanFailure)
    }

    @Test func anUntrustedCertificateGivesBoringSSLsReason() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false)
        // The server certificate itself as the CA: its issuer is unknown.
        let r = try await Self.through(Self.upstreamSocket(ca: pki.serverCert), upstream: upstream)
        await upstream.close()
        #expect(r.status == 503)
        #expect(
            r.body
                == "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: "
                + "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end")
    }

    @Test func autoSNISendsTheRequestsHost() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false)
        let extra = Self.autoOptions(#""auto_sni": true"#) + Self.upstreamSocket(ca: pki.caCert, tail: #", "sni": "fallback.example.com""#)
        let byHost = try await Self.through(extra, upstream: upstream, host: "shop.example.com:8080")
        let byIP = try await Self.through(extra, upstream: upstream, host: "127.0.0.1:8080")
        await upstream.close()
        #expect(byHost.status == 200)
        #expect(byIP.status == 200)
        // An IP host sets no SNI: the configured one is sent.
        #expect(upstream.serverNames == ["shop.example.com", "fallback.example.com"])
    }

    @Test func autoSANValidationChecksTheHost() async throws {
        let pki = try TestPKI.get()
        let upstream = try await TLSTestUpstream(pki: pki, requireClientCertificate: false)
        let extra = Self.autoOptions(#""auto_sni": true, "auto_san_validation": true"#) + Self.upstreamSocket(ca: pki.caCert)
        let ok = try await Self.through(extra, upstream: upstream, host: "shop.example.com")
        let wrong = try await Self.through(extra, upstream: upstream, host: "shop.other.org")
        await upstream.close()
        #expect(ok.status == 200)
        #expect(wrong.status == 503)
        #expect(
            wrong.body
                == "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: "
                + "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: verify SAN list:TLS_error_end"
        )
    }

    @Test func sanMatchersWithoutATrustedCAAreRefused() throws {
        let socket = """
            , "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
              "common_tls_context": {"validation_context": {"match_typed_subject_alt_names": [{"san_type": "DNS", "matcher": {"exact": "a"}}]}}}}
            """
        var config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "")], clusterExtra: socket))
        #expect(
            config.loadTLS().map(\.message) == [
                "SAN-based verification of peer certificates without trusted CA is insecure and not allowed"
            ])
    }

    @Test func aClientsForwardedProtoIsReplacedOnlyAtTheEdge() async throws {
        // `use_remote_address` without trusted hops: the client is not trusted.
        let edge = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "ok", requireTLS: true, manager: #""use_remote_address": true, "#)]))
        let trusting = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [
                TLSFixtures.chain(body: "ok", requireTLS: true, manager: #""use_remote_address": true, "xff_num_trusted_hops": 1, "#)
            ]))
        let inner = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "ok", requireTLS: true)]))
        var results: [WireResponse] = []
        for config in [edge, trusting, inner] {
            let server = try await TLSFixtures.start(config)
            let port = try #require(server.port(of: "edge"))
            results.append(
                try await TestClient.request(port: port, "/direct", host: "api.example.com", headers: [("x-forwarded-proto", "https")]))
            results.append(
                try await TestClient.request(port: port, "/users/1", host: "api.example.com", headers: [("x-forwarded-proto", "https")]))
            await server.shutdown()
        }
        // At the edge `require_tls` sees `http` and redirects; the upstream gets `http`.
        #expect(results[0].status == 301)
        #expect(results[1].status == 301)
        // A trusted hop's, or any client's without `use_remote_address`, is kept.
        for i in 2..<6 { #expect(results[i].status == 200, "\(i)") }
        #expect(results[3].echo?["headers"]?["x-forwarded-proto"]?.stringValue == "https")
        #expect(results[5].echo?["headers"]?["x-forwarded-proto"]?.stringValue == "https")
    }

    @Test func theEdgeSetsTheSchemeOfTheConnection() async throws {
        let edge = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [TLSFixtures.chain(body: "ok", manager: #""use_remote_address": true, "#)]))
        let server = try await TLSFixtures.start(edge)
        let r = try await TestClient.request(
            port: try #require(server.port(of: "edge")), "/users/1", host: "api.example.com",
            headers: [("x-forwarded-proto", "https"), ("x-forwarded-proto", "ftp")])
        await server.shutdown()
        #expect(r.status == 200)
        let headers = try #require(r.echo?["headers"])
        #expect(headers["x-forwarded-proto"]?.stringValue == "http")
    }
}
