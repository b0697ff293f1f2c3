import Testing
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

@testable import XDSCEnvoy

// Route conditions and virtual-host selection through the route engine's own matcher
// (`RouteEngine.matches`, `VirtualHostSelector`, `RouteEngine.select`), plus the Envoy
// model's header, string and query matchers the engine calls.

private func matches(_ m: RouteMatch, _ r: EnvoyRequest, runtime: RuntimeValues = .defaults) -> Bool {
    RouteEngine.matches(m, r, runtime: runtime)
}

private func request(_ path: String, host: String = "example.com", method: String = "GET", headers: [(String, String)] = []) -> EnvoyRequest
{
    EnvoyRequest(method: method, authority: host, path: path, headers: headers.map { HTTPHeader($0.0, $0.1) })
}

@Suite struct PathMatchingTests {
    @Test func prefixIgnoresQueryAndFragment() {
        let m = RouteMatch(.prefix("/api"))
        #expect(matches(m, request("/api/users?x=1")))
        #expect(matches(m, request("/apiary")))
        #expect(!matches(m, request("/ap?i")))
        #expect(!matches(m, request("/x#/api")))
    }

    @Test func emptyPrefixMatchesEverything() {
        #expect(matches(RouteMatch(.prefix("")), request("*")))
        #expect(!matches(RouteMatch(.prefix("/")), request("*")))
    }

    @Test func exactPathDropsQuery() {
        let m = RouteMatch(.path("/api/locations"))
        #expect(matches(m, request("/api/locations?works=true")))
        #expect(!matches(m, request("/api/locations/")))
    }

    @Test func caseInsensitivePrefixAndPath() {
        #expect(matches(RouteMatch(.prefix("/API"), caseSensitive: false), request("/api/x")))
        #expect(!matches(RouteMatch(.prefix("/API")), request("/api/x")))
        #expect(matches(RouteMatch(.path("/FOOD"), caseSensitive: false), request("/food")))
        #expect(!matches(RouteMatch(.path("/ApplEs"), caseSensitive: true), request("/apples")))
    }

    @Test func regexIsFullMatchAndIgnoresCaseSensitive() {
        let m = RouteMatch(.safeRegex("/users/[0-9]+"), caseSensitive: false)
        #expect(matches(m, request("/users/42?q")))
        #expect(!matches(m, request("/users/42/x")))
        #expect(!matches(m, request("/USERS/42")))
        #expect(matches(RouteMatch(.safeRegex("(?i)/users/[0-9]+")), request("/USERS/42")))
    }

    @Test func pathSeparatedPrefix() {
        let m = RouteMatch(.pathSeparatedPrefix("/api/dev"))
        #expect(matches(m, request("/api/dev")))
        #expect(matches(m, request("/api/dev/x")))
        #expect(matches(m, request("/api/dev?x")))
        #expect(!matches(m, request("/api/developer")))
    }
}

@Suite struct HeaderMatchingTests {
    @Test func methodIsAPseudoHeader() {
        let m = RouteMatch(.prefix("/"), headers: [HeaderMatcher(name: ":method", .string(.exact("POST")))])
        #expect(matches(m, request("/", method: "POST")))
        #expect(!matches(m, request("/", method: "GET")))
    }

    @Test func repeatedHeadersAreJoinedWithComma() {
        let h = HeaderMatcher(name: "x-a", .string(.exact("1,2")))
        let m = RouteMatch(.prefix("/"), headers: [h])
        #expect(matches(m, request("/", headers: [("x-a", "1"), ("X-A", "2")])))
        #expect(!matches(m, request("/", headers: [("x-a", "1")])))
    }

    @Test func missingHeaderIsFalseEvenInverted() {
        let h = HeaderMatcher(name: "x-tenant", .string(.exact("acme")), invertMatch: true)
        #expect(!h.matches(headerValue: nil))
        #expect(h.matches(headerValue: "other"))
        #expect(!h.matches(headerValue: "acme"))
        let empty = HeaderMatcher(name: "x-tenant", .string(.exact("acme")), invertMatch: true, treatMissingHeaderAsEmpty: true)
        #expect(empty.matches(headerValue: nil))
    }

    @Test(arguments: [
        // (present, invert, header present, expected)
        (true, false, true, true), (true, false, false, false),
        (false, false, true, false), (false, false, false, true),
        (true, true, true, false), (true, true, false, true),
        (false, true, true, true), (false, true, false, false),
    ])
    func presentMatchTruthTable(present: Bool, invert: Bool, headerPresent: Bool, expected: Bool) {
        let h = HeaderMatcher(name: "x-debug", .present(present), invertMatch: invert)
        #expect(h.matches(headerValue: headerPresent ? "1" : nil) == expected)
    }

    @Test func noSpecifierMeansPresent() {
        let h = HeaderMatcher(name: "x", nil)
        #expect(h.matches(headerValue: ""))
        #expect(!h.matches(headerValue: nil))
    }

    @Test func stringMatcherKinds() {
        #expect(StringMatcher(.prefix("prod-")).matches("prod-eu"))
        #expect(StringMatcher(.suffix(".com")).matches("a.com"))
        #expect(StringMatcher(.contains("mid")).matches("amidst"))
        #expect(!StringMatcher(.contains("MID")).matches("amidst"))
        #expect(StringMatcher(.contains("MID"), ignoreCase: true).matches("amidst"))
        #expect(StringMatcher(.safeRegex("^user=test-\\d+$")).matches("user=test-1223"))
        #expect(!StringMatcher(.safeRegex("test")).matches("a test"))
        #expect(StringMatcher(.exact("^customer=test-\\d+$")).matches("^customer=test-\\d+$"))
    }

    @Test func rangeMatch() {
        let h = HeaderMatcher(name: "x", .range(start: 10, end: 20))
        #expect(h.matches(headerValue: "10"))
        #expect(!h.matches(headerValue: "20"))
        #expect(!h.matches(headerValue: "1x"))
    }

    @Test func deprecatedEmptyExactMatchesAnyValue() {
        #expect(HeaderMatcher(name: "x", .deprecatedExact("")).matches(headerValue: "anything"))
    }

    @Test func authorityAndHost() {
        let r = request("/", host: "Api.Example.com")
        // `host` reads `:authority` (header_map_impl.cc's static lookup table), in a
        // header matcher as in the map.
        #expect(r.headerMap.get(":authority") == "Api.Example.com")
        #expect(r.headerMap.get("host") == "Api.Example.com")
        #expect(r.headerMap.get("HOST") == "Api.Example.com")
        #expect(r.headerMap.get(":path") == "/")
        #expect(matches(RouteMatch(.prefix("/"), headers: [HeaderMatcher(name: "host", .string(.exact("Api.Example.com")))]), r))
        #expect(!matches(RouteMatch(.prefix("/"), headers: [HeaderMatcher(name: "host", .present(false))]), r))
    }
}

@Suite struct QueryMatchingTests {
    @Test func firstValueWithoutDecoding() {
        let r = request("/s?version=2&version=3&q=a%20b&flag")
        #expect(r.queryParameter("version") == "2")
        #expect(r.queryParameter("q") == "a%20b")
        #expect(r.queryParameter("flag") == "")
        #expect(r.queryParameter("none") == nil)
        let m = RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "version", stringMatch: .exact("3"))])
        #expect(!matches(m, r))
    }

    @Test func presence() {
        // Envoy 1.34+ (config_utility.cc, runtime guard on by default): `present_match: false`
        // means "absent"; older Envoys (the guard off) treat any present_match as "present".
        let falsePresent = QueryParameterMatcher(name: "debug", presentMatch: false)
        #expect(falsePresent.matches(firstValue: nil))
        #expect(!falsePresent.matches(firstValue: "1"))
        #expect(!falsePresent.matches(firstValue: nil, newPresentMatchBehavior: false))
        #expect(falsePresent.matches(firstValue: "1", newPresentMatchBehavior: false))
        #expect(QueryParameterMatcher(name: "debug").matches(firstValue: ""))
        #expect(!QueryParameterMatcher(name: "debug", stringMatch: .exact("1")).matches(firstValue: nil))
    }
}

@Suite struct GRPCMatchingTests {
    @Test(arguments: [
        ("application/grpc", true), ("application/grpc+proto", true), ("application/grpc-web", false),
        ("application/json", false),
    ])
    func contentType(value: String, expected: Bool) {
        let m = RouteMatch(.prefix("/"), grpc: true)
        #expect(matches(m, request("/", headers: [("content-type", value)])) == expected)
    }

    /// `Grpc::Common::hasGrpcContentType` (source/common/grpc/common.cc) compares bytes.
    @Test(arguments: [
        ("application/grpc", true), ("application/grpc+proto", true), ("application/grpc+\u{301}", true),
        ("application/grpc-web", false), ("Application/grpc", false), ("application/grpcx", false),
    ])
    func grpcContentTypeBytes(_ value: String, _ expected: Bool) {
        let r = EnvoyRequest(authority: "h", path: "/", headers: [HTTPHeader("content-type", value)])
        #expect(matches(RouteMatch(.prefix("/"), grpc: true), r) == expected)
    }

    @Test func missingContentType() {
        #expect(!matches(RouteMatch(.prefix("/"), grpc: true), request("/")))
    }
}

@Suite struct VirtualHostSelectionTests {
    let config = RouteConfiguration(
        name: "t",
        virtualHosts: [
            VirtualHost(name: "default", domains: ["*"]),
            VirtualHost(name: "exact", domains: ["api.foo.com", "Mixed.Example.com"]),
            VirtualHost(name: "short-suffix", domains: ["*.foo.com"]),
            VirtualHost(name: "long-suffix", domains: ["*.bar.foo.com"]),
            VirtualHost(name: "dash-suffix", domains: ["*-bar.baz.com"]),
            VirtualHost(name: "prefix", domains: ["api.*"]),
            VirtualHost(name: "long-prefix", domains: ["api.foo.*"]),
            VirtualHost(name: "port", domains: ["ported.com:8080"]),
        ])

    private func pick(_ host: String?) -> String? {
        Self.pick(config, host)
    }

    static func pick(_ config: RouteConfiguration, _ host: String?) -> String? {
        guard let i = try? VirtualHostSelector(config).select(EnvoyRequest(authority: host, path: "/").headerMap).get().index else {
            return nil
        }
        return config.virtualHosts[i].name
    }

    @Test func order() {
        #expect(pick("api.foo.com") == "exact")
        #expect(pick("API.FOO.COM") == "exact")
        #expect(pick("mixed.example.com") == "exact")
        #expect(pick("x.bar.foo.com") == "long-suffix")
        #expect(pick("x.foo.com") == "short-suffix")
        // Suffix wildcards are tried before any prefix wildcard.
        #expect(pick("api.x.foo.com") == "short-suffix")
        #expect(pick("api.foo.org") == "long-prefix")
        #expect(pick("api.org") == "prefix")
        #expect(pick("other.org") == "default")
    }

    @Test func wildcardCoversAtLeastOneCharacter() {
        #expect(pick(".foo.com") == "default")
        #expect(pick("-bar.baz.com") == "default")
        #expect(pick("q-bar.baz.com") == "dash-suffix")
    }

    @Test func portIsPartOfTheHost() {
        #expect(pick("a.foo.com:8080") == "default")
        #expect(pick("api.foo.com:8080") == "long-prefix")
        #expect(pick("ported.com:8080") == "port")
        #expect(pick("ported.com") == "default")
    }

    /// `HOST:*` is Envoy's prefix wildcard `HOST:`: any port, but not the bare host.
    @Test func anyPortAndIPv6Domains() {
        let c = RouteConfiguration(
            name: "p",
            virtualHosts: [
                VirtualHost(name: "any-port", domains: ["example.com:*"]), VirtualHost(name: "v6", domains: ["[::1]:8080"]),
                VirtualHost(name: "default", domains: ["*"]),
            ])
        let pick = { (h: String) in Self.pick(c, h) }
        #expect(pick("example.com:8080") == "any-port")
        #expect(pick("EXAMPLE.com:1") == "any-port")
        #expect(pick("example.com") == "default")
        #expect(pick("example.com:") == "default")
        #expect(pick("[::1]:8080") == "v6")
        #expect(pick("[::1]") == "default")
    }

    @Test func missingHost() {
        #expect(pick(nil) == nil)
        let onlyDefault = RouteConfiguration(name: "d", virtualHosts: [VirtualHost(name: "any", domains: ["*"])])
        #expect(Self.pick(onlyDefault, nil) == "any")
    }
}

@Suite struct RoutingTests {
    @Test func firstMatchWinsAndWeightedPick() {
        let w = WeightedClusters([.init(name: "a", weight: 30), .init(name: "b", weight: 30), .init(name: "c", weight: 40)])
        let vh = VirtualHost(
            name: "v", domains: ["*"],
            routes: [
                Route(match: RouteMatch(.prefix("/a")), action: .route(RouteAction(.cluster("first")))),
                Route(match: RouteMatch(.prefix("/")), action: .route(RouteAction(.weightedClusters(w)))),
            ])
        let engine = RouteEngine(RouteConfiguration(name: "t", virtualHosts: [vh]))
        #expect(engine.select(EnvoyRequest(authority: "x", path: "/abc")).cluster == "first")
        #expect(engine.select(EnvoyRequest(authority: "x", path: "/b", randomValue: 70)).cluster == "c")
        // `value % total` over the cumulative half-open intervals, in order.
        let picks: [(UInt64, String, Int)] = [(115, "a", 0), (445, "b", 1), (560, "c", 2), (29, "a", 0), (30, "b", 1), (59, "b", 1)]
        for (random, cluster, entry) in picks {
            let s = engine.select(EnvoyRequest(authority: "x", path: "/b", randomValue: random))
            #expect(s.outcome == .forward(cluster: cluster, entry: entry), "random \(random)")
        }
        #expect(
            engine.select(EnvoyRequest(authority: "x", path: "b"))
                == RouteSelection(virtualHost: 0, route: nil, outcome: .noRoute(.noRouteMatched)))
    }

    @Test func requireTLS() {
        let vh = VirtualHost(
            name: "v", domains: ["*"],
            routes: [
                Route(match: RouteMatch(.prefix("/")), action: .route(RouteAction(.cluster("c"))))
            ], requireTLS: .externalOnly)
        let engine = RouteEngine(RouteConfiguration(name: "t", virtualHosts: [vh]))
        #expect(engine.select(EnvoyRequest(authority: "x", path: "/")).outcome == .tlsRedirect)
        #expect(engine.select(EnvoyRequest(authority: "x", path: "/", headers: [HTTPHeader("x-envoy-internal", "true")])).cluster == "c")
        #expect(engine.select(EnvoyRequest(authority: "x", path: "/", isInternal: true)).cluster == "c")
        #expect(engine.select(EnvoyRequest(scheme: "https", authority: "x", path: "/")).cluster == "c")
    }

    @Test func runtimeFraction() {
        let m = RouteMatch(.prefix("/"), runtimeFraction: RuntimeFractionalPercent(defaultValue: .percent(30), runtimeKey: "k"))
        let r = { (random: UInt64) in EnvoyRequest(authority: "x", path: "/", randomValue: random) }
        #expect(matches(m, r(29)))
        #expect(!matches(m, r(30)))
        #expect(!matches(m, r(29), runtime: .routerCheckTool(enabledKey: nil)))
        #expect(matches(m, r(129), runtime: .routerCheckTool(enabledKey: "k")))
    }
}
