import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The router's and the CORS filter's per-route policies over loopback sockets:
/// `x-envoy-attempt-count`, CORS preflights and response headers, request mirroring.
@Suite(.timeLimit(.minutes(1)))
struct RouterPolicyEndToEndTests {
    static let corsType = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy"

    static let table = """
        {"name": "main", "virtual_hosts": [
          {"name": "api", "domains": ["api.example.com"],
           "include_request_attempt_count": true, "include_attempt_count_in_response": true,
           "typed_per_filter_config": {"envoy.filters.http.cors": {"@type": "\(corsType)",
             "allow_origin_string_match": [{"exact": "https://app.example.com"}, {"suffix": ".trusted.example"}],
             "allow_methods": "GET,POST", "allow_headers": "x-token", "max_age": "600", "expose_headers": "x-trace"}},
           "response_headers_to_add": [{"header": {"key": "x-vhost", "value": "api"}}],
           "routes": [
            {"name": "retry", "match": {"prefix": "/retry"}, "route": {"cluster": "users",
               "retry_policy": {"retry_on": "5xx", "num_retries": 2}}},
            {"name": "timeout", "match": {"prefix": "/slow"}, "route": {"cluster": "users", "timeout": "0.2s"}},
            {"name": "credentials", "match": {"prefix": "/cred"}, "route": {"cluster": "users"},
             "typed_per_filter_config": {"envoy.filters.http.cors": {"@type": "\(corsType)", "allow_credentials": true,
               "allow_methods": "*", "allow_headers": "*"}}},
            {"name": "strict", "match": {"prefix": "/strict"}, "route": {"cluster": "users"},
             "typed_per_filter_config": {"envoy.filters.http.cors": {"@type": "\(corsType)", "forward_not_matching_preflights": false}}},
            {"name": "off", "match": {"prefix": "/nocors"}, "route": {"cluster": "users"},
             "typed_per_filter_config": {"envoy.filters.http.cors": {"@type": "\(corsType)",
               "filter_enabled": {"default_value": {"numerator": 0}}}}},
            {"name": "health", "match": {"path": "/healthz"}, "direct_response": {"status": 200, "body": {"inline_string": "ok"}}},
            {"name": "mirrored", "match": {"prefix": "/mirror"}, "route": {"cluster": "users", "request_mirror_policies": [
               {"cluster": "canary"},
               {"cluster": "shadow", "runtime_fraction": {"default_value": {"numerator": 0}}},
               {"cluster": "nowhere"}]}},
            {"name": "users", "match": {"prefix": "/"}, "route": {"cluster": "users"}}
          ]},
          {"name": "plain", "domains": ["plain.example.com", "plain.example.com:8080"], "routes": [
            {"match": {"prefix": "/half"}, "route": {"cluster": "users", "request_mirror_policies": [
               {"cluster": "canary", "runtime_fraction": {"default_value": {"numerator": 50}}}]}},
            {"match": {"prefix": "/"}, "route": {"cluster": "users", "request_mirror_policies": [
               {"cluster": "canary", "disable_shadow_host_suffix_append": true}]}}]}
        ]}
        """

    static func configuration(filters: Set<HTTPFilterKind> = Set(HTTPFilterKind.allCases)) throws -> ProxyConfiguration {
        ProxyConfiguration(
            listeners: [
                ProxyListener(
                    name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(table)), httpFilters: filters)
            ],
            clusters: [
                ("users", [ProxyEndpoint(host: "10.0.0.1", port: 8080)]),
                ("canary", [ProxyEndpoint(host: "10.0.0.9", port: 8080)]),
                ("shadow", [ProxyEndpoint(host: "10.0.0.8", port: 8080)]),
            ])
    }

    /// Waits (up to 2 s) until the mocks have received `count` requests.
    static func received(_ server: ProxyServer, count: Int) async throws -> [ReceivedRequest] {
        for _ in 0..<200 {
            if server.registry.received.count >= count { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return server.registry.received
    }

    // MARK: - x-envoy-attempt-count

    @Test func attemptCountOnEveryAttemptAndOnTheResponse() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(failures: 2, failureStatus: 503), for: "users")
            let r = try await TestClient.request(port: port, "/retry", host: "api.example.com", headers: [("x-envoy-attempt-count", "9")])
            #expect(r.status == 200)
            #expect(r.header("x-envoy-attempt-count") == "3")
            let seen = server.registry.received.map { $0.header("x-envoy-attempt-count") }
            #expect(seen == ["1", "2", "3"])
        }
    }

    @Test func attemptCountOnARouterLocalReplyButNotOnADirectResponse() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(2)), for: "users")
            let slow = try await TestClient.request(port: port, "/slow", host: "api.example.com")
            #expect(slow.status == 504)
            #expect(slow.header("x-envoy-attempt-count") == "1")
            #expect(slow.header("x-vhost") == "api")
            let direct = try await TestClient.request(port: port, "/healthz", host: "api.example.com")
            #expect(direct.status == 200)
            #expect(direct.header("x-envoy-attempt-count") == nil)
        }
    }

    @Test func noAttemptCountWhenTheVirtualHostDoesNotAskForIt() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/plain", host: "plain.example.com")
            #expect(r.status == 200)
            #expect(r.header("x-envoy-attempt-count") == nil)
            #expect(r.echo?["headers"]?["x-envoy-attempt-count"] == nil)
        }
    }

    // MARK: - CORS

    @Test func preflightIsAnsweredByTheFilter() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(
                port: port, "/users", method: "OPTIONS", host: "api.example.com",
                headers: [("origin", "https://app.example.com"), ("access-control-request-method", "POST")])
            #expect(r.status == 200)
            #expect(r.body == "")
            #expect(r.header("content-length") == "0")
            #expect(r.header("access-control-allow-origin") == "https://app.example.com")
            #expect(r.header("access-control-allow-methods") == "GET,POST")
            #expect(r.header("access-control-allow-headers") == "x-token")
            #expect(r.header("access-control-max-age") == "600")
            #expect(r.header("access-control-expose-headers") == "x-trace")
            #expect(r.header("access-control-allow-credentials") == nil)
            // The route's response mutations are not applied: the router never saw it.
            #expect(r.header("x-vhost") == nil)
            #expect(r.header("server") == "envoy")
            #expect(server.registry.received.isEmpty)
        }
    }

    @Test func attributesComeFromTheMostSpecificPolicyThatSetsThem() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(
                port: port, "/cred", method: "OPTIONS", host: "api.example.com",
                headers: [
                    ("origin", "https://a.trusted.example"), ("access-control-request-method", "DELETE"),
                    ("access-control-request-headers", "x-a,x-b"),
                ])
            #expect(r.status == 200)
            #expect(r.header("access-control-allow-origin") == "https://a.trusted.example")
            #expect(r.header("access-control-allow-credentials") == "true")
            // `*` echoes the request; the origins and max-age come from the virtual host.
            #expect(r.header("access-control-allow-methods") == "DELETE")
            #expect(r.header("access-control-allow-headers") == "x-a,x-b")
            #expect(r.header("access-control-max-age") == "600")
        }
    }

    @Test func simpleRequestGetsTheResponseHeaders() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(
                port: port, "/users", host: "api.example.com", headers: [("origin", "https://app.example.com")])
            #expect(r.status == 200)
            #expect(r.echo?["service"]?.stringValue == "users")
            #expect(r.header("access-control-allow-origin") == "https://app.example.com")
            #expect(r.header("access-control-expose-headers") == "x-trace")
            #expect(r.header("access-control-allow-methods") == nil)
            #expect(r.header("x-vhost") == "api")
            let foreign = try await TestClient.request(
                port: port, "/users", host: "api.example.com", headers: [("origin", "https://evil.example")])
            #expect(foreign.status == 200)
            #expect(foreign.header("access-control-allow-origin") == nil)
        }
    }

    @Test func notMatchingPreflightIsForwardedUnlessTheRouteSaysOtherwise() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let preflight = [("origin", "https://evil.example"), ("access-control-request-method", "GET")]
            let forwarded = try await TestClient.request(
                port: port, "/users", method: "OPTIONS", host: "api.example.com", headers: preflight)
            #expect(forwarded.echo?["method"]?.stringValue == "OPTIONS")
            #expect(forwarded.header("access-control-allow-origin") == nil)
            let answered = try await TestClient.request(
                port: port, "/strict", method: "OPTIONS", host: "api.example.com", headers: preflight)
            #expect(answered.status == 200)
            #expect(answered.body == "")
            #expect(answered.header("access-control-allow-origin") == nil)
            #expect(answered.header("access-control-allow-methods") == "GET,POST")
            #expect(server.registry.received.count == 1)
        }
    }

    @Test func disabledPolicyOrMissingFilterLeavesRequestsAlone() async throws {
        let preflight = [("origin", "https://app.example.com"), ("access-control-request-method", "GET")]
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/nocors", method: "OPTIONS", host: "api.example.com", headers: preflight)
            #expect(r.echo?["method"]?.stringValue == "OPTIONS")
            #expect(r.header("access-control-allow-origin") == nil)
        }
        try await Fixtures.withProxy(try Self.configuration(filters: [.router])) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/users", method: "OPTIONS", host: "api.example.com", headers: preflight)
            #expect(r.echo?["method"]?.stringValue == "OPTIONS")
            #expect(r.header("access-control-allow-origin") == nil)
        }
    }

    // MARK: - Request mirroring

    @Test func mirrorGetsACopyWithAShadowHost() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/mirror/a", method: "POST", host: "api.example.com", body: "payload")
            #expect(r.status == 200)
            #expect(r.echo?["service"]?.stringValue == "users")
            let all = try await Self.received(server, count: 2)
            #expect(all.count == 2)
            let shadow = try #require(all.first { $0.cluster == "canary" })
            #expect(shadow.host == "api.example.com-shadow")
            #expect(shadow.path == "/mirror/a")
            #expect(shadow.method == "POST")
            #expect(shadow.body == "payload")
            #expect(shadow.header("x-request-id") == all.first { $0.cluster == "users" }?.header("x-request-id"))
            // The 0% policy and the unknown cluster send nothing.
            #expect(!all.contains { $0.cluster == "shadow" })
        }
    }

    @Test func mirrorAnswerIsIgnoredAndTheHostSuffixCanBeDisabled() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(failures: 5, failureStatus: 500), for: "canary")
            let r = try await TestClient.request(port: port, "/x", host: "plain.example.com:8080")
            #expect(r.status == 200)
            let all = try await Self.received(server, count: 2)
            #expect(all.first { $0.cluster == "canary" }?.host == "plain.example.com:8080")
        }
    }

    @Test func mirrorFractionFollowsTheRequestsRandomValue() async throws {
        var options = ProxyOptions()
        options.seed = 7
        try await Fixtures.withProxy(try Self.configuration(), options: options) { server in
            let port = try #require(server.port(of: "public"))
            for _ in 0..<40 { _ = try await TestClient.request(port: port, "/half", host: "plain.example.com") }
            try await Task.sleep(nanoseconds: 200_000_000)
            let shadows = server.registry.received.filter { $0.cluster == "canary" }
            // 50% of 40 draws: somewhere in between, and each one a copy of a forwarded request.
            #expect(shadows.count > 5 && shadows.count < 35)
            #expect(shadows.allSatisfy { $0.host == "plain.example.com-shadow" })
        }
    }
}
