import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCTestSupport

@testable import XDSCProxy

enum TLSFixtures {
    /// A configuration read from Envoy JSON by the Envoy reader, failing on any error.
    static func configuration(_ json: String, file: String = "envoy.json") throws -> ProxyConfiguration {
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(path: file, bytes: Array(json.utf8))], into: sink)
        let errors = sink.all.filter { $0.severity == .error }
        guard errors.isEmpty else {
            throw Fixtures.FixtureError(message: errors.map { "\($0.span): \($0.message)" }.joined(separator: "; "))
        }
        return ProxyConfiguration(read.config)
    }

    /// A downstream TLS `transport_socket` with the PKI's server certificate.
    static func downstreamTLS(_ pki: TestPKI, extra: String = "", key: String? = nil) -> String {
        """
        "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"\(extra),
          "common_tls_context": {"alpn_protocols": ["h2", "http/1.1"], "tls_certificates": [{
            "certificate_chain": {"filename": "\(pki.serverCert)"},
            "private_key": {"filename": "\(key ?? pki.serverKey)"}}]}}}
        """
    }

    /// A filter chain with a connection manager whose only route answers `body` directly
    /// (`/direct`) or goes to cluster `users`; `requireTLS` on the virtual host.
    static func chain(body: String, match: String = "", tls: String? = nil, requireTLS: Bool = false, manager: String = "") -> String {
        """
        {\(match)"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "stat_prefix": "edge", \(manager)"http_filters": [{"name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
          "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"]\(requireTLS ? ", \"require_tls\": \"ALL\"" : ""),
            "routes": [{"match": {"path": "/direct"}, "direct_response": {"status": 200, "body": {"inline_string": "\(body)"}}},
                       {"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}}}]\(tls.map { ", " + $0 } ?? "")}
        """
    }

    /// A bootstrap with one listener of `chains` and cluster `users` (with `clusterExtra`, e.g. a
    /// transport socket) at `endpoint`.
    static func bootstrap(
        chains: [String], inspector: Bool = false, clusterExtra: String = "", endpointPort: Int = 8081
    ) -> String {
        """
        {"static_resources": {
          "listeners": [{"name": "edge", "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
            \(inspector ? "\"listener_filters\": [{\"name\": \"envoy.filters.listener.tls_inspector\", \"typed_config\": {\"@type\": \"type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector\"}}]," : "")
            "filter_chains": [\(chains.joined(separator: ", "))]}],
          "clusters": [{"name": "users", "connect_timeout": "2s"\(clusterExtra),
            "load_assignment": {"cluster_name": "users", "endpoints": [{"lb_endpoints": [
              {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": \(endpointPort)}}}}]}]}}]}}
        """
    }

    /// Starts `config` with every listener on a free port.
    static func start(_ config: ProxyConfiguration, upstreams: UpstreamMode = .mock) async throws -> ProxyServer {
        var options = ProxyOptions()
        options.upstreams = upstreams
        options.seed = 1
        for l in config.listeners { options.portMap[l.name] = 0 }
        return try await ProxyServer.start(config, options: options)
    }

    /// A request over TLS to the listener `edge`, trusting the PKI's CA.
    static func send(
        _ server: ProxyServer, _ path: String, sni: String? = "api.example.com", host: String = "api.example.com", pki: TestPKI,
        clientCertificate: Bool = false
    ) async throws -> ClientResponse {
        var tls = try ClientTLS.trusting(caFile: pki.caCert, serverName: sni)
        if clientCertificate { tls.clientCertificate = (.file(pki.clientCert), .file(pki.clientKey)) }
        return try await TrafficClient.send(
            address: "127.0.0.1", port: try #require(server.port(of: "edge")), method: "GET", target: path, host: host, headers: [],
            body: "", tls: tls, timeout: .seconds(20))
    }
}

/// A TLS upstream for `--upstreams real`: answers like a mock (a JSON echo, over HTTP/1.1 or
/// HTTP/2 with prior knowledge, whichever the proxy opens with) and records the SNI and the
/// ALPN result of each connection (the SNI read with NIO's own `SNIHandler`); optionally
/// requires a client certificate from the PKI's CA.
final class TLSTestUpstream: Sendable {
    let channel: Channel
    let registry: MockRegistry
    private let names: SeenNames
    private let protocols: SeenNames

    var port: Int { channel.localAddress?.port ?? 0 }
    var serverNames: [String] { names.values }
    /// The ALPN protocol of each completed handshake (empty when none was negotiated).
    var negotiatedProtocols: [String] { protocols.values }

    init(pki: TestPKI, requireClientCertificate: Bool, alpn: [String] = []) async throws {
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.serverCert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.serverKey, format: .pem)))
        c.applicationProtocols = alpn
        if requireClientCertificate {
            c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pki.caCert))
            c.certificateVerification = .noHostnameVerification
        }
        let context = try NIOSSLContext(configuration: c)
        let registry = MockRegistry()
        let names = SeenNames()
        let protocols = SeenNames()
        self.registry = registry
        self.names = names
        self.protocols = protocols
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(
                            SNIHandler { result in
                                if case .hostname(let h) = result { names.append(h) } else { names.append("") }
                                return ch.eventLoop.makeCompletedFuture {
                                    try ch.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                                    try ch.pipeline.syncOperations.addHandler(HandshakeRecorder(protocols))
                                    try MockUpstreamPipeline.configure(ch, cluster: "users", endpoint: "tls-upstream", registry: registry)
                                }
                            }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }
}

/// A locked list of strings (the SNI seen per connection).
final class SeenNames: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func append(_ s: String) { lock.withLock { list.append(s) } }
    var values: [String] { lock.withLock { list } }
}

/// Records the ALPN result of each completed TLS handshake.
final class HandshakeRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    private let seen: SeenNames
    init(_ seen: SeenNames) { self.seen = seen }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let p)? = event as? TLSUserEvent { seen.append(p ?? "") }
        context.fireUserInboundEventTriggered(event)
    }
}
