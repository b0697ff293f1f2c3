import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// Load balancing and the circuit breaker over loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct LoadBalancingEndToEndTests {
    static let table = """
        {"name": "main", "virtual_hosts": [{"name": "api", "domains": ["*"], "routes": [
          {"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}
        """

    static func configuration(_ endpoints: [ProxyEndpoint], _ settings: ClusterSettings) throws -> ProxyConfiguration {
        ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(table)))],
            clusters: [("users", endpoints)], settings: ["users": settings])
    }

    static func endpoints(_ server: ProxyServer, _ n: Int) async throws -> [String] {
        let port = try #require(server.port(of: "public"))
        var out: [String] = []
        for _ in 0..<n { out.append(try await TestClient.request(port: port, "/").header("x-mock-endpoint") ?? "?") }
        return out
    }

    @Test func endpointWeightsShareTheRequests() async throws {
        let config = try Self.configuration(
            [ProxyEndpoint(host: "10.0.0.1", port: 80, weight: 3), ProxyEndpoint(host: "10.0.0.2", port: 80, weight: 1)], ClusterSettings())
        try await Fixtures.withProxy(config) { server in
            let seen = try await Self.endpoints(server, 8)
            #expect(seen.filter { $0 == "10.0.0.1:80" }.count == 6)
            #expect(seen.filter { $0 == "10.0.0.2:80" }.count == 2)
        }
    }

    @Test func randomIsRepeatableWithTheSeed() async throws {
        let config = try Self.configuration(
            (1...3).map { ProxyEndpoint(host: "10.0.0.\($0)", port: 80) }, ClusterSettings(lbPolicy: .random))
        var options = ProxyOptions()
        options.seed = 99
        let first = try await Fixtures.withProxy(config, options: options) { try await Self.endpoints($0, 12) }
        let second = try await Fixtures.withProxy(config, options: options) { try await Self.endpoints($0, 12) }
        #expect(first == second)
        #expect(Set(first).count > 1)
    }

    @Test func maxRequestsOverflowIs503Overloaded() async throws {
        let config = try Self.configuration([ProxyEndpoint(host: "10.0.0.1", port: 80)], ClusterSettings(maxRequests: 1))
        try await Fixtures.withProxy(config) { server in
            let port = try #require(server.port(of: "public"))
            // Long enough that the second request is routed while the first is still held, even
            // on a machine busy with the rest of the suite (2 s was outlasted once).
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(6)), for: "users")
            async let slow = TestClient.request(port: port, "/a", timeout: .seconds(20))
            // The first request holds the only slot once the mock has it (recorded on arrival,
            // answered 6 s later): wait for that rather than for a fixed time, which a loaded
            // machine can outlast.
            while !server.registry.received.contains(where: { $0.path == "/a" }) {
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            let over = try await TestClient.request(port: port, "/b")
            #expect(over.status == 503)
            #expect(over.header("x-envoy-overloaded") == "true")
            #expect(over.body == "upstream connect error or disconnect/reset before headers. reset reason: overflow")
            #expect(try await slow.status == 200)
            // The slot is free again once the first request is done.
            server.registry.setBehaviour(MockBehaviour(), for: "users")
            #expect(try await TestClient.request(port: port, "/c").status == 200)
            #expect(server.registry.received.map(\.path) == ["/a", "/c"])
        }
    }
}

/// Active HTTP health checks against the mocks.
@Suite(.timeLimit(.minutes(1)))
struct HealthCheckEndToEndTests {
    static func configuration() throws -> ProxyConfiguration {
        let check = HealthCheck(
            timeout: .milliseconds(500), interval: .milliseconds(100), unhealthyThreshold: 2, healthyThreshold: 2,
            kind: .http(path: "/healthz"))
        return try LoadBalancingEndToEndTests.configuration(
            (1...3).map { ProxyEndpoint(host: "10.0.0.\($0)", port: 80) }, ClusterSettings(healthCheck: check))
    }

    @Test func anEndpointFailingItsHealthCheckGetsNoTraffic() async throws {
        let registry = MockRegistry()
        registry.health.setStatus(503, cluster: "users", endpoint: "10.0.0.2:80")
        var options = ProxyOptions()
        options.portMap["public"] = 0
        let server = try await ProxyServer.start(try Self.configuration(), options: options, registry: registry)
        do {
            let seen = try await LoadBalancingEndToEndTests.endpoints(server, 6)
            #expect(!seen.contains("10.0.0.2:80"))
            #expect(Set(seen) == ["10.0.0.1:80", "10.0.0.3:80"])
            // Health checks are answered by the mocks but are not received requests.
            #expect(registry.health.checks(cluster: "users", endpoint: "10.0.0.2:80") >= 1)
            #expect(registry.received.allSatisfy { $0.path == "/" })
            // Passing again: back after `healthy_threshold` (2) checks in a row.
            registry.health.setStatus(200, cluster: "users", endpoint: "10.0.0.2:80")
            try await Task.sleep(nanoseconds: 600_000_000)
            let later = try await LoadBalancingEndToEndTests.endpoints(server, 6)
            #expect(later.contains("10.0.0.2:80"))
        } catch {
            Issue.record(error)
        }
        await server.shutdown()
    }
}
