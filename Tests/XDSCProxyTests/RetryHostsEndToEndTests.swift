import Foundation
import Testing
import XDSCDiagnostics
import XDSCEnvoyReader
import XDSCTestSupport

@testable import XDSCProxy

/// Retry host selection, the per-try idle timeout and the upstream connection limits over
/// real sockets (fixtures/traffic/connections-envoy.yaml).
@Suite(.timeLimit(.minutes(1)))
struct RetryHostsEndToEndTests {
    static func configuration() throws -> ProxyConfiguration {
        let path = TestPaths.packageRoot.appendingPathComponent("fixtures/traffic/connections-envoy.yaml").path
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(path: path, bytes: Array(bytes))], into: sink)
        #expect(sink.all.filter { $0.severity == .error }.isEmpty, "\(sink.all.map(\.message))")
        return ProxyConfiguration(read.config)
    }

    static var options: ProxyOptions {
        var o = ProxyOptions()
        o.portMap = ["edge": 0]
        return o
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    /// RING_HASH sends every attempt of a key to one endpoint; with `previous_hosts` a retry
    /// re-picks round the ring (`chooseHost(hash, attempt)`) until it finds another.
    @Test func previousHostsSendsTheRetryElsewhere() async throws {
        try await Fixtures.withProxy(try Self.configuration(), options: Self.options) { server in
            let port = try #require(server.port(of: "edge"))
            let user = [("x-user", "alice")]
            let home = try #require(try await TestClient.request(port: port, "/sticky", headers: user).header("x-mock-endpoint"))
            let other = home == "10.0.3.1:80" ? "10.0.3.2:80" : "10.0.3.1:80"
            server.registry.setBehaviour(MockBehaviour(failures: 100), for: "ring", endpoint: home)
            // Without a host predicate both attempts hash to the failing endpoint.
            let sticky = try await TestClient.request(port: port, "/sticky", headers: user)
            #expect(sticky.status == 503)
            #expect(server.registry.received.suffix(2).map(\.endpoint) == [home, home])
            let elsewhere = try await TestClient.request(port: port, "/elsewhere", headers: user)
            #expect(elsewhere.status == 200)
            #expect(server.registry.received.suffix(2).map(\.endpoint) == [home, other])
        }
    }

    /// No response byte for `per_try_idle_timeout` ends the try as a per-try timeout: 504
    /// `upstream request timeout`, retried under `reset` (a local reset, router.cc
    /// `onPerTryTimeoutCommon`).
    @Test func anIdleTryTimesOutAndIsRetried() async throws {
        try await Fixtures.withProxy(try Self.configuration(), options: Self.options) { server in
            let port = try #require(server.port(of: "edge"))
            // Round robin (from the first endpoint): the first try to the slow endpoint, the
            // retry to the quick one. The slow one would answer after 10 s: well past the idle
            // timeout, and far enough that a loaded machine does not blur the two.
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(10)), for: "api", endpoint: "10.0.4.1:80")
            var start = ContinuousClock.now
            let retried = try await TestClient.request(port: port, "/idle-retried")
            #expect(retried.status == 200)
            #expect(server.registry.received.map(\.endpoint) == ["10.0.4.1:80", "10.0.4.2:80"])
            #expect(Self.seconds(ContinuousClock.now - start) < 8)
            // Not retried: the local reply.
            server.registry.reset()
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(10)), for: "api")
            start = ContinuousClock.now
            let once = try await TestClient.request(port: port, "/idle")
            #expect(once.status == 504)
            #expect(once.body == "upstream request timeout")
            #expect(Self.seconds(ContinuousClock.now - start) < 8)
            #expect(server.registry.received.count == 1)
        }
    }

    /// `max_requests_per_connection: 2`: five requests in a row take three upstream
    /// connections, over HTTP/1.1 and HTTP/2 alike; without it, one.
    @Test(arguments: ["/capped", "/capped-h2", "/plain"])
    func maxRequestsPerConnectionOpensNewConnections(_ path: String) async throws {
        try await Fixtures.withProxy(try Self.configuration(), options: Self.options) { server in
            let port = try #require(server.port(of: "edge"))
            for _ in 0..<5 { #expect(try await TestClient.request(port: port, path).status == 200) }
            #expect(server.registry.received.count == 5)
            #expect(server.registry.connections == (path == "/plain" ? 1 : 3), "\(path)")
        }
    }

    /// `idle_timeout: 0.2s`: a kept-alive connection unused for longer is closed, and the next
    /// request opens another (Envoy's default, 1 h, keeps it).
    @Test(arguments: ["/brief", "/plain"])
    func anIdleUpstreamConnectionIsClosed(_ path: String) async throws {
        try await Fixtures.withProxy(try Self.configuration(), options: Self.options) { server in
            let port = try #require(server.port(of: "edge"))
            #expect(try await TestClient.request(port: port, path).status == 200)
            try await Task.sleep(nanoseconds: 600_000_000)
            #expect(try await TestClient.request(port: port, path).status == 200)
            #expect(server.registry.connections == (path == "/brief" ? 2 : 1), "\(path)")
        }
    }

    /// What the proxy does not run of a route is named at start.
    @Test func unsimulatedRouteFieldsAreWarnedAtStart() throws {
        let config = try Self.configuration()
        let retry = config.unsimulated.filter { $0.contains("route #8 of `api`") }
        #expect(
            retry == [
                "listener `edge`, route #8 of `api`: `hedge_policy`, `retry_policy.retry_priority` are not simulated (the proxy acts as if unset)"
            ],
            "\(config.unsimulated)")
    }
}
