import NIOCore
import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The engine's per-request timeouts as the proxy applies them over loopback sockets: the
/// per-try timeout (dropped when not below the global one), the timeout headers written
/// upstream, the connection manager's `max_stream_duration` timer, and the mirrors that fire.
@Suite(.timeLimit(.minutes(1)))
struct TimeoutsEndToEndTests {
    static let table = """
        {"name": "main", "virtual_hosts": [
          {"name": "api", "domains": ["api.example.com"],
           "response_headers_to_add": [{"header": {"key": "x-vhost", "value": "api"}}],
           "routes": [
            {"name": "short-try", "match": {"prefix": "/short-try"}, "route": {"cluster": "users", "timeout": "2s",
               "retry_policy": {"retry_on": "5xx", "num_retries": 1, "per_try_timeout": "0.5s"}}},
            {"name": "long-try", "match": {"prefix": "/long-try"}, "route": {"cluster": "users", "timeout": "2s",
               "retry_policy": {"retry_on": "5xx", "num_retries": 1, "per_try_timeout": "3s"}}},
            {"name": "equal-try", "match": {"prefix": "/equal-try"}, "route": {"cluster": "users", "timeout": "0.3s",
               "retry_policy": {"retry_on": "5xx", "num_retries": 3, "per_try_timeout": "0.3s"}}},
            {"name": "duration", "match": {"prefix": "/duration"}, "route": {"cluster": "users",
               "max_stream_duration": {"max_stream_duration": "0.2s"}}},
            {"name": "duration-grpc", "match": {"prefix": "/svc.Duration/"}, "route": {"cluster": "users",
               "max_stream_duration": {"max_stream_duration": "5s"}}},
            {"name": "duration-grpc-short", "match": {"prefix": "/svc.Short/"}, "route": {"cluster": "users",
               "max_stream_duration": {"max_stream_duration": "0.2s"}}},
            {"name": "grpc", "match": {"prefix": "/svc."}, "route": {"cluster": "users", "max_grpc_timeout": "2s"}},
            {"name": "users", "match": {"prefix": "/"}, "route": {"cluster": "users"}}
          ]}
        ]}
        """

    static func configuration() throws -> ProxyConfiguration {
        ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(table)))],
            clusters: [("users", [ProxyEndpoint(host: "10.0.0.1", port: 8080)])])
    }

    static func header(_ r: WireResponse, _ name: String) -> String? { r.echo?["headers"]?[name]?.stringValue }

    // MARK: - Per-try timeout and x-envoy-expected-rq-timeout-ms

    @Test func expectedTimeoutIsThePerTryTimeoutBelowTheGlobalOne() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let short = try await TestClient.request(port: port, "/short-try", host: "api.example.com")
            #expect(short.status == 200)
            #expect(Self.header(short, "x-envoy-expected-rq-timeout-ms") == "500")
            // A per-try timeout not below the global one is dropped: the global one is expected.
            let long = try await TestClient.request(port: port, "/long-try", host: "api.example.com")
            #expect(Self.header(long, "x-envoy-expected-rq-timeout-ms") == "2000")
            // The route's default 15 s; the client's control headers are not forwarded.
            let plain = try await TestClient.request(
                port: port, "/x", host: "api.example.com",
                headers: [("x-envoy-upstream-rq-timeout-ms", "100"), ("x-envoy-upstream-rq-per-try-timeout-ms", "50")])
            #expect(Self.header(plain, "x-envoy-expected-rq-timeout-ms") == "15000")
            #expect(Self.header(plain, "x-envoy-upstream-rq-timeout-ms") == nil)
            #expect(Self.header(plain, "x-envoy-upstream-rq-per-try-timeout-ms") == nil)
        }
    }

    @Test func perTryTimeoutEqualToTheGlobalOneIsNotRetried() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(2)), for: "users")
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/equal-try", host: "api.example.com")
            #expect(r.status == 504)
            #expect(r.body == "upstream request timeout")
            try await Task.sleep(nanoseconds: 300_000_000)
            // Only the global timer ran: one attempt, no per-try retry.
            #expect(server.registry.received.count == 1)
        }
    }

    // MARK: - max_stream_duration

    @Test func streamDurationEndsTheRequestWith504() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(5)), for: "users")
            let port = try #require(server.port(of: "public"))
            let clock = ContinuousClock()
            let start = clock.now
            let r = try await TestClient.request(port: port, "/duration", host: "api.example.com")
            #expect(r.status == 504)
            #expect(r.body == "downstream duration timeout")
            // The connection manager's reply: the route's response mutations are not applied.
            #expect(r.header("x-vhost") == nil)
            // Before the upstream's answer could come (5 s): a loaded CI machine once took 4.3 s
            // to serve this 0.2 s timer, so the bound is the wrong answer's time, not a margin.
            #expect(clock.now - start < .seconds(5))
        }
    }

    @Test func streamDurationCountsFromTheStreamsStart() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            // The body would come 0.4 s after the head: the 0.2 s run out while the request is
            // still arriving, which Envoy answers 408 (`maybeRequestTimeoutCode`), closing.
            let raw = try await TestClient.exchange(
                port: port,
                ["POST /duration HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 2\r\n\r\n", "ab"],
                pause: .milliseconds(400))
            let r = TestClient.parse(raw)
            #expect(r.status == 408)
            #expect(r.body == "downstream duration timeout")
            #expect(r.header("connection") == "close")
            #expect(server.registry.received.isEmpty)
        }
    }

    @Test func streamDurationRouteHasNoRouterTimeout() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/duration", host: "api.example.com")
            #expect(r.status == 200)
            #expect(r.header("x-vhost") == "api")
            #expect(Self.header(r, "x-envoy-expected-rq-timeout-ms") == nil)
        }
    }

    @Test func streamDurationOnAGRPCRequestIsDeadlineExceeded() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            // Answered in time: `grpc-timeout` is rewritten to the stream duration.
            let ok = try await TestClient.request(
                port: port, "/svc.Duration/Call", method: "POST", host: "api.example.com",
                headers: [("content-type", "application/grpc"), ("grpc-timeout", "10S")], body: "x")
            #expect(Self.header(ok, "grpc-timeout") == "5000m")
            #expect(Self.header(ok, "x-envoy-expected-rq-timeout-ms") == nil)
            // Expired: a trailers-only DEADLINE_EXCEEDED, not the 504's UNAVAILABLE.
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(5)), for: "users")
            let late = try await TestClient.request(
                port: port, "/svc.Short/Call", method: "POST", host: "api.example.com",
                headers: [("content-type", "application/grpc"), ("grpc-timeout", "10S")], body: "x")
            #expect(late.status == 200)
            #expect(late.header("grpc-status") == "4")
            #expect(late.header("grpc-message") == "downstream duration timeout")
            #expect(server.registry.received.last?.header("grpc-timeout") == "200m")
        }
    }

    // MARK: - max_grpc_timeout

    @Test func maxGrpcTimeoutCapsTheGrpcTimeoutSentUpstream() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let capped = try await TestClient.request(
                port: port, "/svc.Api/Call", method: "POST", host: "api.example.com",
                headers: [("content-type", "application/grpc"), ("grpc-timeout", "10S")], body: "x")
            #expect(Self.header(capped, "grpc-timeout") == "2000m")
            #expect(Self.header(capped, "x-envoy-expected-rq-timeout-ms") == "2000")
            let within = try await TestClient.request(
                port: port, "/svc.Api/Call", method: "POST", host: "api.example.com",
                headers: [("content-type", "application/grpc"), ("grpc-timeout", "500m")], body: "x")
            #expect(Self.header(within, "grpc-timeout") == "500m")
            #expect(Self.header(within, "x-envoy-expected-rq-timeout-ms") == "500")
        }
    }

    // MARK: - Mirrors

    @Test func shadowsFollowTheDecisionsMirrorsFiring() throws {
        let engine = RouteEngine(
            try Fixtures.routeConfiguration(
                """
                {"name": "m", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [
                  {"match": {"prefix": "/"}, "route": {"cluster": "users", "request_mirror_policies": [
                    {"cluster": "a"}, {"cluster": "b"}]}}]}]}
                """))
        var d = engine.decide(HashLoadBalancingTests.request(path: "/x"))
        #expect(d.mirrorsFiring == [true, true])
        let upstream = RequestTranslation.upstreamRequest(d, body: ByteBuffer())
        #expect(RequestMirroring.shadows(d, upstream: upstream, exists: { _ in true }).map(\.cluster) == ["a", "b"])
        d.mirrorsFiring = [false, true]
        #expect(RequestMirroring.shadows(d, upstream: upstream, exists: { _ in true }).map(\.cluster) == ["b"])
    }
}
