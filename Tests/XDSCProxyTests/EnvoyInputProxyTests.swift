import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader

@testable import XDSCProxy

/// What the proxy takes from Envoy files: upgrade configs, attempt counts, weights, breakers
/// and health checks, read without a diagnostic.
@Suite struct EnvoyInputProxyTests {
    static let bootstrap = """
        {"static_resources": {
          "listeners": [{"name": "edge", "address": {"socket_address": {"address": "0.0.0.0", "port_value": 8080}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              "stat_prefix": "edge", "upgrade_configs": [{"upgrade_type": "websocket"}, {"upgrade_type": "CONNECT", "enabled": false}],
              "http_filters": [{"name": "envoy.filters.http.router",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
              "route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"],
                "include_request_attempt_count": true, "include_attempt_count_in_response": true,
                "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}}}]}]}],
          "clusters": [{"name": "users", "connect_timeout": "1s", "lb_policy": "LEAST_REQUEST",
            "circuit_breakers": {"thresholds": [{"max_requests": 7}]},
            "health_checks": [{"timeout": "1s", "interval": "5s", "unhealthy_threshold": 2, "healthy_threshold": 1,
              "http_health_check": {"path": "/healthz"}}],
            "load_assignment": {"cluster_name": "users", "endpoints": [{"lb_endpoints": [
              {"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}}, "load_balancing_weight": 3},
              {"endpoint": {"address": {"socket_address": {"address": "10.0.0.2", "port_value": 80}}}}]}]}}]}}
        """

    @Test func everySettingArrives() throws {
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(path: "envoy.json", bytes: Array(Self.bootstrap.utf8))], into: sink)
        #expect(sink.all.filter { $0.severity == .error }.isEmpty)
        let config = ProxyConfiguration(read.config)
        #expect(config.listeners.first?.upgradeTypes == ["websocket"])
        let host = try #require(read.config.listeners.first?.connectionManager.routeConfiguration?.virtualHosts.first)
        #expect(host.includeRequestAttemptCount && host.includeAttemptCountInResponse)
        #expect(config.clusters["users"]?.map(\.weight) == [3, 1])
        let settings = try #require(config.clusterSettings["users"])
        #expect(settings.lbPolicy == .leastRequest)
        #expect(settings.maxRequests == 7)
        #expect(settings.healthCheck?.kind == .http(path: "/healthz"))
        #expect(config.unsimulated.isEmpty)
    }

    /// The served clusters and their order have one source: a cluster added to or removed
    /// from `clusters` is added to or removed from `clusterOrder` (which the server walks).
    @Test func theClusterOrderFollowsTheClusters() {
        var config = ProxyConfiguration(
            listeners: [], clusters: [("b", [ProxyEndpoint(host: "127.0.0.1", port: 1)]), ("a", [])])
        #expect(config.clusterOrder == ["b", "a"])
        config.clusters["z"] = []
        config.clusters["c"] = [ProxyEndpoint(host: "127.0.0.1", port: 2)]
        #expect(config.clusterOrder == ["b", "a", "z", "c"])
        config.clusters["b"] = nil
        config.clusters["a"] = [ProxyEndpoint(host: "127.0.0.1", port: 3)]
        #expect(config.clusterOrder == ["a", "z", "c"])
        // Several at once: by name.
        config.clusters.merge(["y": [], "x": []]) { old, _ in old }
        #expect(config.clusterOrder == ["a", "z", "c", "x", "y"])
    }
}
