import Testing
import XDSCJSON
import XDSCRequest
import XDSCTestSupport

@testable import XDSCDriver
@testable import XDSCEnvoy
@testable import XDSCRouteEngine
@testable import XDSCRoutes

/// One test per step of the engine, each against what Envoy's source does.
@Suite struct RouteEngineTests {
    /// Decodes a RouteConfiguration from JSON text.
    func table(_ text: String) throws -> RouteEngine {
        RouteEngine(try readRouteTable(text))
    }

    func get(_ host: String?, _ path: String, headers: [HTTPHeader] = [], random: UInt64 = 0, scheme: String = "http") -> EnvoyRequest {
        EnvoyRequest(scheme: scheme, authority: host, path: path, headers: headers, randomValue: random, tls: scheme == "https")
    }

    // MARK: virtual hosts

    @Test func virtualHostOrderExactSuffixPrefixDefault() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"star","domains":["*"],"routes":[]},{"name":"pre","domains":["a.*"],"routes":[]},"#
                + #"{"name":"short","domains":["*.com"],"routes":[]},{"name":"long","domains":["*.foo.com"],"routes":[]},"#
                + #"{"name":"exact","domains":["A.foo.com"],"routes":[]}]}"#)
        func pick(_ h: String) -> (String?, VirtualHostReason?) {
            let d = e.decide(get(h, "/"))
            return (d.virtualHost?.name, d.virtualHost?.reason)
        }
        #expect(pick("a.FOO.com").0 == "exact")
        #expect(pick("b.foo.com") == ("long", .suffixWildcard(domain: "*.foo.com")))
        #expect(pick("b.bar.com").0 == "short")
        // The port is part of the compared host: suffixes miss, the prefix wildcard takes it.
        #expect(pick("b.foo.com:8080").0 == "star")
        #expect(pick("a.foo.com:8080") == ("pre", .prefixWildcard(domain: "a.*")))
        // A wildcard covers at least one character.
        #expect(pick(".foo.com").0 == "short")
        #expect(pick("zzz").0 == "star")
    }

    @Test func ignorePortInHostMatchingAndOnlyDefault() throws {
        let e = try table(
            #"{"ignore_port_in_host_matching":true,"virtual_hosts":[{"name":"v","domains":["foo.com"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}"#
        )
        #expect(e.decide(get("foo.com:8443", "/")).cluster == "c")
        let only = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}"#)
        // With only `*`, Envoy does not even read the Host header.
        #expect(only.decide(get(nil, "/")).virtualHost?.reason == .onlyDefault)
        let d = e.decide(get("bar.com", "/"))
        #expect(d.outcome == .noRoute(.noVirtualHost(host: "bar.com")))
    }

    @Test func requireTLSRedirectsToHTTPSKeepingHostAndPath() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"require_tls":"EXTERNAL_ONLY","routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}"#
        )
        let d = e.decide(get("a.com:80", "/x?y"))
        guard case .tlsRedirect(let r) = d.outcome else {
            Issue.record("expected a TLS redirect, got \(d.outcome)")
            return
        }
        #expect(r.location == "https://a.com:80/x?y" && r.status == 301)
        var internalRequest = get("a.com", "/x")
        internalRequest.isInternal = true
        #expect(e.decide(internalRequest).cluster == "c")
    }

    // MARK: routes

    @Test func routesTriedInOrderWithTheFirstFailingCondition() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":["#
                + #"{"match":{"prefix":"/a","headers":[{"name":"x","string_match":{"exact":"1"}}],"grpc":{}},"route":{"cluster":"g"}},"#
                + #"{"match":{"prefix":"/a","headers":[{"name":"x","string_match":{"exact":"1"}}]},"route":{"cluster":"h"}},"#
                + #"{"match":{"path":"/A/b","case_sensitive":false,"query_parameters":[{"name":"q"}]},"route":{"cluster":"q"}},"#
                + #"{"match":{"safe_regex":{"regex":"/a.*"}},"route":{"cluster":"r"}}]}]}"#)
        let d = e.decide(get("h", "/a/b?z=1", headers: [HTTPHeader("X", "2")]))
        #expect(d.attempts.map(\.failure?.field) == ["match.grpc", "match.headers[0]", "match.query_parameters[0]", nil])
        #expect(d.cluster == "r")
        #expect(d.attempts[1].failure == .header(index: 0, name: "x", actual: "2"))
        // The traceless (indexed) path agrees.
        #expect(e.decide(get("h", "/a/b?z=1", headers: [HTTPHeader("X", "2")]), trace: false).routeIndex == 3)
        #expect(e.decide(get("h", "/a/b?q", headers: [HTTPHeader("X", "2")]), trace: false).cluster == "q")
    }

    @Test func runtimeFractionUsesTheRandomValueStrictly() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/","runtime_fraction":{"default_value":{"numerator":30},"runtime_key":"k"}},"route":{"cluster":"a"}},{"match":{"prefix":"/"},"route":{"cluster":"b"}}]}]}"#
        )
        #expect(e.decide(get("h", "/", random: 129)).cluster == "a")
        #expect(e.decide(get("h", "/", random: 130)).cluster == "b")
        // The route-check tool enables a fraction only for the test's runtime key.
        #expect(e.decide(get("h", "/", random: 0), semantics: .routerCheckTool(runtimeKey: nil)).cluster == "b")
        #expect(e.decide(get("h", "/", random: 0), semantics: .routerCheckTool(runtimeKey: "k")).cluster == "a")
    }

    // MARK: clusters

    @Test func clusterHeaderTakesTheWholeFirstValue() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster_header":"X-Cluster"}}]}]}"#)
        #expect(e.decide(get("h", "/", headers: [HTTPHeader("x-cluster", "a,b"), HTTPHeader("x-cluster", "c")])).cluster == "a,b")
        let missing = e.decide(get("h", "/"))
        #expect(missing.cluster == "")
        if case .forward(let f) = missing.outcome { #expect(f.clusterNotFoundStatus == 503) }
    }

    @Test func weightedArithmeticAndHeaderName() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"weighted_clusters":{"header_name":"x-pick","total_weight":1000,"clusters":[{"name":"a","weight":30},{"name":"b","weight":30},{"name":"c","weight":40}]}}}]}]}"#
        )
        #expect(e.decide(get("h", "/", random: 115)).cluster == "a")
        #expect(e.decide(get("h", "/", random: 445)).cluster == "b")
        #expect(e.decide(get("h", "/", random: 559)).cluster == "b")
        #expect(e.decide(get("h", "/", random: 560)).cluster == "c")
        #expect(e.decide(get("h", "/", random: 599)).cluster == "c")
        let d = e.decide(get("h", "/", headers: [HTTPHeader("x-pick", "61")], random: 0))
        guard case .forward(let f) = d.outcome, case .weighted(let w) = f.choice else {
            Issue.record("expected a weighted forward")
            return
        }
        // total_weight is ignored; the header's value replaces the random value.
        #expect(w.totalWeight == 100 && w.bucket == 61 && w.valueSource == .header && f.cluster == "c")
        #expect(w.entries.map(\.start) == [0, 30, 60])
        // Two values: the header is ignored.
        #expect(e.decide(get("h", "/", headers: [HTTPHeader("x-pick", "61"), HTTPHeader("x-pick", "1")], random: 0)).cluster == "a")
    }

    // MARK: rewrites

    @Test func prefixRewriteReplacesTheConfiguredLength() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":["#
                + #"{"match":{"path":"/api/LOC","case_sensitive":false},"route":{"cluster":"c","prefix_rewrite":"/r"}},"#
                + #"{"match":{"safe_regex":{"regex":"/re/.*"}},"route":{"cluster":"c","prefix_rewrite":"/whole"}},"#
                + #"{"match":{"prefix":"/rx"},"route":{"cluster":"c","regex_rewrite":{"pattern":{"regex":"^/rx/(\\w+)"},"substitution":"/\\1/x"}}},"#
                + #"{"match":{"prefix":"/p"},"route":{"cluster":"c","prefix_rewrite":"/"}}]}]}"#)
        func path(_ p: String) -> String? { e.decide(get("h", p)).requestHeaders.first(":path") }
        #expect(path("/api/loc?x=1") == "/r?x=1")
        #expect(path("/re/a/b?q") == "/whole?q")
        #expect(path("/rx/abc/d?q") == "/abc/x/d?q")
        #expect(path("/prefix/etc") == "/refix/etc")
        #expect(e.decide(get("h", "/p/x")).requestHeaders.first("x-envoy-original-path") == "/p/x")
    }

    @Test func hostRewritesAndTheOriginalHost() throws {
        let e = try table(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":["#
                + #"{"match":{"prefix":"/lit"},"route":{"cluster":"c","host_rewrite_literal":"new","append_x_forwarded_host":true}},"#
                + #"{"match":{"prefix":"/hdr"},"route":{"cluster":"c","host_rewrite_header":"x-host"}},"#
                + #"{"match":{"prefix":"/rx"},"route":{"cluster":"c","host_rewrite_path_regex":{"pattern":{"regex":"^/rx/([^/]+).*"},"substitution":"\\1.internal"}}}]}]}"#
        )
        let lit = e.decide(get("old", "/lit")).requestHeaders
        #expect(lit.first(":authority") == "new" && lit.first("x-envoy-original-host") == "old" && lit.first("x-forwarded-host") == "old")
        #expect(e.decide(get("old", "/hdr", headers: [HTTPHeader("x-host", "h2")])).requestHeaders.first(":authority") == "h2")
        #expect(e.decide(get("old", "/hdr")).requestHeaders.first(":authority") == "old")
        #expect(e.decide(get("old", "/rx/svc/more?q")).requestHeaders.first(":authority") == "svc.internal")
    }

    // MARK: redirects and direct responses

    @Test func redirectLocation() throws {
        func location(_ redirect: String, _ host: String, _ path: String, scheme: String = "http") throws -> String? {
            let e = try table(
                #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"redirect":"# + redirect + "}]}]}")
            if case .redirect(let r) = e.decide(get(host, path, scheme: scheme)).outcome { return r.location }
            return nil
        }
        #expect(try location(#"{"https_redirect":true}"#, "a.com:80", "/x") == "https://a.com/x")
        #expect(try location(#"{"https_redirect":true}"#, "a.com:8080", "/x") == "https://a.com:8080/x")
        #expect(try location(#"{"scheme_redirect":"http"}"#, "a.com:443", "/x", scheme: "https") == "http://a.com/x")
        #expect(try location(#"{"port_redirect":8443}"#, "a.com:80", "/x") == "http://a.com:8443/x")
        #expect(try location(#"{"host_redirect":"b.com:9"}"#, "a.com", "/x?q") == "http://b.com:9/x?q")
        #expect(try location(#"{"path_redirect":"new"}"#, "a.com", "/x?q") == "http://a.com/new?q")
        #expect(try location(#"{"path_redirect":"/n?k=v","strip_query":true}"#, "a.com", "/x?q") == "http://a.com/n?k=v")
        #expect(try location(#"{"strip_query":true}"#, "a.com", "/x?q") == "http://a.com/x")
        #expect(try location(#"{"prefix_rewrite":"/b"}"#, "a.com", "/abc") == "http://a.com/babc")
        #expect(
            try location(#"{"regex_rewrite":{"pattern":{"regex":"c$"},"substitution":"d"}}"#, "a.com", "/abc?q") == "http://a.com/abd?q")
    }

    @Test func directResponseHeadersEnvoyAndTool() throws {
        let e = try table(
            #"{"response_headers_to_add":[{"header":{"key":"x-cfg","value":"c"}}],"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"direct_response":{"status":302,"body":{"inline_bytes":"eyJhIjoxfQ=="}},"response_headers_to_add":[{"header":{"key":"content-type","value":"application/json"}}]}]}]}"#
        )
        let envoy = e.decide(get("h", "/p"))
        guard case .directResponse(let dr) = envoy.outcome else {
            Issue.record("expected a direct response")
            return
        }
        // inline_bytes is base64 in proto JSON.
        #expect(dr.body == #"{"a":1}"# && dr.status == 302)
        #expect(envoy.responseHeaders.get("content-type") == "application/json")
        #expect(envoy.responseHeaders.get("location") == "http://h/p")
        #expect(envoy.responseHeaders.get("content-length") == "7")
        let tool = e.decide(get("h", "/p"), semantics: .routerCheckTool(runtimeKey: nil))
        #expect(tool.responseHeaders.get("content-type") == "text/plain,application/json")
        #expect(tool.responseHeaders.get("location") == nil)
        #expect(tool.responseHeaders.get("x-cfg") == "c")
    }

    // MARK: header mutations

    @Test func mutationLevelsAndAppendActions() throws {
        let base =
            #""request_headers_to_add":[{"header":{"key":"x-l","value":"cfg"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"}],"virtual_hosts":[{"name":"v","domains":["*"],"request_headers_to_add":[{"header":{"key":"x-l","value":"vh"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"}],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"},"request_headers_to_remove":["x-gone"],"request_headers_to_add":[{"header":{"key":"x-l","value":"rt"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"},{"header":{"key":"x-a","value":"1"}},{"header":{"key":"x-absent","value":"n"},"append_action":"ADD_IF_ABSENT"},{"header":{"key":"x-only","value":"o"},"append_action":"OVERWRITE_IF_EXISTS"},{"header":{"key":"x-ip","value":"%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %%"}}]}]}]"#
        let least = try table("{" + base + "}")
        let h = least.decide(get("h", "/", headers: [HTTPHeader("x-a", "0"), HTTPHeader("x-absent", "y"), HTTPHeader("x-gone", "g")]))
            .requestHeaders
        // Route, then vhost, then route configuration: the least specific overwrite wins.
        #expect(h.get("x-l") == "cfg")
        #expect(h.get("x-a") == "0,1")
        #expect(h.get("x-absent") == "y")
        #expect(h.get("x-only") == nil)
        #expect(h.get("x-gone") == nil)
        #expect(h.get("x-ip") == "127.0.0.1 %")
        let most = try table(#"{"most_specific_header_mutations_wins":true,"# + base + "}")
        #expect(most.decide(get("h", "/")).requestHeaders.get("x-l") == "rt")
    }

    @Test func routeCheckToolRandomValueCast() throws {
        // `static_cast<int>`: 2^32 + 5 wraps to 5.
        #expect(RouteTestRunner.toolRandom(.int(4_294_967_301)) == 5)
        #expect(RouteTestRunner.toolRandom(.int(2_147_483_648)) == UInt64(bitPattern: -2_147_483_648))
    }

    @Test func shadowingReplayUsesTheEngine() throws {
        // The analysis's witness for a shadowed route reaches the earlier route through the engine.
        let config = try readRouteTable(
            (#"{"virtual_hosts":[{"name":"v","domains":["*"],"require_tls":"ALL","routes":[{"match":{"prefix":"/a"},"route":{"cluster":"x"}},{"match":{"prefix":"/a/b"},"route":{"cluster":"y"}}]}]}"#)
        )
        var findings = RouteTableFindings()
        RouteTableAnalysis.analyze(config, fallback: .point("t.json"), into: &findings)
        // require_tls does not hide the finding: matching is judged on the routes alone.
        #expect(findings.diagnostics.map(\.rule) == [.routeShadowed])
    }
}

@Suite struct RouteIndexTests {
    @Test func literalPrefixOfRegexes() {
        #expect(RouteIndex.literalPrefix("/api/v1/[0-9]+") == "/api/v1/")
        #expect(RouteIndex.literalPrefix("^/ab?c") == "/a")
        #expect(RouteIndex.literalPrefix("/a|/b") == "")
        #expect(RouteIndex.literalPrefix("(?i)/a") == "")
        #expect(RouteIndex.literalPrefix("/x+") == "/")
    }
}
