import Foundation
import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCRoutes

/// The bridge from Envoy route tables (ours or a user's) to the shadowing analysis.
@Suite struct RouteTableAnalysisTests {
    let fallback = SourceSpan.point("routes.json")

    func vhost(_ routes: [Route], domains: [String] = ["api.example.com"]) -> RouteConfiguration {
        RouteConfiguration(name: "rc", virtualHosts: [VirtualHost(name: "main", domains: domains, routes: routes)])
    }

    func route(_ name: String, _ match: RouteMatch, cluster: String = "c") -> Route {
        Route(name: name, match: match, action: .route(RouteAction(.cluster(cluster))))
    }

    func analyze(_ rc: RouteConfiguration) -> RouteTableFindings {
        var f = RouteTableFindings()
        RouteTableAnalysis.analyze(rc, fallback: fallback, into: &f)
        return f
    }

    @Test func shadowedByAMethodUnionWithAVerifiedExample() throws {
        let method = { (m: String) in HeaderMatcher(name: ":method", .string(.exact(m))) }
        let rc = vhost([
            route("get", RouteMatch(.prefix("/v1"), headers: [method("GET")])),
            route("post", RouteMatch(.prefix("/v1"), headers: [method("POST")])),
            route(
                "both",
                RouteMatch(.prefix("/v1/x"), headers: [HeaderMatcher(name: ":method", .string(StringMatcher(.safeRegex("GET|POST"))))])),
        ])
        let f = analyze(rc)
        let d = try #require(f.diagnostics.first)
        #expect(f.diagnostics.count == 1)
        #expect(d.rule == .routeShadowed)
        #expect(d.message == "route `both` can never be reached: earlier routes `get` and `post` together match every request it matches")
        let w = try #require(d.witness)
        #expect(w.host == "api.example.com")
        #expect(w.path.hasPrefix("/v1/x"))
        #expect(["GET", "POST"].contains(w.method))
        // The example really goes to an earlier route in Envoy's own evaluation.
        let req = HTTPRequest(method: w.method, authority: w.host, path: w.path)
        #expect(rc.virtualHosts[0].routes[2].match.matches(req))
        #expect(rc.virtualHosts[0].routes.firstIndex { $0.match.matches(req) }! < 2)
    }

    @Test func specificBeforeGeneralIsNotReported() {
        let f = analyze(vhost([route("exact", RouteMatch(.path("/a/b"))), route("prefix", RouteMatch(.prefix("/a")))]))
        #expect(f.diagnostics.isEmpty)
    }

    @Test func missingHeaderFailsEvenWhenInverted() {
        // `x-env != prod` does not match a request without x-env, so a later route that
        // requires no header is not covered: no shadow.
        let inverted = HeaderMatcher(name: "x-env", .string(.exact("prod")), invertMatch: true)
        let f = analyze(
            vhost([
                route("not-prod", RouteMatch(.prefix("/"), headers: [inverted])),
                route("prod", RouteMatch(.prefix("/"), headers: [HeaderMatcher(name: "x-env", .string(.exact("prod")))])),
                route("rest", RouteMatch(.prefix("/"))),
            ]))
        #expect(!f.diagnostics.contains { $0.rule == .routeShadowed })
    }

    @Test func runtimeFractionRoutesNeverCoverOthers() {
        var sampled = RouteMatch(.prefix("/"))
        sampled.runtimeFraction = RuntimeFractionalPercent(
            defaultValue: FractionalPercent(numerator: 50, denominator: .hundred), runtimeKey: "k")
        let f = analyze(vhost([route("sampled", sampled), route("all", RouteMatch(.prefix("/")))]))
        #expect(f.diagnostics.isEmpty)
    }

    @Test func exampleHostSelectsTheVirtualHost() {
        #expect(RouteTableAnalysis.exampleHost(["*.example.com", "x.org"]) == "x.org")
        #expect(RouteTableAnalysis.exampleHost(["*.example.com"]) == "a.example.com")
        #expect(RouteTableAnalysis.exampleHost(["shop.*"]) == "shop.com")
        #expect(RouteTableAnalysis.exampleHost(["*"]) == "example.com")
    }

    @Test func jsonOutputCarriesTheWitness() throws {
        let r = try runLint(["--format", "json", "fixtures/lint/shadowing.yaml"])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.utf8)) as? [String: Any])
        let diags = try #require(doc["diagnostics"] as? [[String: Any]])
        let shadow = try #require(diags.first { $0["rule"] as? String == "route-shadowed" })
        let w = try #require(shadow["witness"] as? [String: Any])
        #expect(w["host"] as? String == "api.example.com")
        #expect((w["path"] as? String)?.hasPrefix("/api/users") == true)
        #expect((w["curl"] as? String)?.hasPrefix("curl ") == true)
        #expect((shadow["related"] as? [[String: Any]])?.count == 1)
    }

    @Test func presentMatchFalseOnAQueryParameterMeansPresent() throws {
        // Issue 8.1: Envoy's QueryParameterMatcher treats `present_match: false` as "must be
        // present" (router/config_utility.cc), so these two routes match the same requests.
        let rc = vhost([
            route("debug-false", RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "debug", presentMatch: false)])),
            route("debug", RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "debug", presentMatch: true)])),
            route("rest", RouteMatch(.prefix("/"))),
        ])
        let f = analyze(rc)
        #expect(f.diagnostics.count == 1)
        let d = try #require(f.diagnostics.first)
        #expect(d.rule == .routeShadowed)
        #expect(d.message.hasPrefix("route `debug` can never be reached: earlier route `debug-false`"))
        let w = try #require(d.witness)
        #expect(w.path.contains("?debug"))
    }

    @Test func sameActionWithADifferentMatchIsNotARepeat() throws {
        // Issue 8.14: "repeats" only for identical matches.
        let covered = analyze(vhost([route("api", RouteMatch(.prefix("/api"))), route("sub", RouteMatch(.prefix("/api/x")))]))
        let d = try #require(covered.diagnostics.first)
        #expect(!d.message.contains("repeats"))
        #expect(
            d.message == "route `sub` can never be reached: earlier route `api` matches every request it matches and has the same action")
        #expect(d.help?.contains("same place") == true)
        let repeated = analyze(vhost([route("api", RouteMatch(.prefix("/api"))), route("again", RouteMatch(.prefix("/api")))]))
        #expect(
            repeated.diagnostics.first?.message
                == "route `again` can never be reached: it repeats route `api` with the same action, which takes every request first")
        #expect(repeated.diagnostics.first?.help == "delete the duplicate")
    }

    @Test func overlapIsReportedOnlyWhenItsExampleReachesTheEarlierRoute() throws {
        // Issue 8.5: #2 and #3 share only "/a", which #1 takes.
        let rc = vhost([
            route("a", RouteMatch(.prefix("/a"))), route("ab", RouteMatch(.safeRegex("/[ab]")), cluster: "d"),
            route("ac", RouteMatch(.safeRegex("/(a|c)")), cluster: "e"),
        ])
        let f = analyze(rc)
        #expect(!f.diagnostics.contains { $0.message.contains("overlaps earlier route `ab`") })
        let routes = rc.virtualHosts[0].routes
        for d in f.diagnostics where d.rule == .routeOverlap {
            let w = try #require(d.witness)
            let req = HTTPRequest(method: w.method, authority: w.host, path: w.path)
            let earlier = try #require(routes.firstIndex { $0.match.matches(req) })
            #expect(d.related.first?.message.contains(routes[earlier].name!) == true, "\(d.message): \(w.path)")
        }
    }

    @Test func aRouteThatMatchesNothingIsAnError() throws {
        // Issue 8.6, also for a host with a single route.
        let f = analyze(vhost([route("bad", RouteMatch(.safeRegex("a.*")))]))
        let d = try #require(f.diagnostics.first)
        #expect(d.rule == .routeUnmatchable)
        #expect(d.severity == .error)
        #expect(d.message == "route `bad` can never match a request")
        #expect(d.help?.contains("always starts with `/`") == true)
        // A query value cannot hold `&`.
        let q = analyze(
            vhost([route("amp", RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "a", stringMatch: .exact("x&y"))]))])
        )
        #expect(q.diagnostics.first?.rule == .routeUnmatchable)
        // Raw non-ASCII bytes reach the router only from non-conforming clients: not an error.
        let raw = analyze(vhost([route("e", RouteMatch(.prefix("/é")))]))
        #expect(raw.diagnostics.isEmpty)
    }

    func runLint(_ args: [String]) throws -> String {
        let root = TestPaths.packageRoot
        return try runProcess(root.appendingPathComponent(".build/debug/xdsc").path, ["lint"] + args, currentDirectory: root).stdout
    }
}
