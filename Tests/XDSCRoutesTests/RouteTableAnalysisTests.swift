import Foundation
import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCRoutes
import XDSCTestSupport

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

    /// Issue 8.9: `HOST:*` gets a port filled in (not `HOST:com`), bracketed IPv6 stays as
    /// written, and every example host selects its virtual host in Envoy's model.
    @Test(arguments: [
        (["example.com:*"], "example.com:8080"), (["[::1]:8080"], "[::1]:8080"), (["[::1]:*"], "[::1]:8080"),
        (["*:8080"], "a:8080"), (["*.example.com:8443"], "a.example.com:8443"), (["example.com."], "example.com."),
    ])
    func exampleHostForPortForms(_ domains: [String], _ expected: String) {
        let host = RouteTableAnalysis.exampleHost(domains)
        #expect(host == expected)
        let rc = RouteConfiguration(
            name: "rc", virtualHosts: [VirtualHost(name: "other", domains: ["other.test"]), VirtualHost(name: "main", domains: domains)])
        #expect(rc.virtualHost(for: HTTPRequest(authority: host, path: "/"))?.name == "main")
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

    func runLint(_ args: [String]) throws -> String {
        let root = TestPaths.packageRoot
        return try runProcess(root.appendingPathComponent(".build/debug/xdsc").path, ["lint"] + args, currentDirectory: root).stdout
    }
}
