import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

/// What the proxy reads of an upstream's TLS checks and of `x-forwarded-proto` handling: SAN
/// matchers in both forms, `upstream_http_protocol_options` (`auto_sni`,
/// `auto_san_validation`) in both places, and `use_remote_address` / `xff_num_trusted_hops`.
@Suite struct UpstreamTLSOptionsTests {
    static func cluster(validation: String = "", extra: String = "") -> String {
        """
        static_resources:
          clusters:
          - name: c
            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 443}}}}]}]}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                common_tls_context:
                  validation_context:
                    trusted_ca: {filename: /etc/ca.pem}
        \(validation)
        \(extra)
        """
    }

    @Test func typedSANMatchersAreReadWithTheirTypeAndMatcher() {
        let r = read(
            Self.cluster(
                validation: """
                                match_typed_subject_alt_names:
                                - {san_type: DNS, matcher: {exact: api.example.com}}
                                - {san_type: URI, matcher: {prefix: "spiffe://prod/", ignore_case: true}}
                                - {san_type: 4, matcher: {safe_regex: {regex: "10\\\\..*"}}}
                    """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let tls = r.config.clusters.first?.tls
        #expect(
            tls?.subjectAltNameMatchers == [
                SubjectAltNameMatcher(.dns, .exact("api.example.com")),
                SubjectAltNameMatcher(.uri, StringMatcher(.prefix("spiffe://prod/"), ignoreCase: true)),
                SubjectAltNameMatcher(.ipAddress, StringMatcher(.safeRegex("10\\..*"))),
            ])
    }

    @Test func theDeprecatedFormIsTriedOnFourSANTypes() {
        let r = read(
            Self.cluster(
                validation: """
                                match_subject_alt_names: [{suffix: .example.com}]
                    """))
        let tls = r.config.clusters.first?.tls
        #expect(tls?.deprecatedSubjectAltNames == [StringMatcher(.suffix(".example.com"))])
        #expect(tls?.effectiveSubjectAltNameMatchers.map(\.sanType) == [.dns, .uri, .email, .ipAddress])
    }

    @Test func bothFormsTogetherAreAnError() {
        let r = read(
            Self.cluster(
                validation: """
                                match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: a}}]
                                match_subject_alt_names: [{exact: a}]
                    """))
        #expect(r.diagnostics.contains { $0.severity == .error && $0.message.contains("both `match_typed_subject_alt_names`") })
    }

    @Test func aSANMatcherWithoutTypeOrMatcherIsAnError() {
        let r = read(
            Self.cluster(
                validation: """
                                match_typed_subject_alt_names: [{matcher: {exact: a}}, {san_type: DNS}]
                    """))
        let errors = r.diagnostics.filter { $0.severity == .error }.map(\.message)
        #expect(errors.contains("`SubjectAltNameMatcher` needs `san_type`"))
        #expect(errors.contains("`SubjectAltNameMatcher` needs `matcher`"))
        #expect(r.config.clusters.first?.tls?.subjectAltNameMatchers == [])
    }

    @Test func sanMatchersAreWrittenBackAndReadAgain() {
        let tls = UpstreamTLSContext(
            sni: "a", trustedCA: .file("/ca.pem"), subjectAltNameMatchers: [SubjectAltNameMatcher(.email, .exact("ops@example.com"))],
            deprecatedSubjectAltNames: [])
        let json = tls.transportSocket.json.compactText()
        #expect(json.contains(#""match_typed_subject_alt_names":[{"san_type":"EMAIL","matcher":{"exact":"ops@example.com"}}]"#))
    }

    @Test(arguments: [
        """
            typed_extension_protocol_options:
              envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                explicit_http_config: {http_protocol_options: {}}
                upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true, override_auto_sni_header: X-SNI}
        """,
        """
            upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true, override_auto_sni_header: X-SNI}
        """,
    ])
    func autoSNIIsReadInEitherPlace(_ field: String) {
        let r = read(Self.cluster(extra: field))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        #expect(
            r.config.clusters.first?.upstreamHTTPProtocolOptions
                == UpstreamHTTPProtocolOptions(autoSNI: true, autoSANValidation: true, overrideAutoSNIHeader: "x-sni"))
    }

    @Test func autoConfigIsKeptAndWrittenBack() {
        let r = read(
            Self.cluster(
                extra: """
                        typed_extension_protocol_options:
                          envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                            "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                            auto_config: {http2_protocol_options: {}}
                    """))
        let c = r.config.clusters.first
        #expect(c?.autoHTTPConfig == true)
        #expect(c?.upstreamProtocol == .http1)
        #expect(c?.json.compactText().contains(#""auto_config":{}"#) == true)
    }

    @Test func autoSNIIsWrittenAsProtocolOptions() {
        var c = Cluster(name: "c")
        c.upstreamHTTPProtocolOptions = UpstreamHTTPProtocolOptions(autoSNI: true)
        let json = c.json.compactText()
        #expect(
            json.contains(
                #""explicit_http_config":{"http_protocol_options":{}},"upstream_http_protocol_options":{"auto_sni":true}"#))
    }

    @Test func remoteAddressAndTrustedHopsAreRead() {
        let r = read(
            HTTP2OptionsTests.listener(
                """
                          use_remote_address: true
                          xff_num_trusted_hops: 1
                """))
        let cm = r.config.listeners.first?.connectionManager
        #expect(cm?.useRemoteAddress == true)
        #expect(cm?.xffNumTrustedHops == 1)
        #expect(cm?.overwritesForwardedProto == false)
        let edge = read(HTTP2OptionsTests.listener("          use_remote_address: true")).config.listeners.first?.connectionManager
        #expect(edge?.overwritesForwardedProto == true)
        #expect(read(HTTP2OptionsTests.listener("")).config.listeners.first?.connectionManager.overwritesForwardedProto == false)
    }
}

/// What the proxy reads of TCP health checks: the `send` and `receive` payloads.
@Suite struct TCPHealthCheckReaderTests {
    static func cluster(_ tcp: String) -> String {
        """
        static_resources:
          clusters:
          - name: c
            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 6379}}}}]}]}
            health_checks:
            - timeout: 1s
              interval: 5s
              unhealthy_threshold: 2
              healthy_threshold: 1
              tcp_health_check: \(tcp)
        """
    }

    @Test func payloadsAreReadAsHexOrBase64() {
        let r = read(Self.cluster(#"{send: {text: "50494E47"}, receive: [{text: "504f"}, {binary: "Tkc="}]}"#))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let check = r.config.clusters.first?.healthChecks.first
        #expect(check?.kind == .tcp)
        #expect(check?.tcpSend?.bytes == Array("PING".utf8))
        #expect(check?.tcpReceive.compactMap(\.bytes) == [Array("PO".utf8), Array("NG".utf8)])
    }

    @Test func textThatIsNotHexIsAnError() {
        let r = read(Self.cluster(#"{send: {text: "PING"}}"#))
        #expect(r.diagnostics.contains { $0.severity == .error && $0.message == "invalid hex string 'PING'" })
    }

    @Test func anEmptyCheckConnectsOnly() {
        let r = read(Self.cluster("{}"))
        let check = r.config.clusters.first?.healthChecks.first
        #expect(check?.kind == .tcp)
        #expect(check?.tcpSend == nil)
        #expect(check?.tcpReceive == [])
    }

    @Test func payloadsAreWrittenBack() {
        var check = HealthCheck(timeout: .seconds(1), interval: .seconds(5), unhealthyThreshold: 2, healthyThreshold: 1, kind: .tcp)
        check.tcpSend = .text("50494e47")
        check.tcpReceive = [.binary(Array("PONG".utf8))]
        #expect(check.json.compactText().contains(#""tcp_health_check":{"send":{"text":"50494e47"},"receive":[{"binary":"UE9ORw=="}]}"#))
    }
}
