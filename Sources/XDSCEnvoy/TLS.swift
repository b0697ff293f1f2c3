import XDSCDiagnostics
import XDSCJSON

/// A certificate, private key or CA bundle a TLS context names (`envoy.config.core.v3.DataSource`),
/// with where the configuration names it, so that a file that cannot be read or a key that
/// does not fit is reported there. Two sources are equal when their data is.
public struct TLSSource: Equatable, Sendable, EnvoyEncodable {
    /// The file or the inline PEM text (`inline_bytes` is kept decoded, as `inline_string`).
    public var data: DataSource
    /// The `filename` or `inline_*` value in the configuration (not serialised).
    public var span: SourceSpan?

    /// A source.
    public init(_ data: DataSource, span: SourceSpan? = nil) {
        self.data = data
        self.span = span
    }

    /// A file, named as Envoy reads it (a relative name is relative to the working directory).
    public static func file(_ path: String) -> TLSSource { TLSSource(.filename(path)) }

    /// Equal data, wherever it was written.
    public static func == (a: TLSSource, b: TLSSource) -> Bool { a.data == b.data }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON { data.json }
}

/// `envoy.extensions.transport_sockets.tls.v3.TlsParameters`: the protocol versions
/// (`TLSv1_0` ... `TLSv1_3`, `TLS_AUTO`); cipher suites, curves and signature algorithms are
/// not modelled.
public struct TLSParameters: Equatable, Sendable {
    /// `tls_minimum_protocol_version`, nil when unset (`TLS_AUTO`).
    public var minimumProtocolVersion: String?
    /// `tls_maximum_protocol_version`, nil when unset (`TLS_AUTO`).
    public var maximumProtocolVersion: String?

    /// Parameters.
    public init(minimumProtocolVersion: String? = nil, maximumProtocolVersion: String? = nil) {
        self.minimumProtocolVersion = minimumProtocolVersion
        self.maximumProtocolVersion = maximumProtocolVersion
    }

    /// Whether nothing is set.
    public var isEmpty: Bool { minimumProtocolVersion == nil && maximumProtocolVersion == nil }

    var json: JSON {
        var o = JSONObject()
        o.set("tls_minimum_protocol_version", minimumProtocolVersion.map(JSON.string))
        o.set("tls_maximum_protocol_version", maximumProtocolVersion.map(JSON.string))
        return .object(o)
    }
}

/// `envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext` with one certificate.
public struct DownstreamTLSContext: Equatable, Sendable {
    /// The first `tls_certificates` entry's `certificate_chain`; nil when the context names none
    /// (SDS secrets).
    public var certificateChain: TLSSource?
    /// The first `tls_certificates` entry's `private_key`.
    public var privateKey: TLSSource?
    /// ALPN protocols offered to clients.
    public var alpnProtocols: [String]
    /// `require_client_certificate`.
    public var requireClientCertificate: Bool
    /// `common_tls_context.validation_context.trusted_ca`: the CAs client certificates are checked against.
    public var trustedCA: TLSSource?
    /// `common_tls_context.tls_params`.
    public var parameters: TLSParameters
    /// Where the context was written (not serialised).
    public var source: SourceSpan?

    /// A downstream TLS context with a certificate and key from files (the shape xdsc writes).
    public init(certificateChain: String, privateKey: String, alpnProtocols: [String] = ["h2", "http/1.1"]) {
        self.init(chain: .file(certificateChain), key: .file(privateKey), alpnProtocols: alpnProtocols)
    }

    /// A downstream TLS context.
    public init(
        chain: TLSSource?, key: TLSSource?, alpnProtocols: [String] = [], requireClientCertificate: Bool = false,
        trustedCA: TLSSource? = nil, parameters: TLSParameters = TLSParameters(), source: SourceSpan? = nil
    ) {
        self.certificateChain = chain
        self.privateKey = key
        self.alpnProtocols = alpnProtocols
        self.requireClientCertificate = requireClientCertificate
        self.trustedCA = trustedCA
        self.parameters = parameters
        self.source = source
    }

    /// Equal settings, wherever they were written.
    public static func == (a: DownstreamTLSContext, b: DownstreamTLSContext) -> Bool {
        a.certificateChain == b.certificateChain && a.privateKey == b.privateKey && a.alpnProtocols == b.alpnProtocols
            && a.requireClientCertificate == b.requireClientCertificate && a.trustedCA == b.trustedCA && a.parameters == b.parameters
    }

    /// The `transport_socket` entry.
    public var transportSocket: TypedExtension {
        var common = JSONObject()
        if certificateChain != nil || privateKey != nil {
            var cert = JSONObject()
            cert.set("certificate_chain", certificateChain)
            cert.set("private_key", privateKey)
            common["tls_certificates"] = .array([.object(cert)])
        }
        if let trustedCA { common["validation_context"] = .object(["trusted_ca": trustedCA.json]) }
        if !parameters.isEmpty { common["tls_params"] = parameters.json }
        common.setStrings("alpn_protocols", alpnProtocols)
        var o = JSONObject()
        o["common_tls_context"] = .object(common)
        if requireClientCertificate { o["require_client_certificate"] = .bool(true) }
        return TypedExtension(
            name: "envoy.transport_sockets.tls",
            typedConfig: TypedMessage("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", o))
    }
}

/// `envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher`: a SAN type and the
/// string matcher the certificate's SANs of that type are compared with.
public struct SubjectAltNameMatcher: Equatable, Sendable, EnvoyEncodable {
    /// `san_type`.
    public enum SANType: String, Sendable, CaseIterable {
        case dns = "DNS"
        case email = "EMAIL"
        case uri = "URI"
        case ipAddress = "IP_ADDRESS"
        case otherName = "OTHER_NAME"
    }

    /// `san_type`.
    public var sanType: SANType
    /// `matcher`.
    public var matcher: StringMatcher
    /// `oid` (only for `OTHER_NAME`).
    public var oid: String?

    /// A matcher of SANs of `sanType`.
    public init(_ sanType: SANType, _ matcher: StringMatcher, oid: String? = nil) {
        self.sanType = sanType
        self.matcher = matcher
        self.oid = oid
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o: JSONObject = ["san_type": .string(sanType.rawValue), "matcher": matcher.json]
        o.set("oid", oid.map(JSON.string))
        return .object(o)
    }
}

/// `envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`.
public struct UpstreamTLSContext: Equatable, Sendable {
    /// `sni`.
    public var sni: String?
    /// `common_tls_context.validation_context.trusted_ca`: without it Envoy does not verify the
    /// upstream's certificate.
    public var trustedCA: TLSSource?
    /// `match_typed_subject_alt_names`: the certificate must have a SAN one of them matches.
    public var subjectAltNameMatchers: [SubjectAltNameMatcher]
    /// The deprecated `match_subject_alt_names`: each matcher is tried on the DNS, URI, email
    /// and IP address SANs (`getSubjectAltNameMatchers`).
    public var deprecatedSubjectAltNames: [StringMatcher]
    /// ALPN protocols offered (`h2` for HTTP/2 upstreams).
    public var alpnProtocols: [String]
    /// The client certificate (`tls_certificates[0].certificate_chain`), if any.
    public var certificateChain: TLSSource?
    /// The client certificate's `private_key`.
    public var privateKey: TLSSource?
    /// `common_tls_context.tls_params`.
    public var parameters: TLSParameters
    /// Where the context was written (not serialised).
    public var source: SourceSpan?

    /// An upstream TLS context; `trustedCA` names a file; each of `verifySubjectAltNames` is
    /// an exact DNS SAN matcher.
    public init(sni: String? = nil, trustedCA: String? = nil, verifySubjectAltNames: [String] = [], alpnProtocols: [String] = []) {
        self.init(
            sni: sni, trustedCA: trustedCA.map(TLSSource.file),
            subjectAltNameMatchers: verifySubjectAltNames.map { SubjectAltNameMatcher(.dns, .exact($0)) }, alpnProtocols: alpnProtocols)
    }

    /// An upstream TLS context.
    public init(
        sni: String?, trustedCA: TLSSource?, subjectAltNameMatchers: [SubjectAltNameMatcher] = [],
        deprecatedSubjectAltNames: [StringMatcher] = [], alpnProtocols: [String] = [], chain: TLSSource? = nil, key: TLSSource? = nil,
        parameters: TLSParameters = TLSParameters(), source: SourceSpan? = nil
    ) {
        self.sni = sni
        self.trustedCA = trustedCA
        self.subjectAltNameMatchers = subjectAltNameMatchers
        self.deprecatedSubjectAltNames = deprecatedSubjectAltNames
        self.alpnProtocols = alpnProtocols
        self.certificateChain = chain
        self.privateKey = key
        self.parameters = parameters
        self.source = source
    }

    /// The SAN matchers Envoy checks: `match_typed_subject_alt_names`, then each deprecated
    /// `match_subject_alt_names` entry as a DNS, URI, email and IP address matcher.
    public var effectiveSubjectAltNameMatchers: [SubjectAltNameMatcher] {
        subjectAltNameMatchers
            + deprecatedSubjectAltNames.flatMap { m in [.dns, .uri, .email, .ipAddress].map { SubjectAltNameMatcher($0, m) } }
    }

    /// Equal settings, wherever they were written.
    public static func == (a: UpstreamTLSContext, b: UpstreamTLSContext) -> Bool {
        a.sni == b.sni && a.trustedCA == b.trustedCA && a.subjectAltNameMatchers == b.subjectAltNameMatchers
            && a.deprecatedSubjectAltNames == b.deprecatedSubjectAltNames
            && a.alpnProtocols == b.alpnProtocols && a.certificateChain == b.certificateChain && a.privateKey == b.privateKey
            && a.parameters == b.parameters
    }

    /// The `transport_socket` entry.
    public var transportSocket: TypedExtension {
        var common = JSONObject()
        if certificateChain != nil || privateKey != nil {
            var cert = JSONObject()
            cert.set("certificate_chain", certificateChain)
            cert.set("private_key", privateKey)
            common["tls_certificates"] = .array([.object(cert)])
        }
        if trustedCA != nil || !subjectAltNameMatchers.isEmpty || !deprecatedSubjectAltNames.isEmpty {
            var validation = JSONObject()
            validation.set("trusted_ca", trustedCA)
            validation.setList("match_typed_subject_alt_names", subjectAltNameMatchers)
            validation.setList("match_subject_alt_names", deprecatedSubjectAltNames)
            common["validation_context"] = .object(validation)
        }
        if !parameters.isEmpty { common["tls_params"] = parameters.json }
        common.setStrings("alpn_protocols", alpnProtocols)
        var o = JSONObject()
        if !common.isEmpty { o["common_tls_context"] = .object(common) }
        o.set("sni", sni.map(JSON.string))
        return TypedExtension(
            name: "envoy.transport_sockets.tls",
            typedConfig: TypedMessage("envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", o))
    }
}
