import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine
import XDSCRoutes

/// Harness 4: the shadowing analysis on route tables built from the fuzzer's bytes.
///
/// The witness invariant: every reported example, replayed through the route engine
/// (`RouteEngine.select`, its matcher `RouteEngine.matches`), selects the
/// virtual host, is matched by the route the diagnostic is about, and is taken first by
/// one of the earlier routes the diagnostic names. And when no route has a condition the
/// analysis cannot model, no witness the analysis produced was rejected by that replay.
public enum ShadowingHarness {
    /// Runs the harness; a violation stops the process (libFuzzer reports it).
    public static func run(_ bytes: [UInt8]) { trap(violation(bytes)) }

    /// The first broken invariant.
    public static func violation(_ bytes: [UInt8]) -> Violation? {
        var input = FuzzInput(bytes)
        var gen = RouteGen()
        let vhost = gen.virtualHost(&input)
        let config = RouteConfiguration(name: "fuzz", virtualHosts: [vhost])
        var findings = RouteTableFindings()
        RouteTableAnalysis.analyze(config, fallback: .point("fallback", line: 999), into: &findings)
        let table = vhost.routes.enumerated().map { "#\($0.offset) \($0.element.match.json.compactText())" }.joined(separator: "; ")
        let unmatchable = findings.diagnostics.filter { $0.rule == .routeUnmatchable }
        for d in findings.diagnostics where d.rule != .routeUnmatchable {
            if let v = check(d, vhost, config, opaque: gen.opaque) { return "\(v) [\(d.message)] in table \(table)" }
        }
        for d in unmatchable {
            if let v = checkUnmatchable(d, vhost, findings.diagnostics) { return "\(v) [\(d.message)] in table \(table)" }
        }
        if !gen.opaque, let rejected = findings.undecidedDetails.first(where: { $0.contains("rejected by verification") }) {
            return "witness rejected by the Envoy model: \(rejected) in table \(table)"
        }
        return nil
    }

    /// A route the analysis calls unmatchable gets no other finding, neither as the route a
    /// finding is about nor as the earlier route it names, and no reported example request
    /// matches it in the Envoy model.
    static func checkUnmatchable(_ d: Diagnostic, _ vhost: VirtualHost, _ all: [Diagnostic]) -> Violation? {
        let routes = vhost.routes
        guard let i = index(d.span, routes.count) else { return "span \(d.span) names no route" }
        for other in all where other.rule != .routeUnmatchable {
            if index(other.span, routes.count) == i || other.related.contains(where: { index($0.span, routes.count) == i }) {
                return "unmatchable route #\(i) also has a `\(other.rule.rawValue)` finding"
            }
            guard let w = other.witness else { continue }
            if RouteEngine.matches(routes[i].match, w) { return "example \(w.curlCommand) matches unmatchable route #\(i)" }
        }
        return nil
    }

    /// Route `i` sits at line `i + 1` of file `routes`, so a span names its route.
    static func index(_ span: SourceSpan, _ count: Int) -> Int? {
        span.file == "routes" && (1...count).contains(span.start.line) ? span.start.line - 1 : nil
    }

    static func check(_ d: Diagnostic, _ vhost: VirtualHost, _ config: RouteConfiguration, opaque: Bool) -> Violation? {
        guard d.rule == .routeShadowed || d.rule == .routeOverlap else { return "unexpected rule \(d.rule.rawValue)" }
        let routes = vhost.routes
        guard let i = index(d.span, routes.count) else { return "span \(d.span) names no route" }
        let named = d.related.compactMap { index($0.span, routes.count) }
        guard !named.isEmpty, named.count == d.related.count, named.allSatisfy({ $0 < i }) else {
            return "related routes \(d.related.map(\.span)) of route #\(i) are not earlier routes"
        }
        // The example is the request the analysis replayed: the same value, the same type.
        guard let request = d.witness, let w = d.witness else { return "no example request" }
        let selection = RouteEngine(config).select(request)
        guard selection.virtualHost == 0 else { return "example host `\(w.authorityText)` selects another virtual host" }
        guard RouteEngine.matches(routes[i].match, request) else { return "example \(w.curlCommand) does not match route #\(i)" }
        guard let first = selection.route else { return "example \(w.curlCommand) matches no route" }
        guard first < i else { return "example \(w.curlCommand) reaches route #\(first), not an earlier route" }
        // With a condition the analysis does not model (`:authority`, `:path`), another earlier
        // route may take the example first.
        guard named.contains(first) || opaque else {
            return "example \(w.curlCommand) is taken by route #\(first), not by the named route(s) \(named.map { "#\($0)" })"
        }
        return nil
    }
}

/// Builds a virtual host from fuzz bytes: 2–7 routes over a small alphabet, so that routes
/// often relate (equal, nested, overlapping) and the analysis has something to find.
struct RouteGen {
    /// Whether some route has a condition the analysis does not model.
    var opaque = false

    static let pathPieces = ["/", "a", "b", "A", "/a", "/b", "%", ".", "é"]
    static let valuePieces = ["x", "y", "X", "1", "é", "e\u{301}", ",", " "]
    static let regexAtoms = [
        "/", "a", "b", "A", ".", "[ab]", "[^/]", "[^a]", "\\d", "\\C", "(?i:a)", "[/a]", "\\w", "é", "(a|b)", "\\.", "%",
    ]
    static let headerNames = [":method", "x-h", "content-type", "x-b", ":authority", ":path"]

    mutating func virtualHost(_ input: inout FuzzInput) -> VirtualHost {
        let domains = input.pick([["example.com"], ["*.example.com"], ["*"], ["api.test", "*"], ["www.*"]])
        let count = 2 + input.below(6)
        let routes = (0..<count).map { route($0, &input) }
        return VirtualHost(name: "fuzz", domains: domains, routes: routes)
    }

    mutating func route(_ index: Int, _ input: inout FuzzInput) -> Route {
        let path: RouteMatch.PathSpecifier
        switch input.below(8) {
        case 0, 1, 2: path = .prefix(pathString(&input))
        case 3, 4: path = .path(pathString(&input))
        case 5: path = .pathSeparatedPrefix(pathString(&input))
        default: path = .safeRegex(regex(&input))
        }
        let caseSensitive = input.pick([nil, true, false] as [Bool?])
        var headers: [HeaderMatcher] = []
        for _ in 0..<input.pick([0, 0, 0, 1, 1, 2]) { headers.append(header(&input)) }
        var query: [QueryParameterMatcher] = []
        if input.below(4) == 0 {
            let name = input.pick(["q", "r"])
            switch input.below(3) {
            case 0: query.append(QueryParameterMatcher(name: name, presentMatch: input.bool()))
            case 1: query.append(QueryParameterMatcher(name: name))
            default: query.append(QueryParameterMatcher(name: name, stringMatch: stringMatcher(&input)))
            }
        }
        let grpc = input.below(10) == 0
        var fraction: RuntimeFractionalPercent?
        if input.below(16) == 0 {
            fraction = RuntimeFractionalPercent(defaultValue: .percent(input.pick([0, 50, 100])))
            opaque = true
        }
        let match = RouteMatch(
            path, caseSensitive: caseSensitive, runtimeFraction: fraction, headers: headers, queryParameters: query, grpc: grpc)
        let cluster = input.pick(["c0", "c0", "c1", "c2"])
        return Route(
            name: input.below(4) == 0 ? nil : "r\(index)", match: match, action: .route(RouteAction(.cluster(cluster))),
            source: .point("routes", line: index + 1, column: 3))
    }

    mutating func pathString(_ input: inout FuzzInput) -> String {
        let s = input.word(Self.pathPieces, maxLength: 3)
        return input.below(8) == 0 ? s : "/" + s
    }

    mutating func regex(_ input: inout FuzzInput) -> String {
        var branches: [String] = []
        for _ in 0..<(1 + input.below(2)) {
            var pieces = ""
            for _ in 0..<(1 + input.below(3)) {
                pieces += input.pick(Self.regexAtoms) + input.pick(["", "", "", "*", "+", "?", "{1,2}"])
            }
            branches.append(pieces)
        }
        let body = branches.joined(separator: "|")
        switch input.below(6) {
        case 0: return "(?i)" + body
        case 1: return "/" + body
        case 2: return "/(" + body + ")/.*"
        default: return body
        }
    }

    mutating func stringMatcher(_ input: inout FuzzInput) -> StringMatcher {
        let v = input.word(Self.valuePieces, maxLength: 2)
        let pattern: StringMatcher.Pattern
        switch input.below(6) {
        case 0: pattern = .exact(v)
        case 1: pattern = .prefix(v)
        case 2: pattern = .suffix(v)
        case 3: pattern = .contains(v)
        case 4: pattern = .safeRegex(input.pick(["x+|y", "[xy]y", "GET|POST", "application/grpc.*", ".*", "x?"]))
        default: pattern = .exact(input.pick(["GET", "POST", "application/grpc", "example.com"]))
        }
        return StringMatcher(pattern, ignoreCase: input.below(3) == 0)
    }

    mutating func header(_ input: inout FuzzInput) -> HeaderMatcher {
        let name = input.pick(Self.headerNames)
        // The analysis treats `:authority` and `:path` matchers as ordinary headers, while the
        // Envoy model reads them from the request's host and path: such witnesses may be
        // rejected (safely, as undecided), so they do not count against the analysis.
        if name == ":authority" || name == ":path" { opaque = true }
        let specifier: HeaderMatcher.Specifier?
        switch input.below(6) {
        case 0: specifier = nil
        case 1: specifier = .present(input.bool())
        case 2: specifier = .deprecatedExact(input.word(Self.valuePieces, maxLength: 1))
        case 3 where input.below(3) == 0:
            specifier = .range(start: 0, end: 10)
            opaque = true
        default: specifier = .string(stringMatcher(&input))
        }
        // Read in this order: corpus files decode to the same tables only as long as it stays.
        let invert = input.below(4) == 0
        let treatMissing = input.below(5) == 0
        return HeaderMatcher(name: name, specifier, invertMatch: invert, treatMissingHeaderAsEmpty: treatMissing)
    }
}
