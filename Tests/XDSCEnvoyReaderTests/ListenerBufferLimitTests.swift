import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

/// A listener's `per_connection_buffer_limit_bytes` (the proxy's retry buffer limit): read in
/// either JSON form of the `UInt32Value`, written back, and range-checked.
@Suite struct ListenerBufferLimitTests {
    static func listener(_ limit: String) -> String {
        """
        static_resources:
          listeners:
          - name: l
            address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
            per_connection_buffer_limit_bytes: \(limit)
            filter_chains:
            - filters:
              - name: envoy.filters.network.http_connection_manager
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                  stat_prefix: s
                  route_config: {name: r, virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, direct_response: {status: 200}}]}]}
                  http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
        """
    }

    @Test func theLimitIsReadAndWrittenBack() throws {
        for text in ["32768", "{value: 32768}"] {
            let r = read(Self.listener(text))
            #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
            let l = try #require(r.config.listeners.first)
            #expect(l.perConnectionBufferLimitBytes == 32768)
            #expect(l.json.compactText().contains(#""per_connection_buffer_limit_bytes":32768"#))
        }
    }

    @Test func aLimitOutsideUInt32IsAnError() {
        let r = read(Self.listener("4294967296"))
        #expect(r.diagnostics.contains { $0.severity == .error && $0.message.contains("per_connection_buffer_limit_bytes") })
    }
}
