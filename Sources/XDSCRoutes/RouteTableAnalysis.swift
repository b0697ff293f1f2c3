import XDSCAutomata
import XDSCDiagnostics
import XDSCEnvoy
import XDSCRequest
import XDSCRouteEngine

/// What the route analysis of a configuration found, and how much it could not decide.
public struct RouteTableFindings: Sendable {
    /// The findings, as diagnostics.
    public var diagnostics: [Diagnostic] = []
    /// Pairs or routes about which nothing was reported because the case could not be decided
    /// exactly (an unsupported regex feature, a runtime fraction, a work cap).
    public var undecided = 0
    /// The first undecided cases, as "host `h`, route X: reason".
    public var undecidedDetails: [String] = []
    /// How many route pairs were compared.
    public var comparedPairs = 0
    /// How many routes were analysed.
    public var routes = 0

    /// No findings.
    public init() {}

    /// Adds `other`'s findings and counts to these.
    public mutating func merge(_ other: RouteTableFindings) {
        diagnostics += other.diagnostics
        undecided += other.undecided
        undecidedDetails += other.undecidedDetails
        comparedPairs += other.comparedPairs
        routes += other.routes
    }
}

/// Runs the shadowing and overlap analysis on Envoy route configurations (ours or a user's)
/// and turns its findings into diagnostics at the routes' policy positions. Every example
/// request is replayed through the route engine (the one `xdsc route` and `xdsc test routes`
/// use) before it is reported.
public enum RouteTableAnalysis {
    /// Where, inside a route (given by its source span), the condition that makes it match
    /// nothing was written; nil to report at the route.
    public typealias ConditionLocator = @Sendable (_ route: SourceSpan, _ cause: UnmatchableRoute.Cause) -> SourceSpan?

    /// Analyses every virtual host of `config`. Routes without a source position are
    /// reported at `fallback`; `locate` points an unmatchable route's finding at the
    /// condition responsible, when the front end knows where it was written. `memo` is shared
    /// by the hosts (pass one memo for every table of a run): the findings are the same.
    public static func analyze(
        _ config: RouteConfiguration, fallback: SourceSpan, locate: ConditionLocator? = nil, memo: ShadowMemo = ShadowMemo(),
        into findings: inout RouteTableFindings
    ) {
        // An example request must reach its virtual host in the whole table: an `:authority`
        // header matcher can make the analysis pick a host another virtual host takes.
        let selector = VirtualHostSelector(config)
        for (i, vhost) in config.virtualHosts.enumerated() {
            analyze(vhost, fallback: fallback, locate: locate, memo: memo, into: &findings) { req in
                (try? selector.select(req.headerMap).get())?.index == i
            }
        }
    }

    /// Analyses every virtual host of every table, as `analyze(_:fallback:locate:memo:into:)`
    /// of each table in order does, with the hosts spread over up to `workers` threads (by
    /// default the processors when the tables are large, else one), each thread with its own
    /// memo; the findings are the same, in the same order.
    public static func analyze(
        tables: [(config: RouteConfiguration, fallback: SourceSpan)], locate: ConditionLocator? = nil,
        workers: Int? = nil, into findings: inout RouteTableFindings
    ) {
        var hosts: [(table: Int, host: Int)] = []
        var routes = 0
        for (t, table) in tables.enumerated() {
            for (h, vhost) in table.config.virtualHosts.enumerated() {
                hosts.append((t, h))
                routes += vhost.routes.count
            }
        }
        // Threads pay off only on a large table: a small lint stays on this one.
        let threads = workers ?? Parallel.workers(forRoutes: routes)
        let selectors = tables.map { VirtualHostSelector($0.config) }
        func part(_ memo: inout ShadowMemo, _ k: Int) -> RouteTableFindings {
            let (t, h) = hosts[k]
            var part = RouteTableFindings()
            analyze(tables[t].config.virtualHosts[h], fallback: tables[t].fallback, locate: locate, memo: memo, into: &part) { req in
                (try? selectors[t].select(req.headerMap).get())?.index == h
            }
            return part
        }
        let parts = Parallel.map(hosts.count, workers: threads, state: { ShadowMemo() }, part)
        for part in parts { findings.merge(part) }
    }

    static func analyze(
        _ vhost: VirtualHost, fallback: SourceSpan, locate: ConditionLocator?, memo: ShadowMemo,
        into findings: inout RouteTableFindings, selects: (EnvoyRequest) -> Bool
    ) {
        let routes = vhost.routes
        guard !routes.isEmpty else { return }
        // A lone route has nothing to be compared with, but it can still match nothing.
        if routes.count > 1 { findings.routes += routes.count }
        // By index: `routes.map` copies each (large) route out of the array first.
        let constraints = routes.indices.map { constraint(routes[$0].match) }
        let host = exampleHost(vhost.domains)
        // The engine routes within this host alone; `require_tls` is not part of matching.
        // Only a finding needs it, and most hosts have none: built on first use.
        var engine: RouteEngine?
        func firstRoute(_ req: EnvoyRequest) -> Int? {
            if engine == nil {
                var alone = vhost
                alone.requireTLS = .none
                engine = RouteEngine(RouteConfiguration(name: "", virtualHosts: [alone]))
            }
            return engine?.select(req).route
        }
        func matches(_ index: Int, _ req: EnvoyRequest) -> Bool {
            RouteEngine.firstFailure(routes[index].match, req.headerMap, req, runtime: .defaults) == nil
        }
        let report = analyzeShadowing(
            constraints, memo: memo,
            sameAction: { routes[$0].action == routes[$1].action },
            verify: { index, witness in matches(index, request(witness, host: host)) })
        findings.comparedPairs += report.comparedPairs
        findings.undecided += report.undecidedCount
        for u in report.undecided.prefix(20) {
            var where_ = "host `\(vhost.name)`, route \(label(routes, u.route))"
            if let e = u.earlier { where_ += " vs \(label(routes, e))" }
            findings.undecidedDetails.append("\(where_): \(u.reason)")
        }
        for u in report.unmatchable {
            findings.diagnostics.append(unmatchable(u, routes: routes, fallback: fallback, locate: locate))
        }
        for f in report.findings {
            let req = request(f.witness, host: host)
            // First match wins: the example must reach one of the earlier routes the finding
            // names (not a third route before them), and this route must match it too; an
            // overlap's example reaches exactly the earlier route of the pair.
            guard selects(req), let first = firstRoute(req), f.earlier.contains(first),
                f.kind == .shadowed || first == f.earlier[0], matches(f.route, req)
            else {
                findings.undecided += 1
                continue
            }
            findings.diagnostics.append(
                diagnostic(f, routes: routes, vhost: vhost, example: req, fallback: fallback))
        }
    }

    // MARK: - Diagnostics

    static func label(_ routes: [Route], _ i: Int) -> String {
        routes[i].label(at: i)
    }

    static func span(_ r: Route, _ fallback: SourceSpan) -> SourceSpan { r.source ?? fallback }

    static func diagnostic(_ f: ShadowFinding, routes: [Route], vhost: VirtualHost, example: EnvoyRequest, fallback: SourceSpan)
        -> Diagnostic
    {
        let me = "route \(label(routes, f.route))"
        let earlier = f.earlier.map { label(routes, $0) }
        switch f.kind {
        case .shadowed:
            let message: String
            // "Repeats" only when the matches are the same; a wider match with the same action
            // covers this one, which is a different (if equally harmless) thing.
            let identical = f.redundantDuplicate && routes[f.route].match == routes[f.earlier[0]].match
            if identical {
                message = "\(me) can never be reached: it repeats route \(earlier[0]) with the same action, which takes every request first"
            } else if f.redundantDuplicate {
                message =
                    "\(me) can never be reached: earlier route \(earlier[0]) matches every request it matches and has the same action"
            } else if earlier.count == 1 {
                message = "\(me) can never be reached: earlier route \(earlier[0]) matches every request it matches"
            } else {
                message = "\(me) can never be reached: earlier routes \(listed(earlier)) together match every request it matches"
            }
            return Diagnostic(
                .routeShadowed, message, at: span(routes[f.route], fallback), label: "unreachable",
                related: f.earlier.map { RelatedLocation("route \(label(routes, $0)) matches first", at: span(routes[$0], fallback)) },
                notes: ["Envoy tries the routes of host `\(vhost.name)` in order and stops at the first match"],
                help: identical
                    ? "delete the duplicate"
                    : f.redundantDuplicate
                        ? "delete this route: route \(earlier[0]) already sends its requests to the same place"
                        : "move this route before \(earlier.count == 1 ? "route \(earlier[0])" : "those routes"), narrow the earlier match, or delete this route",
                witness: example)
        case .overlap:
            return Diagnostic(
                .routeOverlap,
                "\(me) partially overlaps earlier route \(earlier[0]): requests both match go to \(earlier[0]) only because it comes first",
                at: span(routes[f.route], fallback), label: "overlaps",
                related: [RelatedLocation("route \(earlier[0]) takes the shared requests", at: span(routes[f.earlier[0]], fallback))],
                notes: ["each route also matches requests the other does not, so neither is simply more specific"],
                help: "if \(me) should win for the shared requests, move it first; otherwise narrow one match so they no longer overlap",
                witness: example)
        }
    }

    static func unmatchable(_ u: UnmatchableRoute, routes: [Route], fallback: SourceSpan, locate: ConditionLocator?) -> Diagnostic {
        let r = routes[u.route]
        let at = r.source.flatMap { s in locate?(s, u.cause) } ?? span(r, fallback)
        let help: String
        switch u.cause {
        case .path:
            switch r.match.pathSpecifier {
            case .safeRegex(let re) where Language.regex(re).intersects(.prefix("/")) == false:
                help = "Envoy matches the regex against the whole path, which always starts with `/`; start the pattern with `/`"
            case .prefix(let p), .path(let p), .pathSeparatedPrefix(let p):
                help =
                    p.hasPrefix("/")
                    ? "`\(p)` holds a character no routed path has: the query is cut off at `?` first, and Envoy rejects `#` and control characters"
                    : "every path Envoy routes starts with `/`; write `/\(p)`"
            default:
                help =
                    "no path the router sees matches the regex: the query is cut off at `?` first, and Envoy rejects `#` and control characters such as a newline"
            }
        case .field(let name, let isQuery):
            help =
                isQuery
                ? "the conditions on query parameter `\(name)` exclude every value a request can carry (a value ends at `&`, and Envoy rejects `#` and control characters)"
                : "the conditions on header `\(name)` exclude every value and absence too"
        }
        return Diagnostic(
            .routeUnmatchable, "route \(label(routes, u.route)) can never match a request", at: at,
            label: "matches nothing", notes: ["Envoy skips it for every request; the routes after it are tried instead"],
            help: help)
    }

    static func listed(_ names: [String]) -> String {
        names.count <= 2 ? names.joined(separator: " and ") : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    // MARK: - Conversion

    /// The analysis's view of an Envoy route match.
    static func constraint(_ m: RouteMatch) -> RouteConstraint {
        let cs = m.caseSensitive ?? true
        let path: PathConstraint
        switch m.pathSpecifier {
        case .prefix(let p): path = .prefix(p, caseSensitive: cs)
        case .path(let p): path = .exact(p, caseSensitive: cs)
        case .safeRegex(let r): path = .regex(r)
        case .pathSeparatedPrefix(let p): path = .pathSeparatedPrefix(p, caseSensitive: cs)
        // CONNECT routes match on the method alone; the analysis has no CONNECT dimension.
        case .connectMatcher: path = .prefix("", caseSensitive: true)
        }
        // Conditions xdsc does not evaluate make the route opaque: never a guess.
        var opaque =
            m.runtimeFraction != nil || m.pathSpecifier == .connectMatcher || !m.unmodeledCriteria.isEmpty
            || !m.dynamicMetadata.isEmpty
        var headers: [FieldConstraint] = []
        for h in m.headers {
            let match: FieldMatch
            var ignoreCase = false
            switch h.specifier {
            case nil: match = .present(true)
            case .present(let p): match = .present(p)
            // An empty `exact_match` accepts every value but is no presence matcher: inverted,
            // it matches nothing, and a missing header fails it (HeaderUtility::matchHeaders).
            case .deprecatedExact(let s): match = s.isEmpty ? .prefix("") : .exact(s)
            case .string(let sm):
                match = fieldMatch(sm.pattern)
                ignoreCase = sm.ignoreCase
            case .range:
                // Integer ranges are not modelled; treat the route as opaque.
                opaque = true
                continue
            }
            headers.append(
                FieldConstraint(
                    name: h.name.lowercased(), match: match, ignoreCase: ignoreCase, invert: h.invertMatch,
                    treatMissingAsEmpty: h.treatMissingHeaderAsEmpty))
        }
        let query = m.queryParameters.map { q -> FieldConstraint in
            if let sm = q.stringMatch {
                return FieldConstraint(name: q.name, match: fieldMatch(sm.pattern), ignoreCase: sm.ignoreCase)
            }
            // `present_match: false` means "absent" since Envoy 1.34 (router/config_utility.cc,
            // runtime guard `enable_new_query_param_present_match_behavior`, on by default), the
            // behaviour `QueryParameterMatcher.matches` models; no specifier means "present".
            return FieldConstraint(name: q.name, match: .present(q.presentMatch ?? true))
        }
        return RouteConstraint(path: path, headers: headers, query: query, grpc: m.grpc, opaque: opaque)
    }

    static func fieldMatch(_ p: StringMatcher.Pattern) -> FieldMatch {
        switch p {
        case .exact(let s): .exact(s)
        case .prefix(let s): .prefix(s)
        case .suffix(let s): .suffix(s)
        case .contains(let s): .contains(s)
        case .safeRegex(let r): .regex(r)
        }
    }

    /// A Host header that selects this virtual host: its first exact domain, else a wildcard
    /// domain filled in.
    public static func exampleHost(_ domains: [String]) -> String {
        if let exact = domains.first(where: { !$0.contains("*") }) { return exact.lowercased() }
        guard let d = domains.first, d != "*" else { return "example.com" }
        if d.hasPrefix("*") { return "a" + d.dropFirst().lowercased() }
        // `HOST:*` is every port of HOST: fill in a port, not a name.
        if d.hasSuffix(":*") { return d.dropLast().lowercased() + "8080" }
        return d.dropLast().lowercased() + "com"
    }

    /// The witness sent to `host` (plain http, random value 0), unless a `:authority`
    /// constraint already gave it one: the request the engine replays and the example a
    /// finding shows.
    public static func request(_ w: EnvoyRequest, host: String) -> EnvoyRequest {
        var r = w
        if r.authority == nil { r.authority = host }
        return r
    }
}
