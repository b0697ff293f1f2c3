import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// Route, route action and virtual host fields that change how Envoy serves a route's
/// requests but that neither the route engine nor the proxy acts on: an `unsimulated-field`
/// warning at the key; fields that change no request (metadata, tracing, statistics) none.
/// (The conformance suites check the corpus gives no such warning where none is due.)
@Suite struct UnsimulatedFieldTests {
    @Test func warnedAtTheKey() {
        let m = Marked(
            """
            name: r
            virtual_hosts:
            - name: v
              domains: ["*"]
              ⟨vhHedge⟩hedge_policy: {hedge_on_per_try_timeout: true}
              ⟨vhTimeoutHeader⟩include_is_timeout_retry_header: true
              per_request_buffer_limit_bytes: 1024
              metadata: {filter_metadata: {a: {b: c}}}
              routes:
              - match: {prefix: /a}
                request_body_buffer_limit: 2048
                metadata: {filter_metadata: {a: {b: c}}}
                decorator: {operation: op}
                tracing: {random_sampling: {numerator: 1}}
                stat_prefix: a
                route:
                  cluster: c
                  ⟨subset⟩metadata_match: {filter_metadata: {envoy.lb: {v: "1"}}}
                  ⟨redirects⟩internal_redirect_policy: {max_internal_redirects: 2}
                  ⟨hedge⟩hedge_policy: {initial_requests: 2}
                  ⟨flush⟩flush_timeout: 1s
              - match: {prefix: /}
                route: {cluster: c, ⟨early⟩earlyDataPolicy: {name: e, typed_config: {"@type": type.googleapis.com/google.protobuf.Empty}}}
            """)
        let (_, ds) = read(m.text, file: "routes.yaml")
        let found = ds.filter { $0.rule == .unsimulatedField }
        #expect(found.allSatisfy { $0.severity == .warning })
        #expect(
            Set(found.map(\.span.start)) == Set(m.markers.values), "\(summary(ds))")
        #expect(found.count == m.markers.count)
        #expect(!ds.contains { $0.severity == .error }, "\(summary(ds))")
        let hedge = found.first { $0.span.start == m.markers["hedge"] }
        #expect(hedge?.message.hasPrefix("`hedge_policy` of `RouteAction` changes how Envoy serves") == true)
        // lowerCamel keys are named by their proto name.
        #expect(found.first { $0.span.start == m.markers["early"] }?.message.hasPrefix("`early_data_policy` of `RouteAction`") == true)
    }

    /// Fields that are valid Envoy again or still (the API check in `TablesMatchEnvoyAPITests`
    /// found them): the format-string rewrites, a mirror's host rewrite and header mutations,
    /// a filter chain's deprecated `use_proxy_proto` are warned, not rejected; a listener's
    /// deprecated `deprecated_v1` is accepted; the reserved `on_demand_configuration` is not.
    @Test func fieldsTheAPIHasAreNotRejected() {
        let m = Marked(
            """
            static_resources:
              listeners:
              - name: l
                address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
                deprecated_v1: {bind_to_port: true}
                filter_chains:
                - ⟨proxyProto⟩use_proxy_proto: true
                  ⟨onDemand⟩on_demand_configuration: {}
                  filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: s
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                      route_config:
                        virtual_hosts:
                        - name: v
                          domains: ["*"]
                          routes:
                          - match: {prefix: /}
                            route:
                              cluster: c
                              ⟨host⟩host_rewrite: "%REQ(x-host)%"
                              ⟨path⟩path_rewrite: "/v2%PATH%"
                              request_mirror_policies:
                              - cluster: c
                                ⟨mirrorHost⟩host_rewrite_literal: shadow.example.com
              clusters:
              - name: c
                type: STATIC
                load_assignment:
                  cluster_name: c
                  endpoints:
                  - lb_endpoints:
                    - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 9000}}}
            """)
        let (_, ds) = read(m.text)
        let warned = Set(ds.filter { $0.rule == .unsimulatedField }.map(\.span.start))
        #expect(warned == Set(["proxyProto", "host", "path", "mirrorHost"].compactMap { m.markers[$0] }), "\(summary(ds))")
        let errors = ds.filter { $0.severity == .error }
        #expect(errors.map(\.rule) == [.unknownField], "\(summary(ds))")
        #expect(errors.first?.span.start == m.markers["onDemand"])
        #expect(errors.first?.message.contains("removed") == true, "\(summary(ds))")
    }

    @Test func nullIsNotSet() {
        let (_, ds) = read(table(route: #"{"match":{"prefix":"/"},"route":{"cluster":"c","hedge_policy":null}}"#), file: "r.json")
        #expect(ds.isEmpty, "\(summary(ds))")
    }
}
