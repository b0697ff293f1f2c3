import Testing
import XDSCDiff
import XDSCEnvoy
import XDSCRequest
import XDSCRouteEngine
import XDSCTestSupport

/// Random pairs of small route tables judged by brute force through the route engine.
///
/// Why the finite space is complete: every path condition is a prefix or exact path of at
/// most 3 bytes over {/, a, b}, or a regex from ``Gen/pathRegexes`` whose match depends only
/// on the first 3 bytes, the last byte and whether the path is longer than 3 bytes; any byte
/// outside {/, a, b} behaves like `c`. Paths of length <= 4 over {/, a, b, c} therefore stand
/// for every path (a 4-byte path has its first 3 and its last byte independent). Header
/// conditions are on `x-h` (exact `x`, prefix `x`, presence, regexes over x and y) and query
/// conditions on `q` (exact `x`, prefix `x`, present or absent, regexes), each decided by
/// the values absent, "", x, xx, y, X (matchers may ignore case; for `q` also the bare `?q`
/// without `=`); methods by GET,
/// POST and PUT. Actions are distinct clusters or direct responses, so two different actions
/// differ on every request.
@Suite("Property: behavioural diff agrees with brute force")
struct DiffPropertyTests {

    struct Gen {
        var rng: SeededRNG
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func pick<T>(_ xs: [T]) -> T { xs.randomElement(using: &rng)! }

        mutating func pathString() -> String {
            "/" + (0..<Int.random(in: 0...2, using: &rng)).map { _ in pick(["a", "b", "/"]) }.joined()
        }

        /// Path regexes whose match depends on the first 3 bytes, the last byte and the length.
        static let pathRegexes = ["/a.*", "/[ab]", "/.b", "/a?b?", "/(a|b)/.*", ".*b", "/[^a].*", "/a|/b/"]
        /// Value regexes over {x, y}, decided by "", x, xx, y.
        static let valueRegexes = ["x+", "x?", ".*y", "x|y", ""]

        mutating func path() -> RouteMatch.PathSpecifier {
            let r = Double.random(in: 0..<1, using: &rng)
            if r < 0.45 { return .prefix(pathString()) }
            if r < 0.75 { return .path(pathString()) }
            return .safeRegex(pick(Self.pathRegexes))
        }

        mutating func valueMatcher() -> StringMatcher {
            let pattern: StringMatcher.Pattern = pick([.exact("x"), .prefix("x"), .safeRegex(pick(Self.valueRegexes))])
            // `ignore_case` has no effect on `safe_regex` in Envoy.
            return StringMatcher(pattern, ignoreCase: chance(0.2))
        }

        mutating func match() -> RouteMatch {
            var m = RouteMatch(path())
            if chance(0.35) {
                let spec: HeaderMatcher.Specifier = chance(0.25) ? .present(true) : .string(valueMatcher())
                m.headers.append(HeaderMatcher(name: "x-h", spec, invertMatch: chance(0.2)))
            }
            if chance(0.3) {
                m.queryParameters.append(
                    chance(0.3)
                        ? QueryParameterMatcher(name: "q", presentMatch: chance(0.7))
                        : QueryParameterMatcher(name: "q", stringMatch: valueMatcher()))
            }
            if chance(0.25) {
                m.headers.append(HeaderMatcher(name: ":method", .string(StringMatcher(.exact(pick(["GET", "POST"]))))))
            }
            return m
        }

        mutating func action() -> Route.Action {
            if chance(0.15) { return .directResponse(DirectResponseAction(status: pick([403, 503]), body: nil)) }
            return .route(RouteAction(.cluster(pick(["a", "b", "c"]))))
        }

        mutating func route() -> Route { Route(name: nil, match: match(), action: action()) }

        /// The new table: the old one with a few edits (or none).
        mutating func edit(_ old: [Route]) -> [Route] {
            var t = old
            for _ in 0..<Int.random(in: 0...2, using: &rng) {
                switch Int.random(in: 0..<5, using: &rng) {
                case 0 where t.count > 1: t.swapAt(0, Int.random(in: 1..<t.count, using: &rng))
                case 1 where !t.isEmpty: t[Int.random(in: 0..<t.count, using: &rng)].action = action()
                case 2: t.insert(route(), at: Int.random(in: 0...t.count, using: &rng))
                case 3 where t.count > 1: t.remove(at: Int.random(in: 0..<t.count, using: &rng))
                default: if !t.isEmpty { t[Int.random(in: 0..<t.count, using: &rng)].match = match() }
                }
            }
            return t
        }
    }

    static let paths: [String] = {
        var out: [String] = []
        var layer = ["/"]
        for _ in 0..<4 {
            out += layer
            layer = layer.flatMap { p in ["/", "a", "b", "c"].map { p + $0 } }
        }
        return out
    }()
    static let headerValues: [String?] = [nil, "", "x", "xx", "y", "X"]
    static let queries = ["", "?q", "?q=", "?q=x", "?q=xx", "?q=y", "?q=X"]
    static let methods = ["GET", "POST", "PUT"]

    static func config(_ routes: [Route]) -> RouteConfiguration {
        RouteConfiguration(name: "rc", virtualHosts: [VirtualHost(name: "h", domains: ["*"], routes: routes)])
    }

    static func outcome(_ d: RouteDecision) -> String {
        switch d.outcome {
        case .noRoute: "404"
        case .forward(let f): "cluster \(f.cluster)"
        case .directResponse(let r): "status \(r.status)"
        default: "other"
        }
    }

    static func hasQueryOrRegex(_ r: Route) -> Bool {
        if case .safeRegex = r.match.pathSpecifier { return true }
        let regexHeader = r.match.headers.contains {
            if case .string(let m) = $0.specifier, case .safeRegex = m.pattern { return true }
            return false
        }
        return regexHeader || !r.match.queryParameters.isEmpty
    }

    @Test("empty exactly when no request differs; every example differs", arguments: [1, 2, 3] as [UInt64])
    func agrees(seed: UInt64) {
        var gen = Gen(rng: SeededRNG(seed: seed * 7919))
        var differing = 0
        var equalPairs = 0
        var queryOrRegex = 0
        for t in 0..<60 {
            let old = (0..<Int.random(in: 1...5, using: &gen.rng)).map { _ in gen.route() }
            let new = gen.edit(old)
            let a = RouteEngine(Self.config(old))
            let b = RouteEngine(Self.config(new))
            var truthDiffers = false
            search: for p in Self.paths {
                for m in Self.methods {
                    for q in Self.queries {
                        for h in Self.headerValues {
                            let req = EnvoyRequest(
                                method: m, authority: "example.com", path: p + q, headers: h.map { [HTTPHeader("x-h", $0)] } ?? [])
                            if Self.outcome(a.decide(req, trace: false)) != Self.outcome(b.decide(req, trace: false)) {
                                truthDiffers = true
                                break search
                            }
                        }
                    }
                }
            }
            let report = ConfigDiff.diff(
                old: DiffSide(tables: [.init(key: "l", config: Self.config(old))]),
                new: DiffSide(tables: [.init(key: "l", config: Self.config(new))]), parts: .behaviourOnly)
            let context = "table \(t) seed \(seed): old \(old.map { $0.json.compactText() }) new \(new.map { $0.json.compactText() })"
            #expect(report.undecided == 0, "\(context): \(report.undecidedDetails)")
            #expect(report.behaviour.isEmpty == !truthDiffers, "\(context)")
            for c in report.behaviour {
                let req = c.example
                #expect(Self.outcome(a.decide(req, trace: false)) != Self.outcome(b.decide(req, trace: false)), "\(context)")
            }
            if truthDiffers { differing += 1 } else { equalPairs += 1 }
            if truthDiffers && (old + new).contains(where: Self.hasQueryOrRegex) { queryOrRegex += 1 }
        }
        // Both cases must occur often enough to mean something.
        #expect(differing > 10)
        #expect(equalPairs > 5)
        #expect(queryOrRegex > 5, "too few differing pairs with query or regex matchers")
    }
}
