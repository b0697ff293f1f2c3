import Testing
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

/// What the proxy needs of a cluster's outlier detection and consistent hashing.
@Suite struct UpstreamFeatureFieldsTests {
    static func cluster(_ fields: String) -> String {
        """
        static_resources:
          clusters:
          - name: c
            connect_timeout: 1s
        \(fields)
            load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}
        """
    }

    @Test func outlierDetectionFieldsAreRead() throws {
        let r = read(
            Self.cluster(
                """
                    outlier_detection:
                      consecutive_5xx: 2
                      consecutive_gateway_failure: 3
                      enforcing_consecutive_gateway_failure: 100
                      split_external_local_origin_errors: true
                      consecutive_local_origin_failure: 4
                      max_ejection_time: 60s
                      max_ejection_time_jitter: 0.5s
                      always_eject_one_host: true
                      success_rate_minimum_hosts: 3
                      enforcing_failure_percentage: 50
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let od = try #require(r.config.clusters.first?.outlierDetection)
        #expect(od.consecutive5xx == 2 && od.consecutiveGatewayFailure == 3 && od.enforcingConsecutiveGatewayFailure == 100)
        #expect(od.splitExternalLocalOriginErrors == true && od.consecutiveLocalOriginFailure == 4)
        #expect(od.maxEjectionTime == .seconds(60) && od.maxEjectionTimeJitter == .milliseconds(500))
        #expect(od.alwaysEjectOneHost == true && od.successRateMinimumHosts == 3 && od.enforcingFailurePercentage == 50)
        // Written back as read.
        let json = od.json.compactText()
        #expect(json.contains("\"consecutive_gateway_failure\":3") && json.contains("\"always_eject_one_host\":true"))
    }

    @Test func ringHashAndMaglevSettingsAreRead() throws {
        let r = read(
            Self.cluster(
                """
                    lb_policy: RING_HASH
                    ring_hash_lb_config: {minimum_ring_size: 64, maximum_ring_size: 128, hash_function: MURMUR_HASH_2}
                    maglev_lb_config: {table_size: 7}
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let c = try #require(r.config.clusters.first)
        #expect(c.ringHashConfig == RingHashLbConfig(minimumRingSize: 64, maximumRingSize: 128, hashFunction: .murmurHash2))
        #expect(c.maglevTableSize == 7)
        #expect(read(Self.cluster("    ring_hash_lb_config: {minimum_ring_size: 9000000}")).diagnostics.contains { $0.severity == .error })
    }

    @Test func thresholdsOfEachPriorityAreRead() throws {
        let r = read(
            Self.cluster(
                """
                    circuit_breakers:
                      thresholds:
                      - {priority: HIGH, max_requests: 5, max_retries: 1}
                      - {max_requests: 2, max_connections: 3}
                      - {priority: HIGH, max_requests: 9}
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let c = try #require(r.config.clusters.first)
        #expect(c.circuitBreakers == CircuitBreakerThresholds(maxConnections: 3, maxRequests: 2))
        // The first thresholds naming a priority win (`ResourceManagers::load` uses find_if).
        #expect(c.highPriorityCircuitBreakers == CircuitBreakerThresholds(maxRequests: 5, maxRetries: 1))
        let json = c.json.compactText()
        #expect(
            json.contains(
                "\"thresholds\":[{\"max_connections\":3,\"max_requests\":2},{\"max_requests\":5,\"max_retries\":1,\"priority\":\"HIGH\"}]"),
            "\(json)")
        let highOnly = try #require(
            read(Self.cluster("    circuit_breakers: {thresholds: [{priority: 1, max_requests: 4}]}")).config.clusters.first)
        #expect(highOnly.circuitBreakers == nil && highOnly.highPriorityCircuitBreakers == CircuitBreakerThresholds(maxRequests: 4))
    }

    @Test func aRoutesPriorityIsRead() throws {
        let r = read(
            """
            static_resources:
              listeners:
              - name: l
                address: {socket_address: {address: 127.0.0.1, port_value: 8080}}
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: s
                      http_filters: [{name: envoy.filters.http.router, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}]
                      route_config:
                        virtual_hosts:
                        - name: v
                          domains: ["*"]
                          routes:
                          - {match: {prefix: /high}, route: {cluster: c, priority: HIGH}}
                          - {match: {prefix: /}, route: {cluster: c, priority: DEFAULT}}
            """)
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let routes = try #require(r.config.listeners.first?.connectionManager.routeConfiguration?.virtualHosts.first?.routes)
        let priorities = routes.compactMap { route -> RoutingPriority? in
            guard case .route(let a) = route.action else { return nil }
            return a.priority
        }
        #expect(priorities == [.high, .default])
        guard case .route(let a) = routes[0].action else { return }
        #expect(a.json.compactText().contains("\"priority\":\"HIGH\""))
    }

    static func healthCheck(_ checker: String) -> String {
        cluster(
            """
                health_checks:
                - timeout: 1s
                  interval: 5s
                  unhealthy_threshold: 2
                  healthy_threshold: 1
                  \(checker)
            """)
    }

    @Test func httpCheckStatusesAndHostAreRead() throws {
        let r = read(
            Self.healthCheck(
                "http_health_check: {path: /hc, host: hc.local, expected_statuses: [{start: 200, end: 300}], retriable_statuses: [{start: 503, end: 504}]}"
            ))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let check = try #require(r.config.clusters.first?.healthChecks.first)
        #expect(check.expectedStatuses == [200..<300] && check.retriableStatuses == [503..<504] && check.httpHost == "hc.local")
        let json = check.json.compactText()
        #expect(json.contains(#""expected_statuses":[{"start":200,"end":300}]"#), "\(json)")
        #expect(json.contains(#""retriable_statuses":[{"start":503,"end":504}]"#) && json.contains(#""host":"hc.local""#))
        // `validateRange`: Envoy rejects these.
        for bad in ["{start: 300, end: 200}", "{start: 99, end: 200}", "{start: 200, end: 601}"] {
            let d = read(Self.healthCheck("http_health_check: {path: /hc, expected_statuses: [\(bad)]}")).diagnostics
            #expect(d.contains { $0.severity == .error && $0.message.contains("invalid http expected status range") }, "\(bad)")
        }
    }

    @Test func grpcCheckAuthorityIsRead() throws {
        let r = read(Self.healthCheck("grpc_health_check: {service_name: s, authority: a.example}"))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let check = try #require(r.config.clusters.first?.healthChecks.first)
        #expect(check.grpcAuthority == "a.example")
        #expect(check.json.compactText().contains(#""authority":"a.example""#))
    }

    @Test func consistentHashingOptionsAreRead() throws {
        let r = read(
            Self.cluster(
                """
                    lb_policy: MAGLEV
                    common_lb_config: {healthy_panic_threshold: {value: 40}, consistent_hashing_lb_config: {use_hostname_for_hashing: true, hash_balance_factor: 150}}
                """))
        #expect(r.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(r.diagnostics))")
        let c = try #require(r.config.clusters.first)
        #expect(c.hashBalanceFactor == 150 && c.useHostnameForHashing)
        let named = read(
            """
            static_resources:
              clusters:
              - name: c
                connect_timeout: 1s
                load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {hostname: a.internal, address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}
            """)
        #expect(named.diagnostics.filter { $0.severity == .error }.isEmpty, "\(summary(named.diagnostics))")
        let endpoint = try #require(named.config.clusters.first?.loadAssignment?.endpoints.first)
        #expect(endpoint.hostname == "a.internal")
        #expect(endpoint.json.compactText().contains(#""hostname":"a.internal""#))
        #expect(
            c.json.compactText().contains(
                #""common_lb_config":{"consistent_hashing_lb_config":{"use_hostname_for_hashing":true,"hash_balance_factor":150}}"#))
        // `hash_balance_factor` is at least 100.
        let low = read(Self.cluster("    common_lb_config: {consistent_hashing_lb_config: {hash_balance_factor: 99}}"))
        #expect(low.diagnostics.contains { $0.severity == .error })
    }
}
