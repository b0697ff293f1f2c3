import Testing
import XDSCDiagnostics
import XDSCRequest
import XDSCTestSupport

@testable import XDSCEnvoy
@testable import XDSCRouteEngine
@testable import XDSCRoutes

/// For random route tables and requests, the engine's decision agrees with the shadowing
/// analysis: a route the analysis calls shadowed never wins, and every witness the analysis
/// reports reaches one of the earlier routes it names (and is matched by the later one).
@Suite struct RouteEnginePropertyTests {
    static let segments = ["/a", "/a/b", "/a/bc", "/b", "/", "/a/b/c", "/c"]

    static func randomRoute(_ rng: inout SeededRNG, _ i: Int) -> Route {
        let p = segments.randomElement(using: &rng)!
        let spec: RouteMatch.PathSpecifier
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: spec = .path(p)
        case 1: spec = p == "/" ? .prefix(p) : .pathSeparatedPrefix(p)
        // Regexes the index files under a literal prefix (the last with an optional character).
        case 2: spec = .safeRegex(p + "(/.*)?")
        case 3: spec = .safeRegex(p + "c?")
        default: spec = .prefix(p)
        }
        var headers: [HeaderMatcher] = []
        if Bool.random(using: &rng) {
            let v = ["1", "2"].randomElement(using: &rng)!
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: headers.append(HeaderMatcher(name: "x-h", .string(StringMatcher(.exact(v)))))
            case 1: headers.append(HeaderMatcher(name: "x-h", .present(true)))
            default: headers.append(HeaderMatcher(name: "x-h", .string(StringMatcher(.exact(v))), invertMatch: true))
            }
        }
        if Int.random(in: 0..<4, using: &rng) == 0 {
            headers.append(HeaderMatcher(name: ":method", .string(StringMatcher(.exact("POST")))))
        }
        let caseSensitive: Bool? = Int.random(in: 0..<5, using: &rng) == 0 ? false : nil
        return Route(
            match: RouteMatch(spec, caseSensitive: caseSensitive, headers: headers),
            action: .route(RouteAction(.cluster("c\(Int.random(in: 0..<3, using: &rng))"))))
    }

    static func randomRequest(_ rng: inout SeededRNG) -> EnvoyRequest {
        var path = segments.randomElement(using: &rng)!
        if Bool.random(using: &rng) { path += ["/", "/x", "c", "?q=1", "/B"].randomElement(using: &rng)! }
        if Int.random(in: 0..<4, using: &rng) == 0 { path = path.uppercased() }
        var headers: [HTTPHeader] = []
        if Bool.random(using: &rng) { headers.append(HTTPHeader("x-h", ["1", "2", "3"].randomElement(using: &rng)!)) }
        return EnvoyRequest(method: Bool.random(using: &rng) ? "GET" : "POST", authority: "example.com", path: path, headers: headers)
    }

    static func numbers(_ text: String) -> [Int] {
        var out: [Int] = []
        var rest = Substring(text)
        while let hash = rest.firstIndex(of: "#") {
            let digits = rest[rest.index(after: hash)...].prefix(while: \.isNumber)
            if let n = Int(digits) { out.append(n) }
            rest = rest[rest.index(after: hash)...]
        }
        return out
    }

    @Test func decisionsAgreeWithTheShadowingAnalysis() {
        var rng = SeededRNG(seed: 20_261_201)
        var shadowedSeen = 0
        var witnessesReplayed = 0
        for _ in 0..<300 {
            let routes = (0..<Int.random(in: 2...7, using: &rng)).map { Self.randomRoute(&rng, $0) }
            let vhost = VirtualHost(name: "v", domains: ["*"], routes: routes)
            let engine = RouteEngine(RouteConfiguration(name: "t", virtualHosts: [vhost]))
            var findings = RouteTableFindings()
            RouteTableAnalysis.analyze(RouteConfiguration(name: "t", virtualHosts: [vhost]), fallback: .point("t"), into: &findings)
            var shadowed = Set<Int>()
            for diag in findings.diagnostics {
                // Routes are unnamed, so diagnostics call them `#N` (1-based).
                let route = Self.numbers(diag.message)[0] - 1
                let earlier = diag.related.flatMap { Self.numbers($0.message) }.map { $0 - 1 }
                if diag.rule == .routeShadowed { shadowed.insert(route) }
                guard let w = diag.witness else {
                    Issue.record("finding without an example: \(diag.message)")
                    continue
                }
                let r = w
                let d = engine.decide(r)
                #expect(
                    d.routeIndex.map { earlier.contains($0) } == true, "\(diag.message): \(w) reached \(String(describing: d.routeIndex))")
                #expect(RouteEngine.firstFailure(routes[route].match, r.headerMap, r, runtime: .defaults) == nil)
                witnessesReplayed += 1
            }
            shadowedSeen += shadowed.count
            for _ in 0..<40 {
                let r = Self.randomRequest(&rng)
                let traced = engine.decide(r)
                if let w = traced.routeIndex { #expect(!shadowed.contains(w), "shadowed route \(w) won for \(r)") }
                // The index used without a trace picks the same route.
                #expect(engine.decide(r, trace: false).routeIndex == traced.routeIndex)
            }
        }
        #expect(shadowedSeen > 0 && witnessesReplayed > 0)
        print("property: \(shadowedSeen) shadowed routes, \(witnessesReplayed) witnesses replayed")
    }
}
