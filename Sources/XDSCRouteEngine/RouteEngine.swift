import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest

/// Envoy's router, offline: virtual-host selection, first-match routing and the route's
/// action, with the request and response header finalisation of `config_impl.cc` and
/// `header_parser.cc`. Pure and deterministic; build it once per route table. Immutable and
/// shared by reference: the proxy hands it to each request, which then costs one retain
/// instead of a copy of every table it holds.
public final class RouteEngine: Sendable {
    /// Which program's behaviour to reproduce where Envoy and its route-check tool differ.
    public enum Semantics: Sendable, Equatable {
        /// A running Envoy with no runtime overrides.
        case envoy
        /// `router_check_tool`: runtime fractions only for the test's `runtime` key, the
        /// local reply's content headers before the response mutations, no `Location` on a
        /// direct response.
        case routerCheckTool(runtimeKey: String?)
    }

    /// The table.
    public let config: RouteConfiguration
    /// Spans of field paths (Envoy files); elements without one fall back to the route's or
    /// virtual host's `source`.
    public let spans: [String: SourceSpanRef]
    /// Virtual-host selection by domain (`RouteMatcher::findVirtualHost`).
    public let hosts: VirtualHostSelector
    let indexes: [RouteIndex]
    let levelOrder: [MutationLevel]
    let hostRefs: [Ref<VirtualHost>]
    let routeRefs: [[Ref<Route>]]
    let actionRefs: [[Ref<RouteAction>?]]
    let matchTables: [MatchTable]
    /// The router filter's settings (its `typed_config` on the listener that serves the
    /// table); Envoy's defaults when the table is decided alone.
    public let router: HttpConnectionManager.RouterFilterConfig

    /// An engine for `config`.
    public init(
        _ config: RouteConfiguration, spans: [String: SourceSpanRef] = [:], router: HttpConnectionManager.RouterFilterConfig = .init()
    ) {
        self.router = router
        self.config = config
        self.spans = spans
        self.hosts = VirtualHostSelector(config)
        self.indexes = config.virtualHosts.map { RouteIndex($0.routes) }
        self.levelOrder = Self.levels(config)
        self.hostRefs = config.virtualHosts.map(Ref.init)
        self.routeRefs = config.virtualHosts.map { $0.routes.map(Ref.init) }
        self.matchTables = config.virtualHosts.map { MatchTable($0.routes.map(\.match)) }
        self.actionRefs = config.virtualHosts.map {
            $0.routes.map { route in
                if case .route(let a) = route.action { return Ref(a) }
                return nil
            }
        }
    }

    // MARK: - Origins

    /// The origin of `field` under `owner`: its span when the table has one for that path,
    /// else `fallback` (spelling the path out only to look it up).
    func origin(_ owner: Origin.Owner, _ field: String, fallback: SourceSpan?) -> Origin {
        var o = Origin(owner, field, span: fallback)
        if !spans.isEmpty, let s = spans[o.path] { o.span = s.span }
        return o
    }

    // MARK: - Virtual host

    /// `RouteMatcher::findVirtualHost`, with where the chosen host is written.
    public func selectVirtualHost(_ headers: HeaderMap) -> Result<VirtualHostChoice, NoRouteReason> {
        hosts.select(headers).map { c in
            VirtualHostChoice(
                index: c.index, name: config.virtualHosts[c.index].name, reason: c.reason, comparedHost: c.comparedHost,
                origin: origin(.host(c.index), "", fallback: config.virtualHosts[c.index].source))
        }
    }

    // MARK: - Decision

    /// What `VirtualHostImpl::getRouteFromEntries` does before it tries any route.
    enum Gate {
        /// No `x-forwarded-proto` (or an empty one): no route.
        case missingForwardedProto
        /// `require_tls` is not met: the 301 to https.
        case tlsRedirect
        /// The routes are tried.
        case open
    }

    /// `VirtualHostImpl::getRouteFromEntries`: the scheme check and `require_tls`, compared
    /// with `https` exactly (`scheme != "https"`), `EXTERNAL_ONLY` sparing internal requests.
    func gate(host h: Int, _ headers: HeaderMap) -> Gate {
        guard let proto = headers.first("x-forwarded-proto"), !proto.isEmpty else { return .missingForwardedProto }
        let requireTLS = hostRefs[h].value.requireTLS
        if requireTLS != .none && proto != "https" && (requireTLS == .all || headers.first("x-envoy-internal") != "true") {
            return .tlsRedirect
        }
        return .open
    }

    /// Routes `request` as Envoy does. With `trace`, every route tried is recorded with the
    /// condition that failed; without it the engine may skip routes an index rules out.
    /// `responseHeaders` seeds the upstream response (the tool's `additional_response_headers`).
    ///
    /// The route is chosen by the same steps as ``select(_:semantics:)`` (which builds no
    /// explanation); this adds the trace, the origins, the header finalisation and the policies.
    public func decide(
        _ request: EnvoyRequest, semantics: Semantics = .envoy, trace: Bool = true, responseHeaders: [HTTPHeader] = []
    ) -> RouteDecision {
        let headers = request.headerMap
        let vh: VirtualHostChoice
        switch selectVirtualHost(headers) {
        case .failure(let reason):
            return RouteDecision(
                request: request, outcome: .noRoute(reason), requestHeaders: headers, responseHeaders: HeaderMap(responseHeaders))
        case .success(let v): vh = v
        }
        var d = RouteDecision(
            request: request, virtualHost: vh, outcome: .noRoute(.noRouteMatched), requestHeaders: headers,
            responseHeaders: HeaderMap(responseHeaders))
        let host = hostRefs[vh.index]
        d.tlsRequirement = host.value.requireTLS
        switch gate(host: vh.index, headers) {
        case .missingForwardedProto:
            d.outcome = .noRoute(.missingForwardedProto)
            return d
        case .tlsRedirect:
            tlsRedirect(&d, host: vh.index, semantics: semantics)
            return d
        case .open: break
        }
        let path = RequestPath(headers.first(":path"))
        let runtime = runtimeValues(semantics)
        let winner =
            trace
            ? tracedMatch(host: vh.index, headers, request, path: path, runtime: runtime, into: &d)
            : indexedMatch(host: vh.index, headers, request, path: path, runtime: runtime)
        if !host.value.virtualClusters.isEmpty {
            d.virtualCluster = Self.virtualCluster(host.value, headers)
        }
        guard let ri = winner else {
            d.outcome = .noRoute(.noRouteMatched)
            return d
        }
        let route = routeRefs[vh.index][ri]
        d.routeIndex = ri
        d.routeName = route.value.name
        d.routeOrigin = origin(.route(host: vh.index, route: ri), "", fallback: route.value.source)
        apply(route, hostIndex: vh.index, routeIndex: ri, headers: headers, semantics: semantics, into: &d)
        return d
    }

    /// `require_tls` not met: a 301 to `https://` + Host + `:path`, both as received.
    func tlsRedirect(_ d: inout RouteDecision, host h: Int, semantics: Semantics) {
        let headers = d.requestHeaders
        let location = "https://" + (headers.first(":authority") ?? "") + (headers.first(":path") ?? "")
        d.outcome = .tlsRedirect(
            RedirectOutcome(
                location: location, status: 301, rewrittenPath: nil,
                origin: origin(.host(h), ".require_tls", fallback: hostRefs[h].value.source)))
        localReply(&d, body: "", location: location, status: 301, semantics: semantics)
    }

    /// The first route of host `h` that matches, in order: the index proposes the
    /// candidates, each checked in full by ``firstFailure(_:_:_:runtime:path:explain:)``.
    func indexedMatch(host h: Int, _ headers: HeaderMap, _ request: EnvoyRequest, path: RequestPath, runtime: RuntimeValues) -> Int? {
        // The matches are read in place from their buffer: a match is lent, never copied.
        matchTables[h].matches.withUnsafeBufferPointer { matches in
            indexes[h].first(path.withoutQuery) { i in
                Self.firstFailure(matches[i], headers, request, runtime: runtime, path: path, explain: false) == nil
            }
        }
    }

    /// The first route of host `h` that matches, trying every route in order (Envoy's scan)
    /// and recording each in `d.attempts` with the condition that failed.
    func tracedMatch(
        host h: Int, _ headers: HeaderMap, _ request: EnvoyRequest, path: RequestPath, runtime: RuntimeValues, into d: inout RouteDecision
    ) -> Int? {
        let routes = routeRefs[h]
        d.attempts.reserveCapacity(routes.count)
        for (i, r) in routes.enumerated() {
            let failure = Self.firstFailure(r.value.match, headers, request, runtime: runtime, path: path, explain: true)
            d.attempts.append(
                RouteAttempt(
                    index: i, name: r.value.name, failure: failure, origin: origin(.route(host: h, route: i), "", fallback: r.value.source))
            )
            if failure == nil { return i }
        }
        return nil
    }

    func runtimeValues(_ s: Semantics) -> RuntimeValues {
        switch s {
        case .envoy: .defaults
        case .routerCheckTool(let key): .routerCheckTool(enabledKey: key)
        }
    }

    /// The first virtual cluster whose headers all match, else `other`.
    public static func virtualCluster(_ host: VirtualHost, _ headers: HeaderMap) -> String? {
        guard !host.virtualClusters.isEmpty else { return nil }
        for vc in host.virtualClusters where vc.headers.allSatisfy({ $0.matches(headerValue: headers.get($0.name)) }) {
            return vc.name
        }
        return "other"
    }

    // MARK: - Matching

    /// `RouteEntryImplBase::matchRoute` then the path specifier; nil when the route matches.
    public static func firstFailure(_ m: RouteMatch, _ headers: HeaderMap, _ request: EnvoyRequest, runtime: RuntimeValues)
        -> MatchFailure?
    {
        firstFailure(m, headers, request, runtime: runtime, path: RequestPath(headers.first(":path")), explain: true)
    }

    /// Whether route match `m` takes `request` (``firstFailure(_:_:_:runtime:)`` finds nothing):
    /// the engine's own matcher, for callers that test one route's conditions alone.
    public static func matches(_ m: RouteMatch, _ request: EnvoyRequest, runtime: RuntimeValues = .defaults) -> Bool {
        let headers = request.headerMap
        return firstFailure(m, headers, request, runtime: runtime, path: RequestPath(headers.first(":path")), explain: false) == nil
    }

    /// `:path` and its part before the query, found once per request.
    struct RequestPath {
        var full: String?
        var withoutQuery: Substring?
        init(_ path: String?) {
            full = path
            withoutQuery = path.map(EnvoyRequest.pathWithoutQuery)
        }
    }

    /// With `explain` false the failure is only a verdict: its texts (the runtime
    /// arithmetic, the path) are left empty, so routing a request formats nothing.
    static func firstFailure(
        _ m: RouteMatch, _ headers: HeaderMap, _ request: EnvoyRequest, runtime: RuntimeValues, path rp: RequestPath, explain: Bool
    ) -> MatchFailure? {
        let random = request.randomValue
        if let rf = m.runtimeFraction {
            let dv = rf.defaultValue
            var numerator = UInt64(dv.numerator)
            let den = dv.denominator.value
            switch runtime {
            case .defaults:
                if random % den >= numerator {
                    return .runtimeFraction(detail: explain ? Self.fractionOff(random, den, numerator) : "")
                }
            case .routerCheckTool(let key):
                guard let key, key == rf.runtimeKey else {
                    return .runtimeFraction(detail: explain ? Self.fractionNotEnabled(rf.runtimeKey) : "")
                }
                numerator = max(numerator, 1)
                if random % den >= numerator {
                    return .runtimeFraction(detail: explain ? Self.fractionOff(random, den, numerator) : "")
                }
            }
        }
        if m.grpc {
            let ct = headers.first("content-type")
            guard let ct, ct.utf8.elementsEqual("application/grpc".utf8) || ct.utf8.starts(with: "application/grpc+".utf8)
            else { return .grpc(contentType: ct) }
        }
        for (i, h) in m.headers.enumerated() {
            let v = headers.get(h.name)
            if !h.matches(headerValue: v) { return .header(index: i, name: h.name, actual: v) }
        }
        let path = rp.full
        if !m.queryParameters.isEmpty {
            for (i, q) in m.queryParameters.enumerated() {
                let v = EnvoyRequest.queryParameter(q.name, in: path ?? "")
                if !q.matches(firstValue: v) { return .queryParameter(index: i, name: q.name, actual: v) }
            }
        }
        for (i, mm) in m.dynamicMetadata.enumerated() where !Self.matches(mm, request.dynamicMetadata) {
            return .dynamicMetadata(index: i, filter: mm.filter)
        }
        if m.pathSpecifier == .connectMatcher {
            // `ConnectRouteEntryImpl::matches` (config_impl.cc): any CONNECT request, whatever its path.
            if headers.first(":method") == "CONNECT" { return nil }
            return .path(specifier: m.pathSpecifier, caseSensitive: m.caseSensitive, path: explain ? path ?? "" : "")
        }
        guard let noQuery = rp.withoutQuery else { return .noPath }
        if !Self.pathMatches(m, noQuery) {
            return .path(specifier: m.pathSpecifier, caseSensitive: m.caseSensitive, path: explain ? String(noQuery) : "")
        }
        return nil
    }

    static func fractionOff(_ random: UInt64, _ den: UInt64, _ numerator: UInt64) -> String {
        let bucket = random % den
        return "\(random) % \(den) = \(bucket) is not below \(numerator)"
    }

    static func fractionNotEnabled(_ key: String?) -> String { "the test's runtime does not enable `\(key ?? "")`" }

    /// The path specifier on the path without query: bytes compared, ASCII letters folded
    /// when `case_sensitive` is false (`Matchers::PathMatcher`); regexes full-match with RE2.
    static func pathMatches(_ m: RouteMatch, _ path: Substring) -> Bool {
        let fold = m.caseSensitive == false
        switch m.pathSpecifier {
        case .prefix(let p):
            return bytesMatch(path, p, fold: fold) { n, _ in n >= 0 }
        case .path(let p):
            return bytesMatch(path, p, fold: fold) { n, _ in n == 0 }
        case .pathSeparatedPrefix(let p):
            // The prefix, then the end of the path or a `/`.
            return bytesMatch(path, p, fold: fold) { n, next in n == 0 || next == UInt8(ascii: "/") }
        case .safeRegex(let r):
            return RegexCache.shared.pattern(r)?.fullMatch(String(path)) ?? false
        case .connectMatcher:
            return false
        }
    }

    /// Whether `path` starts with `p`'s bytes (ASCII letters folded with `fold`) and `rest`
    /// accepts what follows: the number of bytes left and the first of them (0 when none).
    /// Both strings are read as byte buffers (native strings are contiguous), so matching a
    /// route costs a loop over the pattern's bytes, not index arithmetic per byte.
    @inline(__always)
    static func bytesMatch(_ path: Substring, _ p: String, fold: Bool, rest: (Int, UInt8) -> Bool) -> Bool {
        func run(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
            guard a.count >= b.count else { return false }
            if fold {
                for i in 0..<b.count {
                    var x = a[i]
                    var y = b[i]
                    if x &- 0x41 < 26 { x += 32 }
                    if y &- 0x41 < 26 { y += 32 }
                    if x != y { return false }
                }
            } else {
                for i in 0..<b.count where a[i] != b[i] { return false }
            }
            return rest(a.count - b.count, a.count > b.count ? a[b.count] : 0)
        }
        if let r = path.utf8.withContiguousStorageIfAvailable({ a in p.utf8.withContiguousStorageIfAvailable { b in run(a, b) } }),
            let r
        {
            return r
        }
        return Array(path.utf8).withUnsafeBufferPointer { a in Array(p.utf8).withUnsafeBufferPointer { b in run(a, b) } }
    }

    static func describe(_ p: RouteMatch.PathSpecifier, _ caseSensitive: Bool?) -> String {
        let ci = caseSensitive == false ? " (case-insensitive)" : ""
        switch p {
        case .prefix(let s): return "prefix `\(s)`\(ci)"
        case .path(let s): return "path `\(s)`\(ci)"
        case .safeRegex(let r): return "safe_regex `\(r)`"
        case .pathSeparatedPrefix(let s): return "path_separated_prefix `\(s)`\(ci)"
        case .connectMatcher: return "connect_matcher (CONNECT requests only)"
        }
    }

    /// `Matchers::MetadataMatcher::match`: the value at the path (an unset value when any
    /// key is missing), matched, XOR `invert`.
    static func matches(_ m: MetadataMatcher, _ metadata: JSONObject) -> Bool {
        var value: JSON? = metadata[m.filter]
        for key in m.path {
            guard case .object(let o)? = value else {
                value = nil
                break
            }
            value = o[key]
        }
        let result: Bool
        switch m.value {
        case .string(let sm):
            if case .string(let s)? = value { result = sm.matches(s) } else { result = false }
        case .present(let p): result = p == (value != nil)
        case .bool(let b): result = value == .bool(b)
        case .null: result = value == .null
        case .doubleExact(let x):
            switch value {
            case .int(let i)?: result = Double(i) == x
            case .double(let v)?: result = v == x
            default: result = false
            }
        case .doubleRange(let s, let e):
            var v: Double?
            if case .int(let i)? = value { v = Double(i) }
            if case .double(let x)? = value { v = x }
            result = v.map { s <= $0 && $0 < e } ?? false
        }
        return result != m.invert
    }
}

/// A span, boxed so the engine's span table stays cheap to copy.
public struct SourceSpanRef: Sendable, Equatable {
    /// The span.
    public var span: SourceSpan
    /// A boxed `span`.
    public init(_ span: SourceSpan) { self.span = span }
}
