import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// Outlier detection, the pending and retry circuit breakers and consistent hashing over
/// loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct UpstreamFeaturesEndToEndTests {
    static let table = """
        {"name": "main", "virtual_hosts": [{"name": "api", "domains": ["*"], "routes": [
          {"match": {"prefix": "/retry"}, "route": {"cluster": "users",
            "retry_policy": {"retry_on": "5xx", "num_retries": 2}}},
          {"match": {"prefix": "/user"}, "route": {"cluster": "users", "hash_policy": [{"header": {"header_name": "x-user"}}]}},
          {"match": {"prefix": "/session"}, "route": {"cluster": "users",
            "hash_policy": [{"cookie": {"name": "missing"}, "terminal": true}, {"cookie": {"name": "session"}}]}},
          {"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}
        """

    static let endpoints = (1...3).map { ProxyEndpoint(host: "10.0.0.\($0)", port: 80) }

    static func configuration(_ settings: ClusterSettings) throws -> ProxyConfiguration {
        ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(table)))],
            clusters: [("users", endpoints)], settings: ["users": settings])
    }

    static func endpoints(_ server: ProxyServer, _ n: Int, path: String = "/", headers: [(String, String)] = []) async throws -> [String] {
        let port = try #require(server.port(of: "public"))
        var out: [String] = []
        for _ in 0..<n {
            out.append(try await TestClient.request(port: port, path, headers: headers).header("x-mock-endpoint") ?? "?")
        }
        return out
    }

    static func outlier(_ base: EnvoyDuration, interval: EnvoyDuration = .seconds(10)) -> OutlierDetection {
        OutlierDetection(consecutive5xx: 2, interval: interval, baseEjectionTime: base, maxEjectionPercent: 50)
    }

    @Test func consecutive5xxEjectsTheFailingEndpoint() async throws {
        let config = try Self.configuration(ClusterSettings(outlierDetection: Self.outlier(.seconds(30))))
        try await Fixtures.withProxy(config) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(failures: 1000), for: "users", endpoint: "10.0.0.2:80")
            // Round robin: the 2nd and 5th requests reach 10.0.0.2, whose second 503 ejects it.
            var statuses: [Int] = []
            for _ in 0..<5 { statuses.append(try await TestClient.request(port: port, "/").status) }
            #expect(statuses == [200, 503, 200, 200, 503])
            let after = try await Self.endpoints(server, 6)
            #expect(!after.contains("10.0.0.2:80"))
            #expect(Set(after) == ["10.0.0.1:80", "10.0.0.3:80"])
        }
    }

    /// An HTTP/2 stream the upstream resets with REFUSED_STREAM is reported as Envoy's router
    /// reports every upstream reset but an overflow: `LocalOriginConnectFailed` (router.cc
    /// `Filter::onUpstreamReset`, from upstream_request.cc `onResetStream`), after the
    /// `LocalOriginConnectSuccess` of the stream getting its connection (upstream_request.cc
    /// `onPoolReady`). Without `split_external_local_origin_errors` that is a 503 for
    /// `consecutive_5xx`; with it, each attempt's connect success clears the local-origin count
    /// before the reset adds one, so refused streams never reach `consecutive_local_origin_failure`.
    @Test func refusedStreamsCountAsConnectFailuresAfterAConnectSuccess() async throws {
        let refused = "upstream connect error or disconnect/reset before headers. reset reason: remote refused stream reset"
        let refusing = MockBehaviour(failures: 1000, refuseStream: true)
        var split = Self.outlier(.seconds(30))
        split.consecutive5xx = 100
        split.splitExternalLocalOriginErrors = true
        split.consecutiveLocalOriginFailure = 2
        for (detection, ejects) in [(Self.outlier(.seconds(30)), true), (split, false)] {
            let config = try Self.configuration(ClusterSettings(http2: true, outlierDetection: detection))
            try await Fixtures.withProxy(config) { server in
                let port = try #require(server.port(of: "public"))
                server.registry.setBehaviour(refusing, for: "users", endpoint: "10.0.0.2:80")
                // Round robin: requests 2, 5 and 8 reach 10.0.0.2 while it is in the rotation.
                var answers: [(Int, String)] = []
                for _ in 0..<8 {
                    let r = try await TestClient.request(port: port, "/")
                    answers.append((r.status, r.status == 503 ? r.body : r.header("x-mock-endpoint") ?? "?"))
                }
                let failed = answers.indices.filter { answers[$0].0 != 200 }
                #expect(failed == (ejects ? [1, 4] : [1, 4, 7]), "\(answers)")
                #expect(failed.allSatisfy { answers[$0] == (503, refused) }, "\(answers)")
                // A refused stream's 503 carries no mock header: "?" while 10.0.0.2 is picked.
                let after = try await Self.endpoints(server, 6)
                #expect(after.contains("?") == !ejects, "\(after)")
                #expect(after.filter { $0 != "?" }.allSatisfy { ["10.0.0.1:80", "10.0.0.3:80"].contains($0) }, "\(after)")
            }
        }
    }

    @Test func anEjectedEndpointComesBackAfterTheEjectionTime() async throws {
        // Ejected for 1 s: long enough for the requests right after the ejection to miss it on
        // a loaded machine; then the test waits for its return (checked each interval) rather
        // than sleeping a fixed time, and checks it did not come back early.
        let config = try Self.configuration(
            ClusterSettings(outlierDetection: Self.outlier(.seconds(1), interval: .milliseconds(100))))
        try await Fixtures.withProxy(config) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(failures: 2), for: "users", endpoint: "10.0.0.2:80")
            let clock = ContinuousClock()
            for _ in 0..<5 { _ = try await TestClient.request(port: port, "/") }
            let ejected = clock.now
            #expect(!(try await Self.endpoints(server, 4)).contains("10.0.0.2:80"))
            var back = false
            while !back && clock.now - ejected < .seconds(20) {
                try await Task.sleep(for: .milliseconds(100))
                back = try await Self.endpoints(server, 3).contains("10.0.0.2:80")
            }
            #expect(back)
            #expect(clock.now - ejected >= .milliseconds(900))
        }
    }

    @Test func maxEjectionPercentKeepsTheLastEndpoints() async throws {
        // 100 * (1 + 1) / 3 > 50: only one of the three may be ejected.
        let config = try Self.configuration(ClusterSettings(outlierDetection: Self.outlier(.seconds(30))))
        try await Fixtures.withProxy(config) { server in
            server.registry.setBehaviour(MockBehaviour(failures: 1000), for: "users")
            _ = try await Self.endpoints(server, 9)
            #expect(Set(try await Self.endpoints(server, 6)).count == 2)
        }
    }

    @Test func maxRetriesOverflowPassesTheLastResponseOn() async throws {
        for (maxRetries, expected) in [(UInt32(0), 1), (3, 3)] {
            let config = try Self.configuration(ClusterSettings(maxRetries: maxRetries))
            try await Fixtures.withProxy(config) { server in
                let port = try #require(server.port(of: "public"))
                server.registry.setBehaviour(MockBehaviour(failures: 1000, failureStatus: 503), for: "users")
                let r = try await TestClient.request(port: port, "/retry")
                // The upstream's 503 itself: not a local reply, not marked overloaded.
                #expect(r.status == 503)
                #expect(r.header("x-envoy-overloaded") == nil)
                #expect(r.header("x-mock-endpoint") != nil)
                #expect(server.registry.received.count == expected)
            }
        }
    }

    @Test func maxPendingRequestsOverflowIs503Overloaded() async throws {
        let config = try Self.configuration(ClusterSettings(maxPendingRequests: 0))
        try await Fixtures.withProxy(config) { server in
            let port = try #require(server.port(of: "public"))
            // Every attempt needs a new connection, and none may wait for one; not retried.
            let r = try await TestClient.request(port: port, "/retry")
            #expect(r.status == 503)
            #expect(r.header("x-envoy-overloaded") == "true")
            #expect(r.body == "upstream connect error or disconnect/reset before headers. reset reason: overflow")
            #expect(server.registry.received.isEmpty)
        }
    }

    @Test func maxConnectionsQueuesTheSecondRequestOnTheFirstConnection() async throws {
        let config = ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(Self.table)))],
            clusters: [("users", [ProxyEndpoint(host: "10.0.0.1", port: 80)])], settings: ["users": ClusterSettings(maxConnections: 1)])
        try await Fixtures.withProxy(config) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(300)), for: "users")
            async let first = TestClient.request(port: port, "/a")
            async let second = TestClient.request(port: port, "/b")
            let statuses = [try await first.status, try await second.status]
            #expect(statuses == [200, 200])
            // Envoy's pool waits for the busy connection instead of opening a second one.
            #expect(server.registry.connections == 1)
            #expect(Set(server.registry.received.map(\.path)) == ["/a", "/b"])
        }
        // Without the breaker the second request gets a connection of its own.
        let unlimited = ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(Self.table)))],
            clusters: [("users", [ProxyEndpoint(host: "10.0.0.1", port: 80)])])
        try await Fixtures.withProxy(unlimited) { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(300)), for: "users")
            async let first = TestClient.request(port: port, "/a")
            async let second = TestClient.request(port: port, "/b")
            _ = [try await first.status, try await second.status]
            #expect(server.registry.connections == 2)
        }
    }

    static let priorityTable = """
        {"name": "main", "virtual_hosts": [{"name": "api", "domains": ["*"], "routes": [
          {"match": {"prefix": "/high"}, "route": {"cluster": "users", "priority": "HIGH"}},
          {"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}
        """

    static func priorityConfiguration(_ settings: ClusterSettings) throws -> ProxyConfiguration {
        ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(priorityTable)))],
            clusters: [("users", [ProxyEndpoint(host: "10.0.0.1", port: 80)])], settings: ["users": settings])
    }

    @Test func aHighPriorityRouteUsesTheHighThresholds() async throws {
        // DEFAULT refuses every request; HIGH has Envoy's defaults.
        try await Fixtures.withProxy(try Self.priorityConfiguration(ClusterSettings(maxRequests: 0))) { server in
            let port = try #require(server.port(of: "public"))
            let low = try await TestClient.request(port: port, "/a")
            #expect(low.status == 503 && low.header("x-envoy-overloaded") == "true")
            #expect(try await TestClient.request(port: port, "/high").status == 200)
            #expect(server.registry.received.map(\.path) == ["/high"])
        }
        // And the reverse: HIGH's own `max_pending_requests` of 0.
        let high = ClusterSettings(highPriority: CircuitBreakerThresholds(maxPendingRequests: 0))
        try await Fixtures.withProxy(try Self.priorityConfiguration(high)) { server in
            let port = try #require(server.port(of: "public"))
            #expect(try await TestClient.request(port: port, "/a").status == 200)
            let r = try await TestClient.request(port: port, "/high")
            #expect(r.status == 503)
            #expect(r.body == "upstream connect error or disconnect/reset before headers. reset reason: overflow")
            #expect(server.registry.received.map(\.path) == ["/a"])
        }
    }

    @Test func anHTTP2StreamWaitingForItsConnectionIsPending() async throws {
        // HTTP/2: DEFAULT's stream waits for the connection being dialled (one pending of
        // Envoy's 1024); HIGH may have none pending, so it is refused, although DEFAULT's
        // connection is up by then: HIGH's pool is another one, not connected.
        let settings = ClusterSettings(http2: true, highPriority: CircuitBreakerThresholds(maxPendingRequests: 0))
        try await Fixtures.withProxy(try Self.priorityConfiguration(settings)) { server in
            let port = try #require(server.port(of: "public"))
            #expect(try await TestClient.request(port: port, "/a").status == 200)
            #expect(try await TestClient.request(port: port, "/b").status == 200)
            let r = try await TestClient.request(port: port, "/high")
            #expect(r.status == 503 && r.header("x-envoy-overloaded") == "true")
            #expect(r.body == "upstream connect error or disconnect/reset before headers. reset reason: overflow")
            #expect(server.registry.received.map(\.path) == ["/a", "/b"])
            #expect(server.registry.connections == 1)
        }
    }

    @Test func aMirrorOfAHighPriorityRouteCountsAgainstDefault() async throws {
        // The shadow goes through Envoy's async client, whose route (`NullRouteImpl`) has
        // DEFAULT priority whatever the mirrored route's (null_route_impl.h): the mirror
        // cluster's DEFAULT `max_requests` of 0 stops it, HIGH's does not.
        let table = """
            {"name": "main", "virtual_hosts": [{"name": "api", "domains": ["*"], "routes": [
              {"match": {"prefix": "/"}, "route": {"cluster": "users", "priority": "HIGH",
               "request_mirror_policies": [{"cluster": "canary"}]}}]}]}
            """
        let cases = [
            (ClusterSettings(maxRequests: 0), false), (ClusterSettings(highPriority: CircuitBreakerThresholds(maxRequests: 0)), true),
        ]
        for (canary, mirrored) in cases {
            let config = ProxyConfiguration(
                listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(table)))],
                clusters: [
                    ("users", [ProxyEndpoint(host: "10.0.0.1", port: 80)]), ("canary", [ProxyEndpoint(host: "10.0.0.2", port: 80)]),
                ],
                settings: ["canary": canary])
            try await Fixtures.withProxy(config) { server in
                let port = try #require(server.port(of: "public"))
                #expect(try await TestClient.request(port: port, "/a").status == 200)
                for _ in 0..<50 where !server.registry.received.contains(where: { $0.cluster == "canary" }) {
                    try await Task.sleep(nanoseconds: 10_000_000)
                }
                #expect(server.registry.received.contains { $0.cluster == "canary" } == mirrored, "\(canary)")
            }
        }
    }

    @Test func eachPriorityHasItsOwnConnectionPool() async throws {
        try await Fixtures.withProxy(try Self.priorityConfiguration(ClusterSettings())) { server in
            let port = try #require(server.port(of: "public"))
            for path in ["/a", "/b", "/high", "/high/2", "/c"] { #expect(try await TestClient.request(port: port, path).status == 200) }
            // One keep-alive connection per priority (Envoy's `httpConnPoolImpl` keys its pools by priority).
            #expect(server.registry.connections == 2)
        }
    }

    @Test func hashBalanceFactorMovesTheThirdConcurrentRequestOfAKey() async throws {
        // Three endpoints, factor 100: with two of alice's requests in flight the bound is
        // ceil(((2 + 1) * 100 + 99) / 100 / 3) = 1 each, so the third goes elsewhere.
        for (factor, expected) in [(UInt32?.none, 1), (100, 2)] {
            let config = try Self.configuration(ClusterSettings(lbPolicy: .ringHash, hashBalanceFactor: factor))
            try await Fixtures.withProxy(config) { server in
                let port = try #require(server.port(of: "public"))
                server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(400)), for: "users")
                let alice = [("x-user", "alice")]
                async let a = TestClient.request(port: port, "/user", headers: alice)
                async let b = TestClient.request(port: port, "/user", headers: alice)
                async let c = TestClient.request(port: port, "/user", headers: alice)
                let got = [try await a, try await b, try await c].map { $0.header("x-mock-endpoint") ?? "?" }
                #expect(Set(got).count == expected, "\(got)")
            }
        }
    }

    @Test func ringHashSendsAHeaderToItsEndpoint() async throws {
        let config = try Self.configuration(ClusterSettings(lbPolicy: .ringHash))
        let ring = RingHashTable(
            hosts: Self.endpoints.enumerated().map { ($0.offset, $0.element.label, 1) }, minimumSize: 1024, maximumSize: 8_388_608)
        try await Fixtures.withProxy(config) { server in
            for user in ["alice", "bob", "carol", "dave"] {
                let seen = try await Self.endpoints(server, 3, path: "/user", headers: [("x-user", user)])
                let want = try #require(ring.pick(XXHash64.hash(user)))
                #expect(seen == Array(repeating: Self.endpoints[want].label, count: 3), "\(user)")
            }
        }
    }

    @Test func maglevHashesTheCookieAfterAMissingTerminalOne() async throws {
        let config = try Self.configuration(ClusterSettings(lbPolicy: .maglev))
        let table = MaglevTable(hosts: Self.endpoints.enumerated().map { ($0.offset, $0.element.label, 1) }, size: 65537)
        try await Fixtures.withProxy(config) { server in
            var chosen = Set<String>()
            for session in ["s1", "s2", "s3", "s4", "s5", "s6"] {
                let seen = try await Self.endpoints(server, 2, path: "/session", headers: [("cookie", "session=\(session)")])
                let want = try #require(table.pick(XXHash64.hash(session)))
                #expect(seen == Array(repeating: Self.endpoints[want].label, count: 2), "\(session)")
                chosen.formUnion(seen)
            }
            #expect(chosen.count > 1)
        }
    }

    @Test func ringHashWithoutAHashIsRandomAndRepeatsWithTheSeed() async throws {
        let config = try Self.configuration(ClusterSettings(lbPolicy: .ringHash))
        var options = ProxyOptions()
        options.seed = 7
        let first = try await Fixtures.withProxy(config, options: options) { try await Self.endpoints($0, 12) }
        let second = try await Fixtures.withProxy(config, options: options) { try await Self.endpoints($0, 12) }
        #expect(first == second)
        #expect(Set(first).count > 1)
    }

    @Test func ringHashSkipsAnEjectedEndpoint() async throws {
        let config = try Self.configuration(ClusterSettings(lbPolicy: .ringHash, outlierDetection: Self.outlier(.seconds(30))))
        let all = Self.endpoints.enumerated().map { ($0.offset, $0.element.label, UInt64(1)) }
        let ring = RingHashTable(hosts: all, minimumSize: 1024, maximumSize: 8_388_608)
        try await Fixtures.withProxy(config) { server in
            let user = "alice"
            let home = Self.endpoints[try #require(ring.pick(XXHash64.hash(user)))].label
            server.registry.setBehaviour(MockBehaviour(failures: 1000), for: "users", endpoint: home)
            _ = try await Self.endpoints(server, 2, path: "/user", headers: [("x-user", user)])
            let rest = all.filter { $0.1 != home }
            let rebuilt = RingHashTable(hosts: rest, minimumSize: 1024, maximumSize: 8_388_608)
            let want = Self.endpoints[try #require(rebuilt.pick(XXHash64.hash(user)))].label
            #expect(try await Self.endpoints(server, 3, path: "/user", headers: [("x-user", user)]) == [want, want, want])
        }
    }
}
