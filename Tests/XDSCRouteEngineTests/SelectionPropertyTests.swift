import Testing
import XDSCRequest
import XDSCTestSupport

@testable import XDSCEnvoy
@testable import XDSCRouteEngine

/// For random route tables (several virtual hosts, wildcard domains, `require_tls`, every
/// action kind, weighted and header clusters, runtime fractions) and random requests, the
/// slim ``RouteEngine/select(_:semantics:)`` names the same host, route and outcome as the
/// full decision, with and without the trace, under both semantics.
@Suite struct SelectionPropertyTests {
    static let paths = ["/a", "/a/b", "/ab", "/b", "/", "/a/b/c", "/C"]
    static let domains = ["a.example", "*.example", "b.*", "*", "c.example:8080", "*.b.example"]

    static func route(_ rng: inout SeededRNG) -> Route {
        let p = paths.randomElement(using: &rng)!
        let spec: RouteMatch.PathSpecifier
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: spec = .path(p)
        case 1: spec = p == "/" ? .prefix(p) : .pathSeparatedPrefix(p)
        case 2: spec = .safeRegex(p + "(/.*)?")
        default: spec = .prefix(p)
        }
        var headers: [HeaderMatcher] = []
        if Int.random(in: 0..<3, using: &rng) == 0 {
            headers.append(HeaderMatcher(name: "x-h", .string(StringMatcher(.exact(["1", "2"].randomElement(using: &rng)!)))))
        }
        let fraction: RuntimeFractionalPercent? =
            Int.random(in: 0..<6, using: &rng) == 0
            ? RuntimeFractionalPercent(defaultValue: .percent(Int.random(in: 0...100, using: &rng)), runtimeKey: "k") : nil
        let match = RouteMatch(
            spec, caseSensitive: Int.random(in: 0..<5, using: &rng) == 0 ? false : nil, runtimeFraction: fraction, headers: headers)
        let action: Route.Action
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: action = .redirect(RedirectAction(path: .path("/moved"), responseCode: .found))
        case 1: action = .directResponse(DirectResponseAction(status: [200, 201, 404].randomElement(using: &rng)!, body: "x"))
        case 2: action = .route(RouteAction(.clusterHeader("x-cluster")))
        case 3:
            var w = WeightedClusters([
                .init(name: "w1", weight: 30), .init(name: "w2", weight: 70), .init(name: "", weight: 10, clusterHeader: "x-cluster"),
            ])
            if Bool.random(using: &rng) { w.headerName = "x-pick" }
            action = .route(RouteAction(.weightedClusters(w)))
        default: action = .route(RouteAction(.cluster("c\(Int.random(in: 0..<3, using: &rng))")))
        }
        return Route(match: match, action: action)
    }

    static func table(_ rng: inout SeededRNG) -> RouteConfiguration {
        var hosts: [VirtualHost] = []
        var used = Set<String>()
        for i in 0..<Int.random(in: 1...3, using: &rng) {
            let ds = domains.filter { !used.contains($0) }.shuffled(using: &rng).prefix(Int.random(in: 1...2, using: &rng))
            used.formUnion(ds)
            let tls: VirtualHost.TLSRequirement = [.none, .none, .all, .externalOnly].randomElement(using: &rng)!
            hosts.append(
                VirtualHost(
                    name: "v\(i)", domains: Array(ds), routes: (0..<Int.random(in: 1...6, using: &rng)).map { _ in route(&rng) },
                    requireTLS: tls))
        }
        var c = RouteConfiguration(name: "t", virtualHosts: hosts)
        c.ignorePortInHostMatching = Int.random(in: 0..<4, using: &rng) == 0
        return c
    }

    static func request(_ rng: inout SeededRNG) -> EnvoyRequest {
        var path = paths.randomElement(using: &rng)!
        if Bool.random(using: &rng) { path += ["/", "/x", "?q=1", "/B", "#f"].randomElement(using: &rng)! }
        var headers: [HTTPHeader] = []
        if Bool.random(using: &rng) { headers.append(HTTPHeader("x-h", ["1", "2"].randomElement(using: &rng)!)) }
        if Bool.random(using: &rng) { headers.append(HTTPHeader("x-cluster", ["hc", "", "a,b"].randomElement(using: &rng)!)) }
        if Bool.random(using: &rng) { headers.append(HTTPHeader("x-pick", ["5", " 95 ", "-1", "x"].randomElement(using: &rng)!)) }
        if Int.random(in: 0..<8, using: &rng) == 0 {
            headers.append(HTTPHeader("x-forwarded-proto", ["", "https", "HTTPS"].randomElement(using: &rng)!))
        }
        let host = ["a.example", "A.EXAMPLE", "x.example", "b.org", "c.example:8080", "c.example", "q.b.example", "other"].randomElement(
            using: &rng)!
        return EnvoyRequest(
            scheme: Bool.random(using: &rng) ? "http" : "https", authority: Int.random(in: 0..<20, using: &rng) == 0 ? nil : host,
            path: Int.random(in: 0..<30, using: &rng) == 0 ? nil : path, headers: headers,
            randomValue: UInt64.random(in: 0..<1000, using: &rng), isInternal: Bool.random(using: &rng))
    }

    /// The selection a full decision implies.
    static func selection(_ d: RouteDecision) -> RouteSelection {
        let outcome: RouteSelection.Outcome
        switch d.outcome {
        case .noRoute(let r): outcome = .noRoute(r)
        case .tlsRedirect: outcome = .tlsRedirect
        case .forward(let f):
            var entry: Int?
            if case .weighted(let w) = f.choice { entry = w.picked }
            outcome = .forward(cluster: f.cluster, entry: entry)
        case .redirect(let r): outcome = .redirect(status: r.status)
        case .directResponse(let r): outcome = .directResponse(status: r.status)
        }
        return RouteSelection(virtualHost: d.virtualHost?.index, route: d.routeIndex, outcome: outcome)
    }

    @Test func selectAgreesWithTheFullDecision() {
        var rng = SeededRNG(seed: 20_261_202)
        var kinds = Set<String>()
        var compared = 0
        for _ in 0..<300 {
            let engine = RouteEngine(Self.table(&rng))
            for _ in 0..<30 {
                let r = Self.request(&rng)
                for semantics in [RouteEngine.Semantics.envoy, .routerCheckTool(runtimeKey: Bool.random(using: &rng) ? "k" : nil)] {
                    let slim = engine.select(r, semantics: semantics)
                    let traced = engine.decide(r, semantics: semantics)
                    let untraced = engine.decide(r, semantics: semantics, trace: false)
                    #expect(slim == Self.selection(traced), "\(r)")
                    #expect(slim == Self.selection(untraced), "\(r)")
                    #expect(slim.cluster == traced.cluster)
                    kinds.insert("\(slim.outcome)".prefix(while: { $0 != "(" }).description)
                    compared += 1
                }
            }
        }
        // Every kind of outcome came up, so the agreement was tested on each.
        #expect(kinds.isSuperset(of: ["noRoute", "tlsRedirect", "forward", "redirect", "directResponse"]), "\(kinds)")
        print("property: \(compared) selections compared with the full decision, outcomes \(kinds.sorted())")
    }
}

/// A path under more prefixes than the index's stack buffer holds still finds the first
/// route that matches, as the full scan does.
@Suite struct SelectionIndexOverflowTests {
    @Test func pathUnderManyPrefixes() {
        // 60 nested prefixes `/`, `/a`, `/aa`, ...; each wants its own `x-n` value, so the
        // winner is decided by the header, deep in the candidate list.
        let routes = (0..<60).map { i in
            Route(
                match: RouteMatch(
                    .prefix("/" + String(repeating: "a", count: i)),
                    headers: [HeaderMatcher(name: "x-n", .string(StringMatcher(.exact("\(i)"))))]),
                action: .route(RouteAction(.cluster("c\(i)"))))
        }
        let engine = RouteEngine(RouteConfiguration(name: "t", virtualHosts: [VirtualHost(name: "v", domains: ["*"], routes: routes)]))
        for n in [0, 31, 32, 45, 59] {
            let r = EnvoyRequest(authority: "x", path: "/" + String(repeating: "a", count: 70), headers: [HTTPHeader("x-n", "\(n)")])
            #expect(engine.select(r).route == n)
            #expect(engine.decide(r).routeIndex == n)
        }
        // Not under the deeper prefixes: those are no candidates.
        #expect(engine.select(EnvoyRequest(authority: "x", path: "/aa", headers: [HTTPHeader("x-n", "45")])).route == nil)
    }
}
