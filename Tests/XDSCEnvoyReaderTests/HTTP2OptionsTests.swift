import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

/// What the proxy needs of HTTP/2 from an Envoy file: the connection manager's `codec_type`
/// and `http2_protocol_options.max_concurrent_streams`, and a cluster's HTTP/2 in both forms.
@Suite struct HTTP2OptionsTests {
    static func listener(_ managerFields: String) -> String {
        """
        static_resources:
          listeners:
          - name: l
            address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: s
        \(managerFields)
                  route_config: {name: r, virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        """
    }

    @Test func codecTypeAndMaxConcurrentStreamsAreRead() {
        let fields = """
                      codec_type: HTTP2
                      http2_protocol_options: {max_concurrent_streams: 7, initial_stream_window_size: 65536}
            """
        let r = read(Self.listener(fields))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let cm = r.config.listeners.first?.connectionManager
        #expect(cm?.codecType == .http2)
        #expect(cm?.http2MaxConcurrentStreams == 7)
    }

    @Test func theDefaultsAreAutoAndUnset() {
        let cm = read(Self.listener("")).config.listeners.first?.connectionManager
        #expect(cm?.codecType == .auto)
        #expect(cm?.http2MaxConcurrentStreams == nil)
    }

    @Test func anUnknownCodecTypeIsAnError() {
        let r = read(Self.listener("          codec_type: HTTP4"))
        #expect(r.diagnostics.contains { $0.severity == .error && $0.message.contains("`HTTP4` is not a value of `codec_type`") })
    }

    @Test func anUnknownHTTP2OptionIsReported() {
        let r = read(Self.listener("          http2_protocol_options: {max_concurent_streams: 7}"))
        #expect(r.diagnostics.contains { $0.message.contains("max_concurent_streams") })
    }

    @Test func bothAreWrittenBackAndReadAgain() {
        var cm = HttpConnectionManager(statPrefix: "s", routes: .inline(RouteConfiguration(name: "r")))
        cm.codecType = .http1
        cm.http2MaxConcurrentStreams = 100
        let json = cm.typedConfig.json.compactText()
        #expect(json.contains(#""codec_type":"HTTP1""#))
        #expect(json.contains(#""http2_protocol_options":{"max_concurrent_streams":100}"#))
    }

    /// The connection manager's `http_protocol_options` (Http1ProtocolOptions) is a field Envoy
    /// has: `accept_http_10` is read and written back, its other fields are warned at start, and
    /// a misspelt one is an unknown field.
    @Test func http1OptionsAreRead() {
        let r = read(Self.listener("          http_protocol_options: {accept_http_10: true, enable_trailers: true}"))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let cm = r.config.listeners.first?.connectionManager
        #expect(cm?.acceptHTTP10 == true)
        #expect(cm?.unkeptTrafficFields == ["http_protocol_options.enable_trailers"])
        #expect(cm?.typedConfig.json.compactText().contains(#""http_protocol_options":{"accept_http_10":true}"#) == true)
        #expect(read(Self.listener("")).config.listeners.first?.connectionManager.acceptHTTP10 == false)
        let typo = read(Self.listener("          http_protocol_options: {accept_http10: true}"))
        #expect(typo.diagnostics.contains { $0.severity == .error && $0.message.contains("accept_http10") })
    }

    /// `http1_protocol_options` is not a field of the connection manager (it was taken for one).
    @Test func thereIsNoHTTP1ProtocolOptionsField() {
        let r = read(Self.listener("          http1_protocol_options: {}"))
        #expect(r.diagnostics.contains { $0.severity == .error && $0.message.contains("unknown field `http1_protocol_options`") })
    }

    /// A static cluster `c` of one endpoint, with `field`.
    static func cluster(with field: String) -> String {
        """
        static_resources:
          clusters:
          - name: c
            \(field)
            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}
        """
    }

    @Test(arguments: [
        #"typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http2_protocol_options: {}}}}"#,
        "http2_protocol_options: {}",
    ])
    func aClusterIsHTTP2InEitherForm(_ field: String) {
        let r = read(Self.cluster(with: field))
        #expect(r.config.clusters.first?.upstreamProtocol == .http2, "\(summary(r.diagnostics))")
    }

    @Test(arguments: [
        #"typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 3}}}}"#,
        "http2_protocol_options: {max_concurrent_streams: 3}",
    ])
    func aClustersMaxConcurrentStreamsIsReadAndWrittenBack(_ field: String) {
        let r = read(Self.cluster(with: field))
        let c = r.config.clusters.first
        #expect(c?.http2MaxConcurrentStreams == 3, "\(summary(r.diagnostics))")
        #expect(c?.json.compactText().contains(#""http2_protocol_options":{"max_concurrent_streams":3}"#) == true)
        let unset = read(Self.cluster(with: field).replacingOccurrences(of: "max_concurrent_streams: 3", with: "")).config.clusters.first
        #expect(unset?.upstreamProtocol == .http2 && unset?.http2MaxConcurrentStreams == nil)
    }
}
