import Testing

@testable import XDSCEnvoyReader
@testable import XDSCProxy

/// No input is silently dropped: every field the Envoy reader accepts without keeping it is
/// either classified as without effect on traffic, or warned about at start when set.
@Suite struct UnkeptFieldsWarningTests {
    /// `traffic` and `none` split `table`'s ignored fields exactly.
    static func expectPartition(_ table: MessageTable, traffic: [String], none: [String]) {
        #expect(Set(traffic).isDisjoint(with: none), "\(table.name)")
        #expect(Set(traffic + none) == Set(table.ignoredNames), "\(table.name): classify every ignored field")
        #expect(traffic.count + none.count == table.ignoredNames.count, "\(table.name): no duplicates")
    }

    @Test func everyIgnoredFieldIsClassified() {
        Self.expectPartition(Tables.cluster, traffic: Tables.clusterTrafficFields, none: Tables.clusterFieldsWithoutTrafficEffect)
        Self.expectPartition(
            Tables.httpConnectionManager, traffic: Tables.managerTrafficFields, none: Tables.managerFieldsWithoutTrafficEffect)
        Self.expectPartition(Tables.commonLbConfig, traffic: Tables.commonLbTrafficFields, none: [])
        Self.expectPartition(Tables.commonHttpProtocolOptions, traffic: Tables.commonHttpTrafficFields, none: [])
    }

    static func fields(_ names: [String]) -> String { names.map { "\"\($0)\": {}, " }.joined() }

    static func chain(_ manager: String) -> String {
        """
        {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "stat_prefix": "edge", \(manager)"http_filters": [{"name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
          "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"],
            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}}}]}
        """
    }

    @Test func eachTrafficFieldOfAClusterIsWarned() throws {
        let common = Tables.commonLbTrafficFields.map { "\"\($0)\": {}" }.joined(separator: ", ")
        let extra = ", " + Self.fields(Tables.clusterTrafficFields) + "\"common_lb_config\": {\(common)}"
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [Self.chain("")], clusterExtra: extra))
        let warnings = config.unsimulated.filter { $0.hasPrefix("cluster `users`: ") }
        #expect(warnings.count == 1)
        let text = warnings.joined()
        for f in Tables.clusterTrafficFields { #expect(text.contains("`\(f)`"), "\(f)") }
        for f in Tables.commonLbTrafficFields { #expect(text.contains("`common_lb_config.\(f)`"), "\(f)") }
        #expect(text.hasSuffix("are not simulated (the proxy runs Envoy's defaults)"))
    }

    @Test func eachTrafficFieldOfAConnectionManagerIsWarned() throws {
        let h2 = Tables.http2ProtocolOptions.ignoredNames.map { "\"\($0)\": {}" }.joined(separator: ", ")
        let manager = Self.fields(Tables.managerTrafficFields) + "\"http2_protocol_options\": {\(h2)}, "
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [Self.chain(manager)]))
        let warnings = config.unsimulated.filter { $0.hasPrefix("listener `edge`: the connection manager's ") }
        #expect(warnings.count == 1)
        let text = warnings.joined()
        for f in Tables.managerTrafficFields { #expect(text.contains("`\(f)`"), "\(f)") }
        for f in Tables.http2ProtocolOptions.ignoredNames { #expect(text.contains("`http2_protocol_options.\(f)`"), "\(f)") }
    }

    @Test func fieldsWithoutTrafficEffectAndOneFieldAreWordedRight() throws {
        let quiet = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(
                chains: [Self.chain(Self.fields(Tables.managerFieldsWithoutTrafficEffect))],
                clusterExtra: ", " + Self.fields(Tables.clusterFieldsWithoutTrafficEffect).dropLast(2)))
        #expect(quiet.unsimulated == [])
        let one = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(
                chains: [Self.chain("")], clusterExtra: #", "common_lb_config": {"healthy_panic_threshold": {"value": 0}}"#))
        #expect(
            one.unsimulated == [
                "cluster `users`: `common_lb_config.healthy_panic_threshold` is not simulated (the proxy runs Envoy's defaults)"
            ])
    }

    /// Retry conditions `RetryPlan` does not act on (`http3-post-connect-failure`, which needs
    /// an HTTP/3 upstream) are warned, once per listener, whether on a virtual host or a
    /// route; the gRPC statuses, `retriable-headers`, `envoy-ratelimited` and
    /// `refused-stream` are executed.
    @Test func unexecutedRetryConditionsAreWarned() throws {
        let chain = """
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              "stat_prefix": "edge", "http_filters": [{"name": "envoy.filters.http.router",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
              "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"],
                "retry_policy": {"retry_on": "unavailable, 5xx, http3-post-connect-failure"},
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users",
                  "retry_policy": {"retry_on": "retriable-headers,reset,cancelled,envoy-ratelimited,refused-stream"}}}]}]}}}]}
            """
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [chain]))
        #expect(
            config.unsimulated == [
                "listener `edge`: retry condition `http3-post-connect-failure` of its retry policies is not simulated (never retried on)"
            ])
        #expect(ProxyConfiguration.unexecutedRetryConditions(nil) == [])
    }

    /// The router filter's `typed_config`: `suppress_envoy_headers` and
    /// `respect_expected_rq_timeout` are acted on; `strict_check_headers` and
    /// `upstream_http_filters` are warned; statistics and logs are not.
    @Test func routerFieldsThatAreNotActedOnAreWarned() throws {
        func chain(_ router: String) -> String {
            """
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              "stat_prefix": "edge", "http_filters": [{"name": "envoy.filters.http.router",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"\(router)}}],
              "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"],
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}}}]}
            """
        }
        let acted = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(
                chains: [
                    chain(
                        #", "suppress_envoy_headers": true, "respect_expected_rq_timeout": true, "dynamic_stats": false, "start_child_span": true"#
                    )
                ]))
        #expect(acted.unsimulated == [])
        let engine = try #require(acted.listeners.first?.engine)
        #expect(engine.router.suppressEnvoyHeaders && engine.router.respectExpectedRqTimeout)
        let warned = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [chain(#", "strict_check_headers": ["x-envoy-max-retries"]"#)]))
        #expect(
            warned.unsimulated == [
                "listener `edge`: the router filter's `strict_check_headers` is not simulated (the proxy runs Envoy's defaults)"
            ])
    }
}
