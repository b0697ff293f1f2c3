import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine
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

    /// A memo shared by hosts and tables that repeat the same regexes (and an unsupported
    /// one) changes no finding: each host, analysed with the shared memo, reports what it
    /// reports on its own.
    @Test func aSharedMemoChangesNoFinding() {
        func host(_ name: String) -> VirtualHost {
            VirtualHost(
                name: name, domains: ["\(name).example.com"],
                routes: [
                    route("wide", RouteMatch(.safeRegex("/re/[0-9]+"))),
                    route("narrow", RouteMatch(.safeRegex("/re/1[0-9]*"))),
                    route("look", RouteMatch(.safeRegex("/x(?=y)"))),
                    route("tail", RouteMatch(.safeRegex("/re/[0-9]+/.*")), cluster: "d"),
                    route("none", RouteMatch(.safeRegex("re/[0-9]+"))),
                ])
        }
        let tables = (0..<3).map { t in RouteConfiguration(name: "rc\(t)", virtualHosts: (0..<3).map { host("h\(t)-\($0)") }) }
        let memo = ShadowMemo()
        var shared = RouteTableFindings()
        for t in tables { RouteTableAnalysis.analyze(t, fallback: fallback, memo: memo, into: &shared) }
        var alone = RouteTableFindings()
        for t in tables {
            for vh in t.virtualHosts {
                RouteTableAnalysis.analyze(RouteConfiguration(name: t.name, virtualHosts: [vh]), fallback: fallback, into: &alone)
            }
        }
        #expect(shared.diagnostics.count == 9 * 2)
        #expect(shared.diagnostics.map(\.message) == alone.diagnostics.map(\.message))
        #expect(shared.diagnostics.map { $0.witness?.pathText } == alone.diagnostics.map { $0.witness?.pathText })
        #expect(shared.undecided == alone.undecided && shared.undecided > 0)
        #expect(shared.undecidedDetails == alone.undecidedDetails)
        #expect(shared.comparedPairs == alone.comparedPairs)
    }

    /// The hosts of several tables analysed on several threads (issue 13) report what the
    /// tables analysed one after the other, in one thread, report: the same findings in the
    /// same order, and the same counts.
    @Test func threadsChangeNoFindingNorItsOrder() {
        func host(_ name: String, _ n: Int) -> VirtualHost {
            var routes: [Route] = []
            for r in 0..<n {
                routes.append(route("p\(r)", RouteMatch(.prefix("/api/\(r % 5)"))))
                routes.append(route("e\(r)", RouteMatch(.path("/api/\(r % 5)/x")), cluster: "d"))
                routes.append(route("r\(r)", RouteMatch(.safeRegex("/re/\(r % 3)/[0-9]+"))))
                routes.append(route("l\(r)", RouteMatch(.safeRegex("/x(?=\(r))"))))
            }
            return VirtualHost(name: name, domains: ["\(name).example.com"], routes: routes)
        }
        let tables = (0..<3).map { t in
            (config: RouteConfiguration(name: "rc\(t)", virtualHosts: (0..<5).map { host("h\(t)-\($0)", 3 + $0) }), fallback: fallback)
        }
        var sequential = RouteTableFindings()
        for t in tables { RouteTableAnalysis.analyze(t.config, fallback: t.fallback, into: &sequential) }
        for workers in [1, 2, 4] {
            var parallel = RouteTableFindings()
            RouteTableAnalysis.analyze(tables: tables, workers: workers, into: &parallel)
            #expect(parallel.diagnostics.count > 20)
            #expect(parallel.diagnostics.map(\.message) == sequential.diagnostics.map(\.message))
            #expect(parallel.diagnostics.map(\.span) == sequential.diagnostics.map(\.span))
            #expect(parallel.diagnostics.map { $0.witness?.pathText } == sequential.diagnostics.map { $0.witness?.pathText })
            #expect(parallel.undecided == sequential.undecided && parallel.undecided > 0)
            #expect(parallel.undecidedDetails == sequential.undecidedDetails)
            #expect(parallel.comparedPairs == sequential.comparedPairs)
            #expect(parallel.routes == sequential.routes)
        }
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
        #expect(w.authority == "api.example.com")
        #expect(w.pathText.hasPrefix("/v1/x"))
        #expect(["GET", "POST"].contains(w.method))
        // The example really goes to an earlier route in Envoy's own evaluation.
        let req = w
        #expect(rc.virtualHosts[0].routes[2].match.matchedBy(req))
        #expect(rc.virtualHosts[0].routes.firstIndex { $0.match.matchedBy(req) }! < 2)
    }

    /// Fuzz harness `shadowing` (`regression-authority-example-host`): the example of a
    /// route with an `:authority` matcher showed the value as an extra `-H ':authority: …'`
    /// beside another host, a request Envoy does not route there.
    @Test func anAuthorityMatcherIsTheExamplesHost() throws {
        let authority = HeaderMatcher(name: ":authority", .string(.exact("b.test")))
        let rc = vhost(
            [route("all", RouteMatch(.prefix("/"))), route("b", RouteMatch(.prefix("/b"), headers: [authority]))], domains: ["*"])
        let w = try #require(analyze(rc).diagnostics.first?.witness)
        #expect(w.authority == "b.test")
        #expect(w.headers.isEmpty)
    }

    @Test("an example whose :authority another virtual host takes is not reported")
    func anAuthorityTakenByAnotherVirtualHostIsUndecided() {
        let authority = HeaderMatcher(name: ":authority", .string(.exact("b.test")))
        let rc = RouteConfiguration(
            name: "rc",
            virtualHosts: [
                VirtualHost(name: "b", domains: ["b.test"], routes: [route("other", RouteMatch(.prefix("/")))]),
                VirtualHost(
                    name: "any", domains: ["*"],
                    routes: [route("all", RouteMatch(.prefix("/"))), route("b", RouteMatch(.prefix("/b"), headers: [authority]))]),
            ])
        let f = analyze(rc)
        #expect(f.diagnostics.isEmpty)
        #expect(f.undecided >= 1)
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
        #expect(virtualHost(rc, EnvoyRequest(authority: host, path: "/"))?.name == "main")
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

    @Test func presentMatchFalseOnAQueryParameterMeansAbsent() throws {
        // Envoy 1.34+ (router/config_utility.cc, runtime guard
        // `enable_new_query_param_present_match_behavior`, on by default) evaluates
        // `present_match: false` as "the parameter is absent": the two routes together take
        // every request, so the catch-all after them is shadowed by their union.
        let rc = vhost([
            route("no-debug", RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "debug", presentMatch: false)])),
            route("debug", RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "debug", presentMatch: true)])),
            route("rest", RouteMatch(.prefix("/"))),
        ])
        let f = analyze(rc)
        #expect(f.diagnostics.map(\.rule) == [.routeShadowed])
        let d = try #require(f.diagnostics.first)
        #expect(d.message.hasPrefix("route `rest` can never be reached"))
        // `debug` is not shadowed by `no-debug`: they take disjoint requests.
        #expect(!f.diagnostics.contains { $0.message.hasPrefix("route `debug`") })
    }

    @Test func presentMatchFalseInAUsersEnvoyJSON() throws {
        // The same for a route table xdsc did not write, read from Envoy JSON.
        let text = #"""
            {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [
              {"name": "no-debug", "match": {"prefix": "/", "query_parameters": [{"name": "debug", "present_match": false}]},
               "route": {"cluster": "a"}},
              {"name": "debug", "match": {"prefix": "/", "query_parameters": [{"name": "debug", "present_match": true}]},
               "route": {"cluster": "b"}},
              {"name": "rest", "match": {"prefix": "/"}, "route": {"cluster": "a"}}]}]}
            """#
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([("routes.json", Array(text.utf8))], into: sink)
        #expect(sink.all.isEmpty)
        let rc = try #require(read.config.routeConfigurations.first)
        let f = analyze(rc)
        #expect(f.diagnostics.map(\.rule) == [.routeShadowed])
        #expect(f.diagnostics.first?.message.hasPrefix("route `rest` can never be reached") == true)
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
            let req = w
            let earlier = try #require(routes.firstIndex { $0.match.matchedBy(req) })
            #expect(d.related.first?.message.contains(routes[earlier].name!) == true, "\(d.message): \(w.path)")
        }
    }

    @Test func presentMatchWithTreatMissingAsEmptyHoldsForAMissingHeader() throws {
        // A missing header is the present value "": `present_match: true` matches every
        // request, `present_match: false` none (HeaderUtility::matchHeaders).
        let always = HeaderMatcher(name: "x-a", .present(true), treatMissingHeaderAsEmpty: true)
        let rc = vhost([
            route("always", RouteMatch(.prefix("/"), headers: [always])), route("rest", RouteMatch(.prefix("/")), cluster: "d"),
        ])
        #expect(RouteEngine.matches(rc.virtualHosts[0].routes[0].match, EnvoyRequest(authority: "api.example.com", path: "/")))
        let f = analyze(rc)
        let d = try #require(f.diagnostics.first)
        #expect(f.diagnostics.count == 1)
        #expect(d.rule == .routeShadowed)
        #expect(d.message == "route `rest` can never be reached: earlier route `always` matches every request it matches")
        let never = HeaderMatcher(name: "x-a", .present(false), treatMissingHeaderAsEmpty: true)
        let n = analyze(vhost([route("never", RouteMatch(.prefix("/"), headers: [never]))]))
        #expect(n.diagnostics.map(\.rule) == [.routeUnmatchable])
    }

    @Test func invertedEmptyExactMatchMatchesNothing() throws {
        // `exact_match: ""` accepts every value but is no presence matcher: inverted, it fails
        // present and missing headers alike.
        let m = HeaderMatcher(name: "x-a", .deprecatedExact(""), invertMatch: true)
        let f = analyze(vhost([route("none", RouteMatch(.prefix("/"), headers: [m])), route("rest", RouteMatch(.prefix("/")))]))
        let d = try #require(f.diagnostics.first)
        #expect(f.diagnostics.count == 1)
        #expect(d.rule == .routeUnmatchable)
        #expect(d.message == "route `none` can never match a request")
    }

    @Test func aCatchAllHeaderRegexIsDecidedOverUTF8Values() throws {
        // Inverted, `.*` matches no UTF-8 value (and no missing header): no example request
        // can exist, and the raw-byte values it could match leave the route undecided.
        let inverted = HeaderMatcher(name: "x-b", .string(StringMatcher(.safeRegex(".*"))), invertMatch: true)
        let f = analyze(
            vhost([route("all", RouteMatch(.prefix(""))), route("inv", RouteMatch(.pathSeparatedPrefix("/"), headers: [inverted]))]))
        #expect(f.diagnostics.isEmpty)
        #expect(!f.undecidedDetails.contains { $0.contains("rejected by verification") })
        #expect(f.undecidedDetails.contains { $0.contains("header `x-b` holds bytes that are not UTF-8") })
        // Not inverted, `.*` takes every request that carries the header.
        let catchAll = HeaderMatcher(name: "x-b", .string(StringMatcher(.safeRegex(".*"))))
        let s = analyze(
            vhost([
                route("regex", RouteMatch(.prefix("/"), headers: [catchAll])),
                route("present", RouteMatch(.prefix("/a"), headers: [HeaderMatcher(name: "x-b", .present(true))]), cluster: "d"),
            ]))
        #expect(s.diagnostics.map(\.rule) == [.routeShadowed])
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

    @Test func curlCommandsAreReplayable() {
        let empty = EnvoyRequest(authority: "h", path: "/a", headers: [HTTPHeader("x-env", "")])
        #expect(empty.curlCommand == "curl -H 'x-env;' 'http://h/a'")
        let odd = EnvoyRequest(method: "POST", authority: "h", path: "/a b/é[1]?q=%41")
        #expect(odd.curlCommand == "curl -X POST -g 'http://h/a%20b/%C3%A9[1]?q=%41'")
        let quote = EnvoyRequest(authority: "h", path: "/it's", headers: [HTTPHeader("x-a", "b c")])
        #expect(quote.curlCommand == "curl -H 'x-a: b c' 'http://h/it'\\''s'")
        #expect(CurlReplay.parse(quote.curlCommand)?.path == "/it's")
        #expect(CurlReplay.parse(empty.curlCommand)?.headers.first?.value == "")
        let head = EnvoyRequest(method: "HEAD", authority: "h", path: "/")
        #expect(head.curlCommand == "curl -I 'http://h/'")
        #expect(CurlReplay.parse(head.curlCommand)?.method == "HEAD")
    }

    /// Every example request of every lint fixture, parsed back from its printed `curl`
    /// command, still matches the route the finding names, and goes where it says.
    @Test func everyFixtureWitnessRoundTripsThroughItsCurlCommand() throws {
        var checked = 0
        for (d, rc) in try fixtureWitnesses() {
            let w = d.witness!
            let parsed = try #require(CurlReplay.parse(w.curlCommand), "\(w.curlCommand)")
            let req = parsed
            let vh = try #require(virtualHost(rc, req), "\(w.curlCommand)")
            let routes = vh.routes
            let me = try #require(routes.firstIndex { $0.source == d.span }, "\(d.message)")
            #expect(routes[me].match.matchedBy(req), "\(d.message): \(w.curlCommand)")
            let first = try #require(routes.firstIndex { $0.match.matchedBy(req) })
            // An overlap's example goes to the earlier route of the pair; a shadowed
            // route's to one of the routes that cover it.
            if d.rule == .routeOverlap {
                #expect(routes[first].source == d.related.first?.span, "\(d.message): \(w.curlCommand)")
            } else {
                #expect(first < me && d.related.contains { $0.span == routes[first].source }, "\(d.message): \(w.curlCommand)")
            }
            checked += 1
        }
        #expect(checked >= 8)
    }

    static let curlPath: String? = ["/usr/bin/curl", "/usr/local/bin/curl", "/opt/homebrew/bin/curl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// curl itself accepts every printed command (exit 3 would mean a malformed URL): each is
    /// run against a closed local port. Skipped when curl is not installed.
    @Test(.enabled(if: curlPath != nil, "curl is not installed"))
    func curlAcceptsEveryFixtureCommand() throws {
        for (d, _) in try fixtureWitnesses() {
            let cmd = d.witness!.curlCommand
            let args = try #require(CurlReplay.arguments(cmd))
            let r = try runProcess(
                RouteTableAnalysisTests.curlPath!,
                ["-s", "-o", "/dev/null", "--connect-timeout", "1", "--max-time", "3", "--connect-to", "::127.0.0.1:9"] + args.dropFirst())
            #expect(r.status != 3 && r.status != 2, "\(cmd): curl exit \(r.status)")
        }
    }

    func fixtureWitnesses() throws -> [(Diagnostic, RouteConfiguration)] {
        let dir = TestPaths.packageRoot.appendingPathComponent("fixtures/lint")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        var out: [(Diagnostic, RouteConfiguration)] = []
        for f in files {
            let result = Pipeline().check([dir.appendingPathComponent(f).path])
            let configs = result.policyRouteTables
            for d in result.diagnostics where d.witness != nil {
                guard let rc = configs.first(where: { $0.virtualHosts.contains { $0.routes.contains { $0.source == d.span } } }) else {
                    Issue.record("no route at \(d.span) for \(d.message)")
                    continue
                }
                out.append((d, rc))
            }
        }
        return out
    }

    func runLint(_ args: [String]) throws -> String {
        let root = TestPaths.packageRoot
        return try runProcess(root.appendingPathComponent(".build/debug/xdsc").path, ["lint"] + args, currentDirectory: root).stdout
    }
}

/// A small parser for the `curl` commands xdsc prints: POSIX single quotes (with `'\''`),
/// `-X`, `-I`, `-H`, `-g` and the URL. It knows nothing of xdsc's printer, so it checks it.
enum CurlReplay {
    /// The shell words of `command`; nil when a quote is unbalanced or a character would
    /// need a shell to interpret it.
    static func arguments(_ command: String) -> [String]? {
        var words: [String] = []
        var cur = ""
        var inWord = false
        var quoted = false
        var it = command.makeIterator()
        while let c = it.next() {
            if quoted {
                if c == "'" { quoted = false } else { cur.append(c) }
            } else if c == "'" {
                quoted = true
                inWord = true
            } else if c == "\\" {
                guard let n = it.next() else { return nil }
                cur.append(n)
                inWord = true
            } else if c == " " {
                if inWord { words.append(cur) }
                cur = ""
                inWord = false
            } else if "\"$`;&|<>()*?[]{}~#!".contains(c) {
                return nil  // unquoted shell syntax
            } else {
                cur.append(c)
                inWord = true
            }
        }
        if quoted { return nil }
        if inWord { words.append(cur) }
        return words
    }

    /// The request curl sends for `command`: the URL's target exactly as written (curl
    /// sends it unchanged; Envoy does not decode it).
    static func parse(_ command: String) -> EnvoyRequest? {
        guard let words = arguments(command), words.first == "curl" else { return nil }
        var r = EnvoyRequest(authority: "", path: "")
        var i = 1
        var url: String?
        while i < words.count {
            switch words[i] {
            case "-X":
                guard i + 1 < words.count else { return nil }
                r.method = words[i + 1]
                i += 2
            case "-H":
                guard i + 1 < words.count else { return nil }
                let h = words[i + 1]
                if h.hasSuffix(";"), !h.contains(":") {
                    r.headers.append(HTTPHeader(String(h.dropLast()), ""))
                } else if let colon = h.firstIndex(of: ":") {
                    // curl drops a header whose value is empty after the colon.
                    let value = h[h.index(after: colon)...].drop { $0 == " " }
                    if value.isEmpty { return nil }
                    r.headers.append(HTTPHeader(String(h[..<colon]), String(value)))
                } else {
                    return nil
                }
                i += 2
            case "-g":
                i += 1
            case "-I":
                r.method = "HEAD"
                i += 1
            default:
                guard url == nil, words[i].hasPrefix("http://") else { return nil }
                url = words[i]
                i += 1
            }
        }
        guard let url else { return nil }
        let rest = url.dropFirst("http://".count)
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        let path = String(rest[slash...])
        r.authority = String(rest[..<slash])
        r.path = path
        // Without -g, curl reads []{} as a glob.
        if !words.contains("-g"), path.contains(where: { "[]{}".contains($0) }) { return nil }
        // Bytes curl or HTTP/1.1 will not carry raw in a request target.
        if path.utf8.contains(where: { !(0x21...0x7E).contains($0) }) { return nil }
        return r
    }
}

/// The virtual host the route engine's selector picks for `request`.
private func virtualHost(_ rc: RouteConfiguration, _ request: EnvoyRequest) -> VirtualHost? {
    (try? VirtualHostSelector(rc).select(request.headerMap).get()).map { rc.virtualHosts[$0.index] }
}

extension RouteMatch {
    /// The route engine's verdict on this match alone.
    fileprivate func matchedBy(_ request: EnvoyRequest) -> Bool { RouteEngine.matches(self, request) }
}
