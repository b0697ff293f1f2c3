import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import XDSCDiagnostics
import XDSCEnvoy

/// A TLS context of the configuration that cannot be used: a certificate, key or CA that is
/// missing, unreadable or not PEM, or a key that does not match its certificate.
public struct TLSSetupError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, lower-case, names in backticks.
    public var message: String
    /// Where the configuration names it (the data source's value, else the TLS context or
    /// listener or cluster); nil when the configuration has no positions.
    public var span: SourceSpan?

    /// An error at `span`.
    public init(_ message: String, at span: SourceSpan?) {
        self.message = message
        self.span = span
    }

    /// `file:line:col: message`, or the message alone.
    public var description: String { span.map { "\($0.file):\($0.start): \(message)" } ?? message }
}

/// The NIOSSL contexts of the TLS contexts of a configuration, built once at start.
/// Envoy's defaults: servers TLS 1.2 to 1.3, clients TLS 1.2 to 1.2
/// (`ServerContextConfigImpl`, `ClientContextConfigImpl`); without a `trusted_ca` a client
/// does not verify the server.
enum TLSContexts {
    /// The ALPN protocols the proxy can speak: a TLS listener or cluster offers only these of
    /// its `alpn_protocols`.
    static let servedProtocols: Set<String> = ["h2", "http/1.1"]

    /// `name` as SNI: nil when empty or an IP address, which SNI cannot carry.
    static func serverName(_ name: String?) -> String? {
        guard let name, !name.isEmpty, (try? NIOCore.SocketAddress(ipAddress: name, port: 0)) == nil else { return nil }
        return name
    }

    /// The server context of a downstream TLS context.
    static func server(_ tls: DownstreamTLSContext, at fallback: SourceSpan?) throws(TLSSetupError) -> NIOSSLContext {
        let at = tls.source ?? fallback
        guard let chainSource = tls.certificateChain, let keySource = tls.privateKey else {
            throw TLSSetupError("the TLS context has no `tls_certificates` entry with a `certificate_chain` and a `private_key`", at: at)
        }
        let chain = try certificates(chainSource, "certificate chain", at: at)
        let key = try privateKey(keySource, at: at)
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        try versions(&c, tls.parameters, defaultMaximum: .tlsv13, at: at)
        c.applicationProtocols = tls.alpnProtocols.filter(servedProtocols.contains)
        if let ca = tls.trustedCA {
            c.trustRoots = .certificates(try certificates(ca, "trusted CA", at: at))
            c.certificateVerification = tls.requireClientCertificate ? .noHostnameVerification : .optionalVerification
        } else if tls.requireClientCertificate {
            throw TLSSetupError(
                "`require_client_certificate` needs `validation_context.trusted_ca` to check the certificates against", at: at)
        } else {
            c.certificateVerification = .none
        }
        return try context(c, keySource.span ?? at)
    }

    /// The client context of an upstream TLS context, for a cluster speaking HTTP/2 or HTTP/1.1.
    static func client(_ tls: UpstreamTLSContext, http2: Bool = false, at fallback: SourceSpan?) throws(TLSSetupError) -> NIOSSLContext {
        let at = tls.source ?? fallback
        if !tls.effectiveSubjectAltNameMatchers.isEmpty && tls.trustedCA == nil {
            // `CertificateValidationContextConfigImpl`'s constructor refuses it.
            throw TLSSetupError("SAN-based verification of peer certificates without trusted CA is insecure and not allowed", at: at)
        }
        var c = TLSConfiguration.makeClientConfiguration()
        try versions(&c, tls.parameters, defaultMaximum: .tlsv12, at: at)
        if let ca = tls.trustedCA {
            c.trustRoots = .certificates(try certificates(ca, "trusted CA", at: at))
            c.certificateVerification = .noHostnameVerification
        } else {
            c.certificateVerification = .none
        }
        if let chainSource = tls.certificateChain, let keySource = tls.privateKey {
            c.certificateChain = try certificates(chainSource, "certificate chain", at: at).map { .certificate($0) }
            c.privateKey = .privateKey(try privateKey(keySource, at: at))
        }
        // `ClientContextImpl::newSsl`: the context's `alpn_protocols`, else the connection
        // pool's fallback (`h2` for HTTP/2, `http/1.1` for HTTP/1.1).
        c.applicationProtocols = tls.alpnProtocols.isEmpty ? [http2 ? "h2" : "http/1.1"] : tls.alpnProtocols
        return try context(c, tls.privateKey?.span ?? at)
    }

    private static func versions(
        _ c: inout TLSConfiguration, _ p: TLSParameters, defaultMaximum: TLSVersion, at: SourceSpan?
    ) throws(TLSSetupError) {
        // In order, oldest first.
        let all: [(String, TLSVersion)] = [("TLSv1_0", .tlsv1), ("TLSv1_1", .tlsv11), ("TLSv1_2", .tlsv12), ("TLSv1_3", .tlsv13)]
        func rank(_ name: String?) -> Int? { name.flatMap { n in all.firstIndex { $0.0 == n } } }
        let low = rank(p.minimumProtocolVersion) ?? 2
        let high = rank(p.maximumProtocolVersion) ?? max(all.firstIndex { $0.1 == defaultMaximum } ?? 3, low)
        if high < low { throw TLSSetupError("`tls_maximum_protocol_version` is below `tls_minimum_protocol_version`", at: at) }
        c.minimumTLSVersion = all[low].1
        c.maximumTLSVersion = all[high].1
    }

    private static func context(_ c: TLSConfiguration, _ at: SourceSpan?) throws(TLSSetupError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: c)
        } catch NIOSSLError.failedToLoadPrivateKey {
            throw TLSSetupError("the private key does not match the certificate", at: at)
        } catch {
            throw TLSSetupError("the TLS context cannot be used: \(error)", at: at)
        }
    }

    /// The PEM certificates of a source (a chain or a CA bundle).
    static func certificates(_ s: TLSSource, _ what: String, at: SourceSpan?) throws(TLSSetupError) -> [NIOSSLCertificate] {
        let bytes = try pem(s, what, at: at)
        let list = try? NIOSSLCertificate.fromPEMBytes(bytes)
        guard let list, !list.isEmpty else {
            throw TLSSetupError("the \(what) \(name(s)) holds no PEM certificate", at: s.span ?? at)
        }
        return list
    }

    /// The PEM private key of a source.
    static func privateKey(_ s: TLSSource, at: SourceSpan?) throws(TLSSetupError) -> NIOSSLPrivateKey {
        let bytes = try pem(s, "private key", at: at)
        guard let key = try? NIOSSLPrivateKey(bytes: bytes, format: .pem) else {
            throw TLSSetupError("the private key \(name(s)) is not a PEM private key", at: s.span ?? at)
        }
        return key
    }

    private static func name(_ s: TLSSource) -> String {
        if case .filename(let f) = s.data { return "file `\(f)`" }
        return "(inline)"
    }

    /// The bytes of a source: a file is read as Envoy reads it, relative to the working directory.
    static func pem(_ s: TLSSource, _ what: String, at: SourceSpan?) throws(TLSSetupError) -> [UInt8] {
        switch s.data {
        case .inlineString(let text): return Array(text.utf8)
        case .filename(let path):
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw TLSSetupError("the \(what) file `\(path)` does not exist", at: s.span ?? at)
            }
            guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
                throw TLSSetupError("the \(what) file `\(path)` cannot be read", at: s.span ?? at)
            }
            return Array(data)
        }
    }
}

/// What a connection's first bytes tell the filter chain match (Envoy's `tls_inspector`):
/// the transport protocol and the ClientHello's SNI and ALPN.
struct ConnectionFacts: Equatable, Sendable {
    /// `tls` or `raw_buffer`.
    var transportProtocol: String
    /// The SNI, lower-cased; empty when none.
    var serverName: String
    /// The ALPN protocols the client offers.
    var applicationProtocols: [String]

    /// A connection nothing inspected: `raw_buffer` without SNI.
    static let uninspected = ConnectionFacts(transportProtocol: "raw_buffer", serverName: "", applicationProtocols: [])
}

/// A cluster's upstream TLS (`transport_socket` with an `UpstreamTlsContext`), dialled with
/// `--upstreams real`; the mocks speak plain HTTP.
public struct UpstreamTLS: Sendable {
    /// The context as configured.
    public var context: UpstreamTLSContext
    /// Where the cluster was written.
    public var source: SourceSpan?
    /// The cluster's `upstream_http_protocol_options` (`auto_sni`, `auto_san_validation`).
    public var httpOptions: UpstreamHTTPProtocolOptions?
    /// The client context built from `context` (`ProxyConfiguration.loadTLS`).
    var clientContext: NIOSSLContext?
    /// The SNI `auto_sni` took from the request's host (`forRequest`).
    var requestServerName: String?
    /// The SANs `auto_san_validation` requires, from the request's host (`forRequest`).
    var requestSubjectAltNames: [String] = []

    /// An upstream TLS context of a cluster written at `source`.
    public init(context: UpstreamTLSContext, source: SourceSpan? = nil, httpOptions: UpstreamHTTPProtocolOptions? = nil) {
        self.context = context
        self.source = source
        self.httpOptions = httpOptions
    }

    /// The SNI sent: the request's host with `auto_sni`, else `sni`; none when unset (as Envoy
    /// without `auto_sni`) or when it is an IP address (not allowed in SNI).
    var serverName: String? {
        requestServerName ?? TLSContexts.serverName(context.sni)
    }

    /// What the upstream's certificate must show beyond the CA check.
    var check: CertificateCheck {
        CertificateCheck(verifySubjectAltNames: requestSubjectAltNames, matchers: context.effectiveSubjectAltNameMatchers)
    }

    /// What tells connections of this TLS apart for pooling (the SNI and the SANs checked, as
    /// Envoy's transport socket options hash them).
    var connectionKey: String {
        (serverName ?? "") + "\u{0}" + requestSubjectAltNames.joined(separator: "\u{0}")
    }

    /// This TLS for a request with `headers`: with `auto_sni` the SNI is its host (or the
    /// `override_auto_sni_header`), without the port and not for an IP address; with
    /// `auto_san_validation` the certificate must have a SAN for it (`Filter::decodeHeaders`,
    /// router.cc, on the host the route's rewrites produced).
    func forRequest(_ headers: HTTPHeaders) -> UpstreamTLS {
        guard let o = httpOptions, o.autoSNI || o.autoSANValidation else { return self }
        var value = headers.first(name: "host") ?? ""
        if let name = o.overrideAutoSNIHeader {
            let all = headers[name]
            if !all.isEmpty && !all.joined(separator: ",").isEmpty { value = all.joined(separator: ",") }
        }
        let authority = Self.parseAuthority(value)
        var out = self
        if o.autoSNI && !authority.isIP && !authority.host.isEmpty { out.requestServerName = authority.host }
        if o.autoSANValidation { out.requestSubjectAltNames = [authority.host] }
        return out
    }

    /// `Http::Utility::parseAuthority`: the host without a valid port, brackets stripped from
    /// an IPv6 address, and whether it is an IP address.
    static func parseAuthority(_ value: String) -> (host: String, isIP: Bool) {
        var host = Substring(value)
        if let colon = value.lastIndex(of: ":"), value.last != "]" {
            let port = value[value.index(after: colon)...]
            if !port.isEmpty, port.allSatisfy(\.isASCIIDigit), let n = Int(port), n <= 65535 { host = value[..<colon] }
        }
        var candidate = host
        if candidate.first == "[" && candidate.last == "]" { candidate = candidate.dropFirst().dropLast() }
        if (try? NIOCore.SocketAddress(ipAddress: String(candidate), port: 0)) != nil { return (String(candidate), true) }
        return (String(host), false)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension UpstreamTargets.Target {
    /// This target for a request with `headers` (its TLS's `auto_sni` and `auto_san_validation`).
    func forRequest(_ headers: HTTPHeaders) -> UpstreamTargets.Target {
        guard let tls, tls.httpOptions != nil else { return self }
        var out = self
        out.tls = tls.forRequest(headers)
        return out
    }
}

extension ProxyConfiguration {
    /// Builds the TLS contexts of every filter chain and cluster, as Envoy loads them at
    /// start: the errors, one per context that cannot be used (none when every one loads).
    public mutating func loadTLS() -> [TLSSetupError] {
        var errors: [TLSSetupError] = []
        func load(_ chain: inout ProxyFilterChain) {
            // A certificate from SDS is not loaded (warned): the chain serves plain text.
            guard let tls = chain.tls, chain.serverContext == nil, tls.certificateChain != nil, tls.privateKey != nil else { return }
            do {
                chain.serverContext = try TLSContexts.server(tls, at: chain.source)
            } catch {
                errors.append(error)
            }
        }
        for i in listeners.indices {
            for j in listeners[i].chains.indices { load(&listeners[i].chains[j]) }
            if var d = listeners[i].defaultChain {
                load(&d)
                listeners[i].defaultChain = d
            }
        }
        for name in clusterOrder {
            guard var u = clusterTLS[name], u.clientContext == nil else { continue }
            do {
                u.clientContext = try TLSContexts.client(u.context, http2: clusterSettings[name]?.http2 ?? false, at: u.source)
                clusterTLS[name] = u
            } catch {
                errors.append(error)
            }
        }
        return errors
    }

    /// The `warning:` lines of a start: what the configuration uses that is not simulated,
    /// and with `--upstreams mock` that TLS clusters are dialled in plain text.
    public func startWarnings(_ options: ProxyOptions) -> [String] {
        var out = unsimulated
        if options.upstreams == .mock {
            for name in clusterOrder where clusterTLS[name] != nil {
                out.append("cluster `\(name)`: the mock upstreams speak plain HTTP; upstream TLS is used with `--upstreams real`")
            }
            for name in clusterOrder {
                guard let check = clusterSettings[name]?.healthCheck, case .tcp = check.kind, !check.tcpReceive.isEmpty else { continue }
                out.append(
                    "cluster `\(name)`: the mock upstreams do not answer TCP health check payloads; "
                        + "the check runs with `--upstreams real` (with mocks every endpoint is healthy)")
            }
        }
        return out
    }
}

extension ProxyConfiguration {
    /// What of a listener's TLS and filter chain selection is not simulated.
    static func tlsUnsimulated(_ l: Listener) -> [String] {
        var out: [String] = []
        let chains = l.filterChains + (l.defaultFilterChain.map { [$0] } ?? [])
        let other = Set(chains.flatMap(\.otherMatchFields)).subtracting(["transport_protocol"]).sorted()
        if !other.isEmpty {
            out.append(
                "listener `\(l.name)`: filter chains are selected by `server_names` and `transport_protocol` only; "
                    + other.map { "`\($0)`" }.joined(separator: ", ") + " not simulated")
        }
        if !l.tlsInspector && chains.contains(where: { !$0.serverNames.isEmpty || $0.transportProtocol == "tls" }) {
            out.append(
                "listener `\(l.name)`: without the `tls_inspector` listener filter no SNI or TLS is detected (as in Envoy), "
                    + "so chains matching `server_names` or `transport_protocol: tls` are never selected")
        }
        for c in chains {
            guard let tls = c.tls else { continue }
            if tls.certificateChain == nil || tls.privateKey == nil {
                out.append("listener `\(l.name)`: a certificate from SDS is not loaded; that filter chain serves plain HTTP/1.1")
            }
            let unserved = tls.alpnProtocols.filter { !TLSContexts.servedProtocols.contains($0) }
            if !unserved.isEmpty {
                out.append(
                    "listener `\(l.name)`: ALPN offers only `h2` and `http/1.1` of `alpn_protocols`; "
                        + unserved.map { "`\($0)`" }.joined(separator: ", ") + " not served")
            }
        }
        return out
    }

    /// What of a cluster's upstream TLS is not simulated.
    static func tlsUnsimulated(_ c: Cluster) -> [String] {
        guard let tls = c.tls else { return [] }
        var out: [String] = []
        if tls.effectiveSubjectAltNameMatchers.contains(where: { $0.sanType == .otherName }) {
            out.append("cluster `\(c.name)`: `OTHER_NAME` SAN matchers are not checked (they never match)")
        }
        return out
    }
}

extension UpstreamTLS {
    /// Adds the TLS handlers of a new upstream connection: the TLS client with the SNI, then
    /// the handshake check (SANs, Envoy's transport failure reason), which completes
    /// `verified` once the connection may carry requests.
    static func addHandlers(
        _ tls: UpstreamTLS, to pipeline: ChannelPipeline.SynchronousOperations, verified: EventLoopPromise<Void>? = nil
    ) throws {
        guard let context = tls.clientContext else { throw UpstreamFailure.connectionFailure }
        try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: tls.serverName))
        try pipeline.addHandler(UpstreamTLSHandshakeHandler(check: tls.check, verified: verified))
    }
}
