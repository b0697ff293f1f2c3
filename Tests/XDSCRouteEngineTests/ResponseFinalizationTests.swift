import Testing
import XDSCRequest
import XDSCTestSupport

@testable import XDSCEnvoy
@testable import XDSCRouteEngine

/// `finalizeResponseHeaders(_:of:)` gives, without routing again, the response headers a
/// second `decide` seeded with the same upstream headers gives: for random response
/// mutations at every level (weighted entry, route, virtual host, route configuration; every
/// append action, empty values with and without `keep_empty_value`, `%REQ(...)%` values) and
/// random upstream headers.
@Suite struct ResponseFinalizationTests {
    static let names = ["x-a", "x-b", "X-B", "server", "content-type"]
    static let values = ["1", "two", "", "%REQ(x-in)%", "%REQ(x-missing)%", "%REQ(:path)%", "%PROTOCOL%", "%UPSTREAM_HOST%", "a%%b"]
    static let actions: [HeaderValueOption.AppendAction] = [
        .appendIfExistsOrAdd, .addIfAbsent, .overwriteIfExists, .overwriteIfExistsOrAdd,
    ]

    static func options(_ rng: inout SeededRNG) -> [HeaderValueOption] {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            var o = HeaderValueOption(
                key: names.randomElement(using: &rng)!, value: values.randomElement(using: &rng)!,
                appendAction: actions.randomElement(using: &rng)!)
            o.keepEmptyValue = Bool.random(using: &rng)
            return o
        }
    }

    static func removals(_ rng: inout SeededRNG) -> [String] {
        (0..<Int.random(in: 0...1, using: &rng)).map { _ in names.randomElement(using: &rng)! }
    }

    static func table(_ rng: inout SeededRNG) -> RouteConfiguration {
        var action: RouteAction
        if Bool.random(using: &rng) {
            var entries = (0..<3).map { WeightedClusters.Entry(name: "w\($0)", weight: UInt32.random(in: 1...5, using: &rng)) }
            for i in entries.indices {
                entries[i].responseHeadersToAdd = options(&rng)
                entries[i].responseHeadersToRemove = removals(&rng)
            }
            action = RouteAction(.weightedClusters(WeightedClusters(entries)))
        } else {
            action = RouteAction(.cluster("c"))
        }
        if Bool.random(using: &rng) { action.pathRewrite = .prefix("/new") }
        // A route before the one that forwards, so the winner is not always route 0.
        let first = Route(match: RouteMatch(.prefix("/other")), action: .directResponse(DirectResponseAction(status: 200)))
        let route = Route(
            match: RouteMatch(.prefix("/")), action: .route(action), responseHeadersToAdd: options(&rng),
            responseHeadersToRemove: removals(&rng))
        let host = VirtualHost(
            name: "v", domains: ["*"], routes: [first, route], responseHeadersToAdd: options(&rng),
            responseHeadersToRemove: removals(&rng))
        var config = RouteConfiguration(name: "t", virtualHosts: [VirtualHost(name: "none", domains: ["none.test"]), host])
        config.responseHeadersToAdd = options(&rng)
        config.responseHeadersToRemove = removals(&rng)
        config.mostSpecificHeaderMutationsWins = Bool.random(using: &rng)
        return config
    }

    static func upstream(_ rng: inout SeededRNG) -> [HTTPHeader] {
        (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            HTTPHeader(
                ["x-a", "x-b", "server", "content-type", "x-up"].randomElement(using: &rng)!, ["u", "", "v"].randomElement(using: &rng)!)
        }
    }

    @Test func agreesWithASecondDecision() {
        var rng = SeededRNG(seed: 20_261_201)
        var changed = 0
        for _ in 0..<2000 {
            let engine = RouteEngine(Self.table(&rng))
            var headers = [HTTPHeader("x-forwarded-proto", "http")]
            if Bool.random(using: &rng) { headers.append(HTTPHeader("x-in", "in")) }
            let request = EnvoyRequest(
                method: "GET", authority: "example.com", path: "/p?q=1", headers: headers,
                randomValue: UInt64.random(in: 0...99, using: &rng))
            let d = engine.decide(request, trace: false)
            #expect(d.cluster != nil)
            let seed = Self.upstream(&rng)
            let expected = engine.decide(request, trace: false, responseHeaders: seed).responseHeaders
            let actual = engine.finalizeResponseHeaders(seed, of: d)
            #expect(actual == expected, "upstream \(seed), table \(engine.config)")
            if actual.entries != seed { changed += 1 }
        }
        // The mutations did something in most cases, so the comparison is not vacuous.
        #expect(changed > 1000)
    }

    @Test func aDecisionThatDoesNotForwardIsRoutedAgain() {
        let route = Route(
            match: RouteMatch(.prefix("/")), action: .directResponse(DirectResponseAction(status: 200, body: "hi")),
            responseHeadersToAdd: [HeaderValueOption(key: "x-r", value: "1")])
        let engine = RouteEngine(RouteConfiguration(name: "t", virtualHosts: [VirtualHost(name: "v", domains: ["*"], routes: [route])]))
        let request = EnvoyRequest(method: "GET", authority: "a", path: "/", headers: [HTTPHeader("x-forwarded-proto", "http")])
        let d = engine.decide(request, trace: false)
        let seed = [HTTPHeader("content-length", "3")]
        #expect(engine.finalizeResponseHeaders(seed, of: d) == engine.decide(request, trace: false, responseHeaders: seed).responseHeaders)
        #expect(engine.finalizeResponseHeaders(seed, of: d).first("x-r") == "1")
    }
}
