import Testing
import XDSCJSON

@testable import XDSCProxy

/// `x-forwarded-for`, internal and edge requests over loopback
/// (`ConnectionManagerUtility::mutateRequestHeaders`, conn_manager_utility.cc): what the
/// mock upstream receives for each setting of `use_remote_address`, `xff_num_trusted_hops`,
/// `skip_xff_append` and `internal_address_config`.
@Suite struct ClientAddressEndToEndTests {
    /// A connection manager with `manager` fields; the route table has an internal-only
    /// header, a host `secure.example` with `require_tls: EXTERNAL_ONLY`, and request headers
    /// that show the trusted client address and the peer.
    static func chain(_ manager: String) -> String {
        """
        {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "stat_prefix": "edge", \(manager)"http_filters": [{"name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}],
          "route_config": {"name": "r", "internal_only_headers": ["x-secret"], "virtual_hosts": [
            {"name": "secure", "domains": ["secure.example"], "require_tls": "EXTERNAL_ONLY",
             "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"}}]},
            {"name": "v", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"},
              "request_headers_to_add": [
                {"header": {"key": "x-client", "value": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"}},
                {"header": {"key": "x-peer", "value": "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%"}}]}]}]}}}]}
        """
    }

    /// What the upstream saw of each request (`nil` for a request that did not reach it) and
    /// the statuses, for requests `(host, headers)` through a listener with `manager`.
    static func through(_ manager: String, _ requests: [(String, [(String, String)])]) async throws -> [(Int, JSON?)] {
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [chain(manager)]))
        let server = try await TLSFixtures.start(config)
        let port = try #require(server.port(of: "edge"))
        var out: [(Int, JSON?)] = []
        for (host, headers) in requests {
            let r = try await TestClient.request(port: port, "/p", host: host, headers: headers)
            out.append((r.status, r.status == 200 ? r.echo?["headers"] : nil))
        }
        await server.shutdown()
        return out
    }

    static let clientHeaders: [(String, String)] = [
        ("x-forwarded-for", "203.0.113.7"), ("x-envoy-retry-on", "5xx"), ("x-envoy-original-path", "/old"), ("x-request-id", "abc"),
        ("x-envoy-internal", "true"), ("x-envoy-external-address", "198.51.100.1"), ("x-secret", "s"),
    ]

    @Test func withoutRemoteAddressXFFPassesAndItsLastAddressIsTheClient() async throws {
        let r = try await Self.through("", [("api.example.com", Self.clientHeaders)])
        let h = try #require(r[0].1)
        #expect(h["x-forwarded-for"]?.stringValue == "203.0.113.7")
        #expect(h["x-client"]?.stringValue == "203.0.113.7")
        #expect(h["x-peer"]?.stringValue == "127.0.0.1")
        // External but not at the edge: control headers go, the rest stays.
        #expect(h["x-envoy-retry-on"] == nil)
        #expect(h["x-secret"] == nil)
        #expect(h["x-envoy-internal"] == nil)
        #expect(h["x-envoy-original-path"]?.stringValue == "/old")
        #expect(h["x-envoy-external-address"]?.stringValue == "198.51.100.1")
        #expect(h["x-request-id"]?.stringValue == "abc")
    }

    @Test func atTheEdgeTheLoopbackPeerIsAppendedAndTheRequestIsExternal() async throws {
        let r = try await Self.through(
            #""use_remote_address": true, "#, [("api.example.com", Self.clientHeaders), ("api.example.com", [])])
        let h = try #require(r[0].1)
        // A loopback peer is appended as the listener's local address, 127.0.0.1.
        #expect(h["x-forwarded-for"]?.stringValue == "203.0.113.7,127.0.0.1")
        #expect(h["x-client"]?.stringValue == "127.0.0.1")
        #expect(h["x-envoy-external-address"]?.stringValue == "127.0.0.1")
        #expect(h["x-envoy-original-path"] == nil)
        #expect(h["x-envoy-retry-on"] == nil)
        #expect(h["x-secret"] == nil)
        #expect(h["x-envoy-internal"] == nil)
        let id = h["x-request-id"]?.stringValue
        #expect(id != "abc" && id?.count == 36)
        let bare = try #require(r[1].1)
        #expect(bare["x-forwarded-for"]?.stringValue == "127.0.0.1")
    }

    @Test func skipXffAppendLeavesTheHeaderAlone() async throws {
        let r = try await Self.through(#""use_remote_address": true, "skip_xff_append": true, "#, [("api.example.com", Self.clientHeaders)])
        let h = try #require(r[0].1)
        #expect(h["x-forwarded-for"]?.stringValue == "203.0.113.7")
        #expect(h["x-envoy-external-address"]?.stringValue == "127.0.0.1")
    }

    @Test func trustedHopsGiveTheClientFromXFF() async throws {
        let r = try await Self.through(
            #""use_remote_address": true, "xff_num_trusted_hops": 1, "#,
            [("api.example.com", [("x-forwarded-for", "198.51.100.2, 203.0.113.9")])])
        let h = try #require(r[0].1)
        #expect(h["x-forwarded-for"]?.stringValue == "198.51.100.2, 203.0.113.9,127.0.0.1")
        #expect(h["x-client"]?.stringValue == "203.0.113.9")
        #expect(h["x-peer"]?.stringValue == "127.0.0.1")
        #expect(h["x-envoy-external-address"]?.stringValue == "203.0.113.9")
    }

    @Test func aLoopbackClientListedAsInternalKeepsItsControlHeaders() async throws {
        let manager = #""use_remote_address": true, "internal_address_config": {}, "#
        let noXFF = Self.clientHeaders.filter { $0.0 != "x-forwarded-for" }
        let r = try await Self.through(
            manager, [("api.example.com", noXFF), ("secure.example", []), ("secure.example", [("x-forwarded-for", "10.0.0.1")])])
        let h = try #require(r[0].1)
        #expect(h["x-envoy-internal"]?.stringValue == "true")
        // Kept past `cleanInternalHeaders`, then consumed by the router (`RetryStateImpl::create`).
        #expect(h["x-envoy-retry-on"] == nil)
        #expect(h["x-secret"]?.stringValue == "s")
        #expect(h["x-envoy-original-path"]?.stringValue == "/old")
        #expect(h["x-request-id"]?.stringValue == "abc")
        #expect(h["x-envoy-external-address"]?.stringValue == "198.51.100.1")
        #expect(h["x-forwarded-for"]?.stringValue == "127.0.0.1")
        // `require_tls: EXTERNAL_ONLY` lets the internal request through in plain text...
        #expect(r[1].0 == 200)
        // ... and redirects one with XFF (external).
        #expect(r[2].0 == 301)
    }

    @Test func withoutRemoteAddressASingleListedXFFAddressIsInternal() async throws {
        let manager = #""internal_address_config": {"cidr_ranges": [{"address_prefix": "10.0.0.0", "prefix_len": 8}]}, "#
        let r = try await Self.through(
            manager,
            [
                ("api.example.com", [("x-forwarded-for", "10.1.2.3"), ("x-envoy-retry-on", "5xx")]),
                ("api.example.com", [("x-forwarded-for", "10.1.2.3, 10.1.2.4"), ("x-envoy-retry-on", "5xx")]),
                ("api.example.com", [("x-forwarded-for", "192.168.0.1"), ("x-envoy-retry-on", "5xx")]),
            ])
        let inner = try #require(r[0].1)
        #expect(inner["x-envoy-internal"]?.stringValue == "true")
        #expect(inner["x-envoy-retry-on"] == nil)
        #expect(inner["x-forwarded-for"]?.stringValue == "10.1.2.3")
        for i in 1...2 {
            let h = try #require(r[i].1)
            #expect(h["x-envoy-internal"] == nil, "\(i)")
            #expect(h["x-envoy-retry-on"] == nil, "\(i)")
        }
    }

    /// An internal request's retry headers drive the router's retries (`RetryStateImpl`);
    /// an external request loses them and is not retried. None of them goes upstream.
    @Test func anInternalRequestsRetryHeadersAreActedOn() async throws {
        let manager = #""internal_address_config": {"cidr_ranges": [{"address_prefix": "10.0.0.0", "prefix_len": 8}]}, "#
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [Self.chain(manager)]))
        let server = try await TLSFixtures.start(config)
        let port = try #require(server.port(of: "edge"))
        let retry: [(String, String)] = [
            ("x-envoy-retry-on", "retriable-status-codes, connect-failure"), ("x-envoy-retriable-status-codes", "418"),
            ("x-envoy-max-retries", "2"), ("x-envoy-upstream-rq-per-try-timeout-ms", "5000"),
        ]
        server.registry.setBehaviour(MockBehaviour(failures: 2, failureStatus: 418), for: "users")
        let inner = try await TestClient.request(
            port: port, "/p", host: "api.example.com", headers: [("x-forwarded-for", "10.1.2.3")] + retry)
        #expect(inner.status == 200)
        #expect(server.registry.received.count == 3)
        let seen = try #require(inner.echo?["headers"])
        for (name, _) in retry { #expect(seen[name] == nil, "\(name)") }
        #expect(seen["x-envoy-internal"]?.stringValue == "true")

        server.registry.setBehaviour(MockBehaviour(failures: 2, failureStatus: 418), for: "users")
        let before = server.registry.received.count
        let outer = try await TestClient.request(
            port: port, "/p", host: "api.example.com", headers: [("x-forwarded-for", "192.168.0.1")] + retry)
        #expect(outer.status == 418)
        #expect(server.registry.received.count == before + 1)
        await server.shutdown()
    }

    /// The connection manager's `via` on the forwarded request, on the upstream's response
    /// and on the proxy's own local reply (`mutateRequestHeaders`, `mutateResponseHeaders`).
    @Test func viaOnRequestsAndResponses() async throws {
        let config = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [Self.chain(#""via": "1.1 xdsc-edge", "#)]))
        let server = try await TLSFixtures.start(config)
        let port = try #require(server.port(of: "edge"))
        let r = try await TestClient.request(port: port, "/p", host: "api.example.com", headers: [("via", "1.0 client")])
        #expect(r.status == 200)
        #expect(r.echo?["headers"]?["via"]?.stringValue == "1.0 client, 1.1 xdsc-edge")
        #expect(r.header("via") == "1.1 xdsc-edge")
        // `require_tls: EXTERNAL_ONLY` redirects: a local reply.
        let redirect = try await TestClient.request(port: port, "/p", host: "secure.example")
        #expect(redirect.status == 301)
        #expect(redirect.header("via") == "1.1 xdsc-edge")
        await server.shutdown()
    }

    @Test func whatIsNotSimulatedIsWarnedAtStart() throws {
        let ext =
            #""original_ip_detection_extensions": [{"name": "envoy.http.original_ip_detection.custom_header", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig", "header_name": "x-real-ip"}}], "#
        let withExtension = try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [Self.chain(ext)]))
        #expect(
            withExtension.unsimulated == [
                "listener `edge`: original IP detection extension `envoy.http.original_ip_detection.custom_header` is not simulated; "
                    + "the trusted client address is read from `x-forwarded-for` as without extensions"
            ])
        let edge = try TLSFixtures.configuration(
            TLSFixtures.bootstrap(chains: [Self.chain(#""use_remote_address": true, "internal_address_config": {}, "#)]))
        // Internal requests' `x-envoy-retry-grpc-on` and `x-envoy-retriable-header-names` are
        // acted on (RetryPlan): only the appended loopback address is warned.
        #expect(edge.unsimulated.count == 1)
        #expect(edge.unsimulated.allSatisfy { $0.hasPrefix("listener `edge`: ") })
        #expect(edge.unsimulated.first?.contains("loopback client is appended to `x-forwarded-for`") == true)
        #expect(!edge.unsimulated.contains { $0.contains("x-envoy-retry-grpc-on") })
        #expect(try TLSFixtures.configuration(TLSFixtures.bootstrap(chains: [Self.chain("")])).unsimulated == [])
    }
}
