import Testing
import XDSCEnvoy
import XDSCJSON

@testable import XDSCProxy

/// The proxy over real loopback sockets: each test starts the proxy and its mock
/// upstreams on ephemeral ports and sends real HTTP/1.1.
@Suite(.timeLimit(.minutes(1)))
struct ProxyEndToEndTests {
    @Test func forwardsToAMockThatEchoesTheRequest() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(
                port: port, "/users/7?x=1", method: "POST", host: "api.example.com", headers: [("x-custom", "a")], body: "hi")
            #expect(r.status == 200)
            #expect(r.header("server") == "envoy")
            #expect(r.header("x-envoy-upstream-service-time") != nil)
            let echo = try #require(r.echo)
            #expect(echo["service"]?.stringValue == "users")
            #expect(echo["method"]?.stringValue == "POST")
            #expect(echo["path"]?.stringValue == "/users/7?x=1")
            #expect(echo["host"]?.stringValue == "api.example.com")
            #expect(echo["body"]?.stringValue == "hi")
            let headers = try #require(echo["headers"])
            #expect(headers["x-custom"]?.stringValue == "a")
            #expect(headers["x-vhost"]?.stringValue == "api")
            #expect(headers["x-forwarded-proto"]?.stringValue == "http")
            #expect(headers["x-envoy-expected-rq-timeout-ms"]?.stringValue == "15000")
            #expect(headers["x-request-id"]?.stringValue?.count == 36)
            #expect(headers["connection"] == nil)
            #expect(server.registry.received.count == 1)
        }
    }

    @Test func aBodyLargerThanOneReadArrivesWhole() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            // 300 KB: several socket reads, so several body parts are put together.
            let body = (0..<300_000).map { i in String(UnicodeScalar(UInt8(97 + i % 26))) }.joined()
            let r = try await TestClient.request(port: port, "/users", method: "POST", host: "api.example.com", body: body)
            #expect(r.status == 200)
            #expect(r.echo?["body"]?.stringValue == body)
        }
    }

    @Test func requestIDsAreVersion4UUIDs() {
        let random = RandomSource(seed: 42)
        let reference = RandomSource(seed: 42)
        for _ in 0..<200 {
            let id = random.uuid()
            // The bytes of two draws, most significant first, with the version and variant set.
            var bytes: [UInt8] = []
            for word in [reference.next(), reference.next()] {
                for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(i)))) }
            }
            bytes[6] = (bytes[6] & 0x0F) | 0x40
            bytes[8] = (bytes[8] & 0x3F) | 0x80
            let hex = bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
                String(hex.dropFirst(r.lowerBound).prefix(r.count))
            }
            #expect(id == groups.joined(separator: "-"))
            #expect(id.count == 36 && Array(id)[14] == "4" && "89ab".contains(Array(id)[19]))
        }
    }

    @Test func roundRobinOverEndpoints() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            var seen: [String] = []
            for _ in 0..<4 {
                let r = try await TestClient.request(port: port, "/users", host: "api.example.com")
                seen.append(r.echo?["endpoint"]?.stringValue ?? "?")
            }
            #expect(seen == ["10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.1:8080", "10.0.0.2:8080"])
        }
    }

    @Test func directResponseRedirectAndNoRoute() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let ok = try await TestClient.request(port: port, "/healthz", host: "api.example.com")
            #expect(ok.status == 200)
            #expect(ok.body == "ok")
            #expect(ok.header("content-type") == "text/plain")
            let moved = try await TestClient.request(port: port, "/v1/orders?id=3", host: "api.example.com")
            #expect(moved.status == 308)
            #expect(moved.header("location") == "http://api.example.com/v2/orders?id=3")
            let none = try await TestClient.request(port: port, "/", host: "nobody.example.com")
            #expect(none.status == 404)
            #expect(none.body == "")
            #expect(none.header("content-length") == "0")
            #expect(server.registry.received.isEmpty)
        }
    }

    @Test func rewritesAndHeaderMutations() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(
                port: port, "/old/thing", host: "api.example.com", headers: [("x-secret", "s"), ("x-envoy-retry-on", "5xx")])
            #expect(r.status == 200)
            #expect(r.header("x-served-by") == "proxy")
            #expect(r.header("x-mock-endpoint") == nil)
            let echo = try #require(r.echo)
            #expect(echo["path"]?.stringValue == "/new/thing")
            #expect(echo["host"]?.stringValue == "users.internal")
            let h = try #require(echo["headers"])
            #expect(h["x-envoy-original-path"]?.stringValue == "/old/thing")
            #expect(h["x-envoy-original-host"]?.stringValue == "api.example.com")
            #expect(h["x-route"]?.stringValue == "rewrite")
            #expect(h["x-secret"] == nil)
            #expect(h["x-envoy-retry-on"] == nil)
        }
    }

    @Test func clientRequestIDIsKept() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/", host: "api.example.com", headers: [("x-request-id", "abc")])
            #expect(r.echo?["headers"]?["x-request-id"]?.stringValue == "abc")
        }
    }

    @Test func weightedSplitIsRepeatableWithASeed() async throws {
        func run() async throws -> [String] {
            var options = ProxyOptions()
            options.seed = 42
            return try await Fixtures.withProxy(options: options) { server in
                let port = try #require(server.port(of: "public"))
                var out: [String] = []
                for _ in 0..<30 {
                    out.append(
                        try await TestClient.request(port: port, "/split", host: "api.example.com").echo?["service"]?.stringValue ?? "?")
                }
                return out
            }
        }
        let a = try await run()
        let b = try await run()
        #expect(a == b)
        #expect(a.contains("users"))
        #expect(a.filter { $0 == "canary" }.count < 10)
    }

    @Test func noEndpointsAndUnknownClusterAre503() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let empty = try await TestClient.request(port: port, "/empty", host: "api.example.com")
            #expect(empty.status == 503)
            #expect(empty.body == "no healthy upstream")
            #expect(empty.header("content-type") == "text/plain")
            let missing = try await TestClient.request(port: port, "/missing", host: "api.example.com")
            #expect(missing.status == 503)
            #expect(missing.body == "")
        }
    }

    @Test func connectFailureIs503WithEnvoysBody() async throws {
        var options = ProxyOptions()
        options.upstreams = .real
        // Port 1 on loopback: nothing listens there, the connect is refused.
        let config = try Fixtures.configuration(endpoints: [ProxyEndpoint(host: "127.0.0.1", port: 1)])
        try await Fixtures.withProxy(config, options: options) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/users", host: "api.example.com")
            #expect(r.status == 503)
            #expect(r.body == "upstream connect error or disconnect/reset before headers. reset reason: connection failure")
        }
    }

    @Test func realUpstreamsAreDialled() async throws {
        // A mock server stands in for a real upstream; the second proxy dials it as configured.
        try await Fixtures.withProxy { mocks in
            let mockPort = try #require(mocks.upstreams.first { $0.cluster == "users" }?.port)
            var options = ProxyOptions()
            options.upstreams = .real
            let config = try Fixtures.configuration(endpoints: [ProxyEndpoint(host: "127.0.0.1", port: mockPort)])
            try await Fixtures.withProxy(config, options: options) { server in
                let port = try #require(server.port(of: "public"))
                let r = try await TestClient.request(port: port, "/users", host: "api.example.com")
                #expect(r.status == 200)
                #expect(r.echo?["service"]?.stringValue == "users")
                #expect(server.upstreams.first?.mock == false)
            }
        }
    }

    @Test func requestTimeoutIs504() async throws {
        try await Fixtures.withProxy { server in
            // The route's timeout is 0.2 s; the mock would answer 200 after 5 s, so the 504 shows
            // the proxy did not wait for it (no wall-clock bound: a loaded machine is slow).
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(5)), for: "users")
            let port = try #require(server.port(of: "public"))
            let clock = ContinuousClock()
            let start = clock.now
            let r = try await TestClient.request(port: port, "/slow", host: "api.example.com")
            #expect(r.status == 504)
            #expect(r.body == "upstream request timeout")
            #expect(clock.now - start >= .milliseconds(200))
        }
    }

    @Test func retriesOn5xxUntilSuccess() async throws {
        try await Fixtures.withProxy { server in
            server.registry.setBehaviour(MockBehaviour(failures: 2, failureStatus: 503), for: "users")
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/retry", host: "api.example.com")
            #expect(r.status == 200)
            #expect(server.registry.received.count == 3)
        }
    }

    @Test func retriesGiveUpAfterNumRetries() async throws {
        try await Fixtures.withProxy { server in
            server.registry.setBehaviour(MockBehaviour(failures: 5, failureStatus: 500), for: "users")
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/retry", host: "api.example.com")
            #expect(r.status == 500)
            #expect(server.registry.received.count == 3)
            // A route without a retry policy tries once.
            server.registry.reset()
            server.registry.setBehaviour(MockBehaviour(failures: 5, failureStatus: 503), for: "users")
            let once = try await TestClient.request(port: port, "/users", host: "api.example.com")
            #expect(once.status == 503)
            #expect(server.registry.received.count == 1)
        }
    }

    @Test func resetIsRetriedAndReported() async throws {
        try await Fixtures.withProxy { server in
            server.registry.setBehaviour(MockBehaviour(failures: 1, reset: true), for: "users")
            let port = try #require(server.port(of: "public"))
            let retried = try await TestClient.request(port: port, "/retry", host: "api.example.com")
            #expect(retried.status == 200)
            server.registry.setBehaviour(MockBehaviour(failures: 1, reset: true), for: "users")
            let r = try await TestClient.request(port: port, "/users", host: "api.example.com")
            #expect(r.status == 503)
            #expect(r.body == "upstream connect error or disconnect/reset before headers. reset reason: connection termination")
        }
    }

    @Test func perTryTimeoutIsRetriedThen504() async throws {
        try await Fixtures.withProxy { server in
            server.registry.setBehaviour(MockBehaviour(delay: .seconds(1)), for: "users")
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/pertry", host: "api.example.com")
            #expect(r.status == 504)
            #expect(r.body == "upstream request timeout")
            #expect(server.registry.received.count == 2)
            #expect(server.registry.received.first?.header("x-envoy-expected-rq-timeout-ms") == "100")
        }
    }
}

/// The per-route HTTP filters before the router.
@Suite(.timeLimit(.minutes(1)))
struct FilterTests {
    @Test func localRateLimitAnswers429WhenTheBucketIsEmpty() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            var statuses: [Int] = []
            for _ in 0..<3 { statuses.append(try await TestClient.request(port: port, "/limited", host: "api.example.com").status) }
            #expect(statuses == [200, 200, 429])
            let limited = try await TestClient.request(port: port, "/limited", host: "api.example.com")
            #expect(limited.body == "local_rate_limited")
            #expect(server.registry.received.count == 2)
            // Other routes have no bucket.
            #expect(try await TestClient.request(port: port, "/users", host: "api.example.com").status == 200)
        }
    }

    @Test func faultAbortAndDelay() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let aborted = try await TestClient.request(port: port, "/abort", host: "api.example.com")
            #expect(aborted.status == 418)
            #expect(aborted.body == "fault filter abort")
            #expect(server.registry.received.isEmpty)
            let clock = ContinuousClock()
            let start = clock.now
            let delayed = try await TestClient.request(port: port, "/delayed", host: "api.example.com")
            #expect(delayed.status == 200)
            #expect(clock.now - start >= .milliseconds(300))
        }
    }
}

/// The settings the proxy does not simulate are named at start.
@Suite struct UnsimulatedTests {
    @Test func clusterAndListenerFeaturesAreWarned() {
        var cluster = Cluster(name: "c", type: .static, lbPolicy: .ringHash)
        let tcp = HealthCheck(timeout: .seconds(1), interval: .seconds(5), unhealthyThreshold: 2, healthyThreshold: 1, kind: .tcp)
        cluster.healthChecks = [tcp]
        // TCP (and gRPC) checks are run: nothing to warn about.
        #expect(ProxyConfiguration(listeners: [], clusters: [cluster]).unsimulated.allSatisfy { !$0.contains("health check") })
        cluster.healthChecks = [tcp, tcp]
        let config = ProxyConfiguration(listeners: [], clusters: [cluster])
        #expect(config.unsimulated.contains("cluster `c`: only the first of its health checks is run"))
        cluster.autoHTTPConfig = true
        #expect(
            ProxyConfiguration(listeners: [], clusters: [cluster]).unsimulated.contains(
                "cluster `c`: `auto_config` (the protocol by ALPN) is not simulated; the cluster is served over HTTP/1.1"))
        // RING_HASH is simulated, with either hash function.
        #expect(!config.unsimulated.contains { $0.contains("RING_HASH") || $0.contains("LEAST_REQUEST") || $0.contains("RANDOM") })
        cluster.ringHashConfig = RingHashLbConfig(hashFunction: .murmurHash2)
        #expect(!ProxyConfiguration(listeners: [], clusters: [cluster]).unsimulated.contains { $0.contains("MURMUR_HASH_2") })
        cluster.useHostnameForHashing = true
        cluster.hashBalanceFactor = 120
        let address = SocketAddress(address: "10.0.0.1", portValue: 80)
        cluster.loadAssignment = ClusterLoadAssignment(clusterName: "c", endpoints: [.init(address: address, hostname: "a.internal")])
        var hashing = ProxyConfiguration(listeners: [], clusters: [cluster])
        #expect(!hashing.unsimulated.contains { $0.contains("hostname") || $0.contains("hash_balance_factor") })
        #expect(hashing.clusters["c"]?.first?.hostname == "a.internal" && hashing.clusterSettings["c"]?.useHostnameForHashing == true)
        cluster.loadAssignment = ClusterLoadAssignment(clusterName: "c", endpoints: [.init(address: address)])
        hashing = ProxyConfiguration(listeners: [], clusters: [cluster])
        #expect(
            hashing.unsimulated.contains(
                "cluster `c`: `use_hostname_for_hashing` with an endpoint without `hostname`: it is hashed by an empty name, as Envoy does")
        )
        #expect(hashing.clusters["c"]?.first?.hostname == "")
        cluster.type = .strictDNS
        hashing = ProxyConfiguration(listeners: [], clusters: [cluster])
        #expect(!hashing.unsimulated.contains { $0.contains("hostname") })
        #expect(hashing.clusters["c"]?.first?.hostname == "10.0.0.1")
    }

    @Test func aFilterStateHashPolicyIsWarned() throws {
        let table = try Fixtures.routeConfiguration(
            """
            {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [
              {"match": {"prefix": "/"}, "route": {"cluster": "c",
                "hash_policy": [{"header": {"header_name": "x-user"}}, {"filter_state": {"key": "k"}, "terminal": true}]}}]}]}
            """)
        let listener = Listener(
            name: "l", address: SocketAddress(address: "127.0.0.1", portValue: 0),
            connectionManager: HttpConnectionManager(statPrefix: "s", routes: .inline(table)))
        #expect(
            ProxyConfiguration(listeners: [listener], clusters: []).unsimulated == [
                "listener `l`: a `filter_state` hash policy never yields a hash (the proxy keeps no filter state)"
            ])
    }

    @Test func circuitBreakersAreNotWarned() {
        var cluster = Cluster(
            name: "c", lbPolicy: .leastRequest,
            circuitBreakers: CircuitBreakerThresholds(maxPendingRequests: 1, maxRequests: 3, maxRetries: 1),
            outlierDetection: OutlierDetection(consecutive5xx: 2))
        #expect(ProxyConfiguration(listeners: [], clusters: [cluster]).unsimulated.isEmpty)
        cluster.circuitBreakers?.maxConnections = 1
        #expect(ProxyConfiguration(listeners: [], clusters: [cluster]).unsimulated.isEmpty)
        // HTTP/2 pools dial within max_connections, as Envoy's do: nothing to warn about either.
        cluster.upstreamProtocol = .http2
        cluster.highPriorityCircuitBreakers = CircuitBreakerThresholds(maxConnections: 1, maxRequests: 1)
        #expect(ProxyConfiguration(listeners: [], clusters: [cluster]).unsimulated.isEmpty)
    }
}
