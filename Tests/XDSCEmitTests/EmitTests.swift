import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEmit
import XDSCEnvoyReader
import XDSCJSON
import XDSCRegex
import XDSCRequest
import XDSCRouteEngine
import XDSCTestSupport

@testable import XDSCEnvoy

/// Lowers an inline policy (written to a temporary file) and returns the Envoy model.
func lowerPolicy(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> EnvoyConfig {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-emit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("policy.yaml")
    try yaml.write(to: file, atomically: true, encoding: .utf8)
    let result = Build.run([file.path], options: BuildOptions())
    let errors = result.frontEnd.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "\(errors.map(\.message))", sourceLocation: sourceLocation)
    return try #require(result.config, sourceLocation: sourceLocation)
}

private func policy(routes: String, services: String = "  a: {endpoints: [10.0.0.1:80]}\n  b: {endpoints: [10.0.0.2:80]}\n") -> String {
    """
    version: 1
    services:
    \(services)listeners:
      l:
        address: 0.0.0.0:8080
        hosts:
          h:
            domains: ["*"]
            routes:
    \(routes.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n"))

    """
}

@Suite struct EmitTests {
    @Test func oneMethodIsExactSeveralAreARegexWithinTheLimit() throws {
        let c = try lowerPolicy(
            policy(
                routes: """
                    - {match: {prefix: /a, methods: [GET]}, to: a}
                    - {match: {prefix: /b, methods: [GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE, CONNECT]}, to: b}
                    """))
        let routes = c.listeners[0].connectionManager.routeConfiguration!.virtualHosts[0].routes
        #expect(routes[0].match.headers == [HeaderMatcher(name: ":method", .string(.exact("GET")))])
        guard case .string(let m) = routes[1].match.headers[0].specifier, case .safeRegex(let re) = m.pattern else {
            Issue.record("expected a regex method matcher")
            return
        }
        #expect(try RE2Pattern(re).programSize <= RE2Pattern.envoyMaxProgramSize)
        let r = routes[1].match
        #expect(RouteEngine.matches(r, EnvoyRequest(method: "PATCH", authority: "x", path: "/b")))
        #expect(!RouteEngine.matches(r, EnvoyRequest(method: "PATCHX", authority: "x", path: "/b")))
        #expect(!RouteEngine.matches(r, EnvoyRequest(method: "get", authority: "x", path: "/b")))
    }

    @Test func filtersOnlyWhenUsedAndRouterLast() throws {
        let plain = try lowerPolicy(policy(routes: "- {match: {prefix: /}, to: a}"))
        #expect(plain.listeners[0].connectionManager.httpFilters == [.router])
        let used = try lowerPolicy(
            policy(
                routes: """
                    - {match: {prefix: /f}, to: a, fault: {abort: {status: 503}}}
                    - {match: {prefix: /}, to: b, rate_limit: {requests: 5, per: 1m}}
                    """))
        #expect(used.listeners[0].connectionManager.httpFilters == [.localRateLimit, .fault, .router])
    }

    @Test func headerValuesAreLiteral() throws {
        let c = try lowerPolicy(policy(routes: "- {match: {prefix: /}, to: a, request_headers: {set: {x-rate: 100%}}}"))
        let r = c.listeners[0].connectionManager.routeConfiguration!.virtualHosts[0].routes[0]
        #expect(r.requestHeadersToAdd == [HeaderValueOption(key: "x-rate", value: "100%%", appendAction: .overwriteIfExistsOrAdd)])
    }

    @Test func fractionalPercentages() throws {
        let c = try lowerPolicy(policy(routes: "- {match: {prefix: /}, to: a, mirror: {to: b, percent: 0.5}}"))
        let r = c.listeners[0].connectionManager.routeConfiguration!.virtualHosts[0].routes[0]
        guard case .route(let a) = r.action else {
            Issue.record("expected a route action")
            return
        }
        #expect(a.requestMirrorPolicies[0].runtimeFraction?.defaultValue == FractionalPercent(numerator: 5000, denominator: .million))
    }

    @Test func sourcesLinkBackToThePolicy() throws {
        let c = try lowerPolicy(policy(routes: "- {match: {prefix: /}, to: a}"))
        let vh = c.listeners[0].connectionManager.routeConfiguration!.virtualHosts[0]
        #expect(vh.source?.start.line == 10)
        #expect(vh.routes[0].source?.start.line == 12)
        #expect(c.clusters[0].source?.start.line == 3)
    }

    @Test func tlsSNIDefaultsToTheHostName() throws {
        let c = try lowerPolicy(
            policy(routes: "- {match: {prefix: /}, to: a}", services: "  a: {endpoints: [a.internal:443], tls: true, protocol: grpc}\n"))
        #expect(c.clusters[0].tls == UpstreamTLSContext(sni: "a.internal", alpnProtocols: ["h2"]))
        #expect(c.clusters[0].type == .strictDNS)
        #expect(c.clusters[0].upstreamProtocol == .http2)
    }

    /// Issue 8.9: a fully qualified endpoint name is resolved as written (absolute, no search
    /// domains) but its SNI has no final dot; `HOST:*` and `[::1]:8080` are written as given.
    @Test func fullyQualifiedEndpointsAndPortDomains() throws {
        let yaml = policy(
            routes: "- {match: {prefix: /}, to: a}", services: "  a: {endpoints: [host.internal.:443], tls: true}\n"
        ).replacingOccurrences(of: "domains: [\"*\"]", with: "domains: [\"example.com:*\", \"[::1]:8080\"]")
        let c = try lowerPolicy(yaml)
        #expect(c.clusters[0].type == .strictDNS)
        #expect(c.clusters[0].tls?.sni == "host.internal")
        #expect(c.clusters[0].loadAssignment?.endpoints.map(\.address) == [SocketAddress(address: "host.internal.", portValue: 443)])
        #expect(c.listeners[0].connectionManager.routeConfiguration!.virtualHosts[0].domains == ["example.com:*", "[::1]:8080"])
    }

    @Test func queryPresence() throws {
        let c = try lowerPolicy(policy(routes: "- {match: {prefix: /, query: {debug: {present: true}, v: \"2\"}}, to: a}"))
        let m = c.listeners[0].connectionManager.routeConfiguration!.virtualHosts[0].routes[0].match
        #expect(
            m.queryParameters == [
                QueryParameterMatcher(name: "debug", presentMatch: true), QueryParameterMatcher(name: "v", stringMatch: .exact("2")),
            ])
    }
}

/// The goldens are exercised: their route tables are read back with the Envoy reader and
/// requests are routed through them.
@Suite struct GoldenRoutingTests {
    private func table(_ relative: String) throws -> RouteConfiguration? {
        let file = TestPaths.packageRoot.appendingPathComponent("golden/build/\(relative)")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let doc = try JSON.parse(String(decoding: data, as: UTF8.self))
        guard var resource = doc["resources"]?.arrayValue?.first?.objectValue else { return nil }
        resource["@type"] = nil
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(file.path, [UInt8](data))], into: sink)
        #expect(sink.all.isEmpty)
        let rc = try #require(read.config.routeConfigurations.first)
        // Reading back and writing again gives the same JSON.
        #expect(rc.json == .object(resource))
        return rc
    }

    @Test func edgeRoutes() throws {
        guard let rc = try table("edge-xds/rds/public.json") else {
            Issue.record("golden missing")
            return
        }
        let engine = RouteEngine(rc)
        func go(_ method: String, _ host: String, _ path: String, _ headers: [(String, String)] = [], random: UInt64 = 0) -> RouteSelection
        {
            engine.select(
                EnvoyRequest(
                    method: method, authority: host, path: path, headers: headers.map { HTTPHeader($0.0, $0.1) }, randomValue: random))
        }
        let canaryHeaders = [("x-canary", "true"), ("x-env", "prod-1"), ("x-debug", "1"), ("x-tenant", "other")]
        #expect(go("GET", "api.example.com", "/users/1?version=2", canaryHeaders, random: 5).cluster == "users")
        #expect(go("HEAD", "v1.api.example.com", "/users?version=2", canaryHeaders, random: 95).cluster == "users-canary")
        #expect(
            go(
                "GET", "api.example.com", "/users?version=2",
                [("x-canary", "true"), ("x-env", "prod-1"), ("x-debug", "1"), ("x-tenant", "acme")]
            ).cluster == nil)
        #expect(go("POST", "api.example.com", "/USERS/ME").cluster == "users")
        #expect(go("GET", "api.example.com", "/search/abc", [("x-trace", "a-1"), ("x-q", "xfoox"), ("x-r", "12")]).cluster == "search")
        #expect(go("GET", "api.example.com", "/accounts?debug=1").cluster == "accounts")
        #expect(go("GET", "api.example.com", "/accounts?debug").cluster == "accounts")
        #expect(go("GET", "api.example.com", "/accounts").cluster == nil)
        #expect(go("GET", "www.example.org", "/teapot").virtualHost.map { rc.virtualHosts[$0].name } == "www")
        let old = go("GET", "www.example.com", "/old/x")
        if let h = old.virtualHost, let r = old.route, case .redirect = old.outcome {
            #expect(rc.virtualHosts[h].routes[r].name == "old")
        } else {
            Issue.record("expected the redirect route")
        }
        #expect(go("GET", "elsewhere.com", "/").virtualHost == nil)
        #expect(go("GET", "elsewhere.com", "/").route == nil)
    }

    @Test func grpcRoutes() throws {
        guard let rc = try table("grpc-xds/rds/internal.json") else {
            Issue.record("golden missing")
            return
        }
        let grpc = EnvoyRequest(
            method: "POST", authority: "any", path: "/helloworld.Greeter/SayHello",
            headers: [HTTPHeader("content-type", "application/grpc")])
        let engine = RouteEngine(rc)
        #expect(engine.select(grpc).cluster == "greeter")
        let web = EnvoyRequest(
            method: "POST", authority: "any", path: "/helloworld.Greeter/SayHello",
            headers: [HTTPHeader("content-type", "application/grpc-web")])
        #expect(engine.select(web).cluster == "legacy")
    }
}

@Suite struct OutputTests {
    @Test func unifiedDiff() {
        let d = UnifiedDiff.render(old: "a\nb\nc\n", new: "a\nB\nc\n", oldName: "x", newName: "y")
        #expect(d == "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n")
        #expect(UnifiedDiff.render(old: "same\n", new: "same\n", oldName: "x", newName: "y") == "")
        let added = UnifiedDiff.render(old: "", new: "n\n", oldName: "/dev/null", newName: "y")
        #expect(added == "--- /dev/null\n+++ y\n@@ -0,0 +1 @@\n+n\n")
    }

    @Test func atomicWriteAndStaleFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try OutputDirectory.write([OutputFile(path: "a.json", contents: "1\n"), OutputFile(path: "rds/x.json", contents: "2\n")], to: dir)
        try OutputDirectory.write([OutputFile(path: "a.json", contents: "3\n"), OutputFile(path: "rds/y.json", contents: "4\n")], to: dir)
        let rds = try FileManager.default.contentsOfDirectory(atPath: dir + "/rds")
        #expect(rds == ["y.json"])
        #expect(
            OutputDirectory.check(
                [OutputFile(path: "a.json", contents: "3\n"), OutputFile(path: "rds/y.json", contents: "4\n")], against: dir) == "")
        #expect(OutputDirectory.check([OutputFile(path: "a.json", contents: "3\n")], against: dir).contains("+++ /dev/null"))
    }

    @Test func failedWriteChangesNothing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-out-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try OutputDirectory.write([OutputFile(path: "a.json", contents: "old\n")], to: dir)
        // A regular file where a directory must go makes the second file unwritable.
        #expect(FileManager.default.createFile(atPath: dir + "/rds", contents: Data()))
        #expect(throws: (any Error).self) {
            try OutputDirectory.write(
                [OutputFile(path: "a.json", contents: "new\n"), OutputFile(path: "rds/x.json", contents: "x\n")], to: dir)
        }
        #expect(FileManager.default.contents(atPath: dir + "/a.json") == Data("old\n".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a.json", "rds"])
    }

    @Test func yamlOutputReadsBackAsTheJSON() throws {
        let json = JSON.object([
            "@type": .string("t"), "a": .array([.object(["b": .string("1s"), "c": .bool(true)]), .string("yes")]),
            "empty": .object([:]), "list": .array([]), "s": .string("x: y"), "n": .int(3),
        ])
        let yaml = YAMLText.render(json)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-\(UUID().uuidString).yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        guard let back = try loadYAMLAsJSON(file) else {
            print("skipped: python3 with PyYAML is needed")
            return
        }
        #expect(back == json, "\(yaml)")
    }
}

@Suite struct EmitEnvoyRulesTests {
    @Test func grpcHealthCheckOnAGRPCService() throws {
        let c = try lowerPolicy(
            """
            version: 1
            services:
              g: {endpoints: [10.0.0.1:80], protocol: grpc, health_check: {grpc: {}}}
            listeners:
              l: {address: 0.0.0.0:80, hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: g}]}}}

            """)
        #expect(c.clusters[0].upstreamProtocol == .http2)
        #expect(c.clusters[0].healthChecks.first?.kind == .grpc(serviceName: nil))
    }

    /// An HTTP health check speaks the service's protocol: Envoy's checker defaults to
    /// HTTP/1.1, which an h2-only or gRPC server refuses.
    @Test(arguments: [("http2", "HTTP2"), ("grpc", "HTTP2"), ("http1", nil), (nil, nil)] as [(String?, String?)])
    func httpHealthCheckCodecFollowsTheProtocol(_ proto: String?, _ codec: String?) throws {
        let line = proto.map { ", protocol: \($0)" } ?? ""
        let c = try lowerPolicy(
            """
            version: 1
            services:
              s: {endpoints: [10.0.0.1:80]\(line), health_check: {http: /healthz}}
            listeners:
              l: {address: 0.0.0.0:80, hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: s}]}}}

            """)
        let check = try #require(c.clusters[0].json["health_checks"]?.arrayValue?.first?["http_health_check"]?.objectValue)
        #expect(check["path"]?.stringValue == "/healthz")
        #expect(check["codec_client_type"]?.stringValue == codec)
        // `path` comes first (proto field order).
        #expect(check.keys == (codec == nil ? ["path"] : ["path", "codec_client_type"]))
    }

    /// A gRPC health check on a service with `protocol` unset makes the cluster HTTP/2 (Envoy
    /// refuses gRPC health checks otherwise), with no diagnostic; ALPN offers h2 under TLS.
    @Test func grpcHealthCheckWithoutProtocolIsHTTP2() throws {
        let c = try lowerPolicy(
            """
            version: 1
            services:
              g: {endpoints: [10.0.0.1:80], tls: true, health_check: {grpc: {service: x.Health}}}
            listeners:
              l: {address: 0.0.0.0:80, hosts: {h: {domains: ["*"], routes: [{match: {prefix: /}, to: g}]}}}

            """)
        #expect(c.clusters[0].upstreamProtocol == .http2)
        #expect(c.clusters[0].json["typed_extension_protocol_options"] != nil)
        #expect(c.clusters[0].tls?.alpnProtocols == ["h2"])
        #expect(c.clusters[0].healthChecks.first?.kind == .grpc(serviceName: "x.Health"))
    }
}

/// `rate_limit` is one token bucket for the level it is written at: the listener's is the
/// rate limit filter's own configuration, a host's is the virtual host's
/// `typed_per_filter_config`, a route's the route's. Envoy uses the most specific one
/// (local_ratelimit.cc `decodeHeaders`), so an inheriting route carries no bucket.
@Suite struct RateLimitLevelTests {
    static let filter = "envoy.filters.http.local_ratelimit"

    /// Two hosts with two routes each; `listener`, `host` (on host `a`) and `route` (on the
    /// first route of host `a`) are inserted as written.
    static func policy(defaults: String = "", listener: String = "", host: String = "", route: String = "") -> String {
        """
        version: 1
        \(defaults.isEmpty ? "" : "defaults: {\(defaults)}")
        services:
          s: {endpoints: [10.0.0.1:80]}
        listeners:
          l:
            address: 0.0.0.0:80
            \(listener)
            hosts:
              a:
                domains: [a.example.com]
                \(host)
                routes:
                  - {match: {prefix: /one}, to: s\(route.isEmpty ? "" : ", \(route)")}
                  - {match: {prefix: /}, to: s}
              b:
                domains: ["*"]
                routes:
                  - {match: {prefix: /three}, to: s}
                  - {match: {prefix: /}, to: s}

        """
    }

    /// The HCM's `http_filters` entry of the rate limiter, as emitted.
    static func filterConfig(_ l: Listener) -> JSON? {
        let filters = l.json["filter_chains"]?.arrayValue?.first?["filters"]?.arrayValue?.first?["typed_config"]?["http_filters"]
        return filters?.arrayValue?.first { $0["name"]?.stringValue == filter }?["typed_config"]
    }

    /// The per-filter entries of every virtual host and route, as emitted, by host and route.
    static func perFilter(_ l: Listener) -> (hosts: [JSON?], routes: [[JSON?]]) {
        let rc = l.connectionManager.routeConfiguration!.json
        let hosts = rc["virtual_hosts"]?.arrayValue ?? []
        return (
            hosts.map { $0["typed_per_filter_config"]?[filter] },
            hosts.map { h in (h["routes"]?.arrayValue ?? []).map { $0["typed_per_filter_config"]?[filter] } }
        )
    }

    static func bucket(_ config: JSON?) -> (tokens: Int64?, interval: String?, enabled: Bool) {
        let tb = config?["token_bucket"]
        let always: JSON = .object(["default_value": .object(["numerator": .int(100)])])
        return (
            tb?["max_tokens"]?.intValue, tb?["fill_interval"]?.stringValue,
            config?["filter_enabled"] == always && config?["filter_enforced"] == always
        )
    }

    @Test func listenerLevelIsTheFilterLevelBucket() throws {
        let c = try lowerPolicy(Self.policy(listener: "rate_limit: {requests: 1000, per: 1s}"))
        let l = c.listeners[0]
        #expect(l.connectionManager.httpFilters == [.localRateLimit, .router])
        let b = Self.bucket(Self.filterConfig(l))
        #expect(b.tokens == 1000 && b.interval == "1s" && b.enabled)
        #expect(Self.filterConfig(l)?["token_bucket"]?["tokens_per_fill"]?.intValue == 1000)
        let p = Self.perFilter(l)
        #expect(p.hosts == [nil, nil])
        #expect(p.routes == [[nil, nil], [nil, nil]])
    }

    @Test func defaultsLevelIsEachListenersBucket() throws {
        let c = try lowerPolicy(Self.policy(defaults: "rate_limit: {requests: 50, per: 1m}"))
        let b = Self.bucket(Self.filterConfig(c.listeners[0]))
        #expect(b.tokens == 50 && b.interval == "60s" && b.enabled)
        #expect(Self.perFilter(c.listeners[0]).routes.joined().allSatisfy { $0 == nil })
    }

    @Test func hostLevelIsTheVirtualHostsBucket() throws {
        let c = try lowerPolicy(Self.policy(host: "rate_limit: {requests: 10, per: 100ms}"))
        let l = c.listeners[0]
        // The filter is there but inactive at filter level: no bucket, no `filter_enabled`
        // (Envoy's default is 0%).
        let f = try #require(Self.filterConfig(l))
        #expect(f["token_bucket"] == nil && f["filter_enabled"] == nil)
        let p = Self.perFilter(l)
        let b = Self.bucket(p.hosts[0])
        #expect(b.tokens == 10 && b.interval == "0.100s" && b.enabled)
        #expect(p.hosts[1] == nil)
        #expect(p.routes == [[nil, nil], [nil, nil]])
    }

    @Test func routeLevelIsTheRoutesBucket() throws {
        let c = try lowerPolicy(Self.policy(route: "rate_limit: {requests: 5, per: 2s}"))
        let l = c.listeners[0]
        #expect(Self.filterConfig(l)?["token_bucket"] == nil)
        let p = Self.perFilter(l)
        #expect(p.hosts == [nil, nil])
        let b = Self.bucket(p.routes[0][0])
        #expect(b.tokens == 5 && b.interval == "2s" && b.enabled)
        #expect(p.routes[0][1] == nil && p.routes[1] == [nil, nil])
    }

    /// A listener bucket with a host and a route overriding it: three buckets, each written
    /// once; the other routes share the listener's (host `b`) or the host's (host `a`).
    @Test func listenerBucketWithHostAndRouteOverrides() throws {
        let c = try lowerPolicy(
            Self.policy(
                listener: "rate_limit: {requests: 1000, per: 1s}", host: "rate_limit: {requests: 100, per: 1s}",
                route: "rate_limit: {requests: 1, per: 1s}"))
        let l = c.listeners[0]
        #expect(Self.bucket(Self.filterConfig(l)).tokens == 1000)
        let p = Self.perFilter(l)
        #expect(Self.bucket(p.hosts[0]).tokens == 100)
        #expect(p.hosts[1] == nil)
        #expect(Self.bucket(p.routes[0][0]).tokens == 1)
        #expect(p.routes[0][1] == nil && p.routes[1] == [nil, nil])
    }

    @Test func listenerBucketWithARouteOverride() throws {
        let c = try lowerPolicy(Self.policy(listener: "rate_limit: {requests: 1000, per: 1s}", route: "rate_limit: {requests: 7, per: 1s}"))
        let l = c.listeners[0]
        #expect(Self.bucket(Self.filterConfig(l)).tokens == 1000)
        let p = Self.perFilter(l)
        #expect(p.hosts == [nil, nil])
        #expect(Self.bucket(p.routes[0][0]).tokens == 7)
        #expect(p.routes[0][1] == nil && p.routes[1] == [nil, nil])
    }
}
