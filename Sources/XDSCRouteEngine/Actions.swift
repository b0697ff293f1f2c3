import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest

extension RouteEngine {
    /// The winning route's action, with header finalisation
    /// (`RouteEntryImplBase::finalizeRequestHeaders` / `finalizeResponseHeaders`).
    func apply(
        _ route: Ref<Route>, hostIndex h: Int, routeIndex r: Int, headers: HeaderMap, semantics: Semantics, into d: inout RouteDecision
    ) {
        let rt = Origin.Owner.route(host: h, route: r)
        if let a = actionRefs[h][r] {
            forward(route, a, hostIndex: h, routeIndex: r, headers: headers, runtime: runtimeValues(semantics), into: &d)
            return
        }
        let host = hostRefs[h].value
        switch route.value.action {
        case .route: break
        case .redirect(let redirect):
            var req = headers
            var rewritten: String?
            if let path = req.first(":path") {
                switch redirect.path {
                case .prefixRewrite(let p) where !p.isEmpty: rewritten = Self.prefixRewrite(path, route.value.match, p)
                case .regexRewrite(let rx): rewritten = Self.regexRewrite(path, rx.pattern, rx.substitution)
                default: break
                }
                if let rewritten {
                    updatePath(&req, from: path, to: rewritten, into: &d, origin: origin(rt, ".redirect", fallback: route.value.source))
                }
            }
            let location = Self.newURI(redirect, req)
            d.requestHeaders = req
            d.outcome = .redirect(
                RedirectOutcome(
                    location: location, status: redirect.responseCode.status, rewrittenPath: rewritten,
                    origin: origin(rt, ".redirect", fallback: route.value.source)))
            localReply(
                &d, body: "", location: location, status: redirect.responseCode.status, semantics: semantics, route: route.value, h: h,
                r: r)
            d.filterConfigs = filterConfigs(route.value, nil, nil, nil, host: host, h: h, r: r)
        case .directResponse(let dr):
            let location = Self.newURI(nil, headers)
            d.outcome = .directResponse(
                DirectResponseOutcome(
                    status: dr.status, body: dr.body ?? "", origin: origin(rt, ".direct_response", fallback: route.value.source)))
            localReply(
                &d, body: dr.body ?? "", location: location, status: dr.status, semantics: semantics, route: route.value, h: h, r: r)
            d.filterConfigs = filterConfigs(route.value, nil, nil, nil, host: host, h: h, r: r)
        }
    }

    /// The levels in evaluation order (`getHeaderParsers`): route, virtual host, route
    /// configuration, so the least specific overwrite wins, unless
    /// `most_specific_header_mutations_wins` reverses them.
    func levels() -> [MutationLevel] { levelOrder }

    static func levels(_ config: RouteConfiguration) -> [MutationLevel] {
        config.mostSpecificHeaderMutationsWins ? [.routeConfiguration, .virtualHost, .route] : [.route, .virtualHost, .routeConfiguration]
    }

    func requestParser(_ level: MutationLevel, route: Route, host: VirtualHost, h: Int, r: Int)
        -> ([HeaderValueOption], [String], Origin.Owner, SourceSpan?)
    {
        switch level {
        case .route: (route.requestHeadersToAdd, route.requestHeadersToRemove, .route(host: h, route: r), route.source)
        case .virtualHost: (host.requestHeadersToAdd, host.requestHeadersToRemove, .host(h), host.source)
        default: (config.requestHeadersToAdd, config.requestHeadersToRemove, .configuration, config.source)
        }
    }

    func responseParser(_ level: MutationLevel, route: Route, host: VirtualHost, h: Int, r: Int)
        -> ([HeaderValueOption], [String], Origin.Owner, SourceSpan?)
    {
        switch level {
        case .route: (route.responseHeadersToAdd, route.responseHeadersToRemove, .route(host: h, route: r), route.source)
        case .virtualHost: (host.responseHeadersToAdd, host.responseHeadersToRemove, .host(h), host.source)
        default: (config.responseHeadersToAdd, config.responseHeadersToRemove, .configuration, config.source)
        }
    }

    /// `HeaderParser::evaluateHeaders`: removals first, then every value is formatted on the
    /// headers as they are now, then overwrites, then appends. The options are `field`
    /// (`""` for the level itself) under `owner`.
    func evaluate(
        _ add: [HeaderValueOption], _ remove: [String], _ level: MutationLevel, _ owner: Origin.Owner, _ field: String, response: Bool,
        map: inout HeaderMap, request: HeaderMap, into d: inout RouteDecision, fallback: SourceSpan?
    ) {
        if add.isEmpty && remove.isEmpty { return }
        let kind = response ? "response" : "request"
        let prefix = field + (owner == .configuration ? "" : ".")
        for (i, name) in remove.enumerated() {
            map.remove(name)
            d.mutations.append(
                .init(
                    response: response, level: level, operation: .remove, name: name.asciiLowercased, value: nil,
                    origin: origin(owner, prefix + "\(kind)_headers_to_remove[\(i)]", fallback: fallback)))
        }
        var overwrites: [(String, String, Origin)] = []
        var appends: [(String, String, Origin)] = []
        let formatRequest = response ? request : map
        for (i, o) in add.enumerated() {
            let og = origin(owner, prefix + "\(kind)_headers_to_add[\(i)]", fallback: fallback)
            let value = Formatter.format(o.value, request: formatRequest, downstream: d.request)
            let name = o.key.asciiLowercased
            if value.isEmpty && !o.keepEmptyValue {
                d.mutations.append(.init(response: response, level: level, operation: .skipped, name: name, value: value, origin: og))
                continue
            }
            switch o.appendAction {
            case .appendIfExistsOrAdd: appends.append((name, value, og))
            case .addIfAbsent:
                if map.has(name) {
                    d.mutations.append(.init(response: response, level: level, operation: .skipped, name: name, value: value, origin: og))
                } else {
                    appends.append((name, value, og))
                }
            case .overwriteIfExists:
                if map.has(name) {
                    overwrites.append((name, value, og))
                } else {
                    d.mutations.append(.init(response: response, level: level, operation: .skipped, name: name, value: value, origin: og))
                }
            case .overwriteIfExistsOrAdd: overwrites.append((name, value, og))
            }
        }
        // `setReferenceKey`: every occurrence removed, the new value added at the end.
        for (n, v, og) in overwrites {
            map.remove(n)
            map.add(n, v)
            d.mutations.append(.init(response: response, level: level, operation: .overwrite, name: n, value: v, origin: og))
        }
        for (n, v, og) in appends {
            map.add(n, v)
            d.mutations.append(.init(response: response, level: level, operation: .append, name: n, value: v, origin: og))
        }
    }

    /// A path rewrite: the old path goes to `x-envoy-original-path` (unless the router filter
    /// has `suppress_envoy_headers`: `insert_envoy_original_path` is false), then `:path` is replaced.
    func updatePath(_ req: inout HeaderMap, from path: String, to rewritten: String, into d: inout RouteDecision, origin o: Origin) {
        if !router.suppressEnvoyHeaders {
            req.set("x-envoy-original-path", path)
            d.mutations.append(
                .init(response: false, level: .router, operation: .overwrite, name: "x-envoy-original-path", value: path, origin: o))
        }
        req.set(":path", rewritten)
        d.mutations.append(.init(response: false, level: .router, operation: .overwrite, name: ":path", value: rewritten, origin: o))
    }

    /// `Http::Utility::updateAuthority`: the old Host goes to `x-envoy-original-host` (and
    /// `x-forwarded-host` with `append_x_forwarded_host`), then Host is replaced.
    func updateAuthority(_ req: inout HeaderMap, _ host: String, appendXFH: Bool, into d: inout RouteDecision, origin o: Origin) {
        if let old = req.first(":authority"), !old.isEmpty {
            req.set("x-envoy-original-host", old)
            d.mutations.append(
                .init(response: false, level: .router, operation: .overwrite, name: "x-envoy-original-host", value: old, origin: o))
            // Appended only when it is not already the last value (`absl::SkipWhitespace` pieces).
            let current = req.get("x-forwarded-host")
            let last = current?.split(separator: ",").last { !$0.allSatisfy { $0 == " " || $0 == "\t" } }
            if appendXFH && last.map({ $0 != old }) ?? true {
                let xfh = current.map { $0 + "," + old } ?? old
                req.set("x-forwarded-host", xfh)
                d.mutations.append(
                    .init(response: false, level: .router, operation: .overwrite, name: "x-forwarded-host", value: xfh, origin: o))
            }
        }
        req.set(":authority", host)
        d.mutations.append(.init(response: false, level: .router, operation: .overwrite, name: ":authority", value: host, origin: o))
    }

    /// A reply Envoy sends itself (redirect, direct response, TLS redirect).
    func localReply(
        _ d: inout RouteDecision, body: String, location: String, status: Int, semantics: Semantics, route: Route? = nil, h: Int = 0,
        r: Int = 0
    ) {
        var resp = d.responseHeaders
        func contentHeaders(_ resp: inout HeaderMap, onlyIfAbsent: Bool) {
            let o = Origin(route == nil ? .host(h) : .route(host: h, route: r), "")
            if body.isEmpty {
                resp.remove("content-length")
                resp.remove("content-type")
            } else {
                resp.set("content-length", String(body.utf8.count))
                d.mutations.append(
                    .init(
                        response: true, level: .router, operation: .overwrite, name: "content-length", value: String(body.utf8.count),
                        origin: o))
                if !onlyIfAbsent || !resp.has("content-type") {
                    resp.set("content-type", "text/plain")
                    d.mutations.append(
                        .init(response: true, level: .router, operation: .overwrite, name: "content-type", value: "text/plain", origin: o))
                }
            }
        }
        func mutations(_ resp: inout HeaderMap) {
            guard let route else { return }
            let host = hostRefs[h].value
            for level in levels() {
                let (add, remove, owner, fallback) = responseParser(level, route: route, host: host, h: h, r: r)
                evaluate(add, remove, level, owner, "", response: true, map: &resp, request: d.requestHeaders, into: &d, fallback: fallback)
            }
        }
        switch semantics {
        case .routerCheckTool:
            // The tool simulates the local reply first, then finalises the response.
            contentHeaders(&resp, onlyIfAbsent: false)
            mutations(&resp)
        case .envoy:
            // The router's modify-headers callback runs before the local reply adds its
            // content headers (router.cc, `Filter::decodeHeaders`), and adds `Location` on 201
            // and 3xx, computed only when the request has a `:path`.
            resp = HeaderMap()
            if status == 201 || (300..<400).contains(status), d.requestHeaders.has(":path") {
                resp.add("location", location)
                d.mutations.append(
                    .init(
                        response: true, level: .router, operation: .append, name: "location", value: location,
                        origin: Origin(.route(host: h, route: r), "")))
            }
            mutations(&resp)
            contentHeaders(&resp, onlyIfAbsent: true)
        }
        d.responseHeaders = resp
    }

    /// Envoy's pick (`WeightedClusterSpecifierPlugin::pickWeightedCluster`): the selection
    /// value (a single-valued `header_name` header holding a uint64, else the random
    /// value), `value % total` over cumulative half-open intervals in order.
    static func weightedChoice(_ w: WeightedClusters, _ headers: HeaderMap, random: UInt64)
        -> (value: UInt64, source: WeightedPick.ValueSource, total: UInt64, bucket: UInt64, picked: Int)
    {
        var value = random
        var source = WeightedPick.ValueSource.random
        if let name = w.headerName {
            let values = headers.values(name)
            if values.count == 1, let v = HeaderMatcher.simpleAtoiUnsigned(values[0]) {
                value = v
                source = .header
            }
        }
        if source == .random && w.useHashPolicy { source = .randomInsteadOfHash }
        var total: UInt64 = 0
        for c in w.clusters { total += UInt64(c.weight) }
        let bucket = total == 0 ? 0 : value % total
        var end: UInt64 = 0
        var picked = max(0, w.clusters.count - 1)
        for (i, c) in w.clusters.enumerated() {
            end += UInt64(c.weight)
            if bucket < end {
                picked = i
                break
            }
        }
        return (value, source, total, bucket, picked)
    }

    /// The split and Envoy's pick (``weightedChoice(_:_:random:)``), with each entry's interval.
    func weightedPick(
        _ w: WeightedClusters, _ headers: HeaderMap, random: UInt64, owner: Origin.Owner, field: String, fallback: SourceSpan?
    ) -> WeightedPick {
        let choice = Self.weightedChoice(w, headers, random: random)
        var entries: [WeightedPick.Entry] = []
        var end: UInt64 = 0
        for (i, c) in w.clusters.enumerated() {
            let start = end
            end += UInt64(c.weight)
            entries.append(
                .init(
                    name: c.name, clusterHeader: c.clusterHeader, weight: UInt64(c.weight), start: start, end: end,
                    origin: origin(owner, field + ".clusters[\(i)]", fallback: fallback)))
        }
        return WeightedPick(
            selectionValue: choice.value, valueSource: choice.source, headerName: w.headerName, totalWeight: choice.total,
            bucket: choice.bucket, entries: entries, picked: choice.picked)
    }

    /// Per-filter configuration, most specific level first wins per filter name.
    func filterConfigs(
        _ route: Route, _ a: RouteAction?, _ entry: WeightedClusters.Entry?, _ entryIndex: Int?, host: VirtualHost, h: Int, r: Int
    ) -> [AppliedFilterConfig] {
        var out: [AppliedFilterConfig] = []
        var seen = Set<String>()
        let rt = Origin.Owner.route(host: h, route: r)
        func add(_ c: AppliedFilterConfig) {
            guard seen.insert(c.filter).inserted else { return }
            out.append(c)
        }
        func add(_ name: String, _ level: MutationLevel, _ config: JSON, _ owner: Origin.Owner, _ field: String, _ fallback: SourceSpan?) {
            add(AppliedFilterConfig(filter: name, level: level, config: config, origin: origin(owner, field, fallback: fallback)))
        }
        for c in typedFilterConfigs(route, entry, entryIndex, host: host, h: h, r: r) { add(c) }
        if let cors = a?.cors {
            add("cors (deprecated field)", .route, cors, rt, ".route.cors", route.source)
        } else if let cors = host.cors {
            add("cors (deprecated field)", .virtualHost, cors, .host(h), ".cors", host.source)
        }
        if let a, !a.rateLimits.isEmpty {
            add("rate_limits", .route, .array(a.rateLimits), rt, ".route.rate_limits", route.source)
        }
        if !host.rateLimits.isEmpty && (a == nil || a!.rateLimits.isEmpty || a!.includeVirtualHostRateLimits) {
            add("rate_limits (virtual host)", .virtualHost, .array(host.rateLimits), .host(h), ".rate_limits", host.source)
        }
        return out
    }

    /// Every level's `typed_per_filter_config` entries, most specific level first: the
    /// weighted cluster entry, the route, the virtual host, the route configuration.
    func typedFilterConfigs(
        _ route: Route, _ entry: WeightedClusters.Entry?, _ entryIndex: Int?, host: VirtualHost, h: Int, r: Int
    ) -> [AppliedFilterConfig] {
        var out: [AppliedFilterConfig] = []
        let rt = Origin.Owner.route(host: h, route: r)
        func add(_ name: String, _ level: MutationLevel, _ config: JSON, _ owner: Origin.Owner, _ field: String, _ fallback: SourceSpan?) {
            out.append(AppliedFilterConfig(filter: name, level: level, config: config, origin: origin(owner, field, fallback: fallback)))
        }
        if let entry, let i = entryIndex {
            for e in entry.typedPerFilterConfig {
                add(
                    e.name, .weightedCluster, e.config.json,
                    rt, ".route.weighted_clusters.clusters[\(i)].typed_per_filter_config", route.source)
            }
        }
        for e in route.typedPerFilterConfig {
            add(e.name, .route, e.config.json, rt, ".typed_per_filter_config", route.source)
        }
        for e in host.typedPerFilterConfig {
            add(e.name, .virtualHost, e.config.json, .host(h), ".typed_per_filter_config", host.source)
        }
        for e in config.typedPerFilterConfig {
            add(e.name, .routeConfiguration, e.config.json, .configuration, "typed_per_filter_config", config.source)
        }
        return out
    }

    /// The CORS policies of a forwarding route, most specific first
    /// (`CorsFilter::initializeCorsPolicies`, cors_filter.cc): every level's
    /// `typed_per_filter_config` of the CORS filter; only when there is none, the deprecated
    /// `cors` fields of the route and then of the virtual host.
    func corsPolicies(
        _ route: Route, _ a: RouteAction, _ entry: WeightedClusters.Entry?, _ entryIndex: Int?, host: VirtualHost, h: Int, r: Int
    ) -> [AppliedFilterConfig] {
        let typed = typedFilterConfigs(route, entry, entryIndex, host: host, h: h, r: r).filter {
            $0.filter == HTTPFilterKind.cors.filterName
        }
        if !typed.isEmpty { return typed }
        var out: [AppliedFilterConfig] = []
        if let cors = a.cors {
            out.append(
                AppliedFilterConfig(
                    filter: "cors (deprecated field)", level: .route, config: cors,
                    origin: origin(.route(host: h, route: r), ".route.cors", fallback: route.source)))
        }
        if let cors = host.cors {
            out.append(
                AppliedFilterConfig(
                    filter: "cors (deprecated field)", level: .virtualHost, config: cors,
                    origin: origin(.host(h), ".cors", fallback: host.source)))
        }
        return out
    }

    // MARK: - Rewrites

    /// `prefix_rewrite`: replaces the matched part (the configured prefix or path; the whole
    /// path without query for a regex route), keeping the rest and the query.
    static func prefixRewrite(_ path: String, _ match: RouteMatch, _ rewrite: String) -> String {
        let bytes = Array(path.utf8)
        let matched: Int
        switch match.pathSpecifier {
        case .prefix(let p), .path(let p), .pathSeparatedPrefix(let p): matched = min(p.utf8.count, bytes.count)
        case .safeRegex: matched = EnvoyRequest.pathWithoutQuery(path).utf8.count
        // A CONNECT route matched no part of the path.
        case .connectMatcher: matched = 0
        }
        return rewrite + String(decoding: bytes[matched...], as: UTF8.self)
    }

    /// `regex_rewrite`: a global replace on the path without query; the query is kept. An
    /// empty result leaves the path alone.
    static func regexRewrite(_ path: String, _ pattern: String, _ substitution: String) -> String? {
        let noQuery = EnvoyRequest.pathWithoutQuery(path)
        guard let re = RegexCache.shared.pattern(pattern), let out = try? re.globalReplace(String(noQuery), with: substitution),
            !out.isEmpty
        else { return nil }
        return out + path[noQuery.endIndex...]
    }

    /// `Http::Utility::newUri` (source/common/http/utility.cc): the redirect `Location`.
    public static func newURI(_ redirect: RedirectAction?, _ headers: HeaderMap) -> String {
        // The scheme of the original URL (`:scheme`); the port rule reads `x-forwarded-proto`.
        let proto = headers.first("x-forwarded-proto") ?? ""
        let scheme = redirect?.scheme ?? headers.first(":scheme") ?? ""
        let port = redirect?.port.map { ":\($0)" } ?? ""
        var host: String
        if let h = redirect?.host, !h.isEmpty {
            host = h
        } else {
            host = headers.first(":authority") ?? ""
            // `processRequestHost`: drop the port for a port redirect, or the scheme's
            // default port when the scheme changes.
            if !host.isEmpty {
                var end: String.Index?
                if host.hasPrefix("[") {
                    if let r = host.range(of: "]:", options: .backwards) { end = host.index(after: r.lowerBound) }
                } else {
                    end = host.lastIndex(of: ":")
                }
                if let end {
                    let requestPort = host[end...]
                    var remove = !port.isEmpty
                    // The schemes are compared exactly, the protocol's default port
                    // case-insensitively (`Http::Utility::schemeIsHttps`/`schemeIsHttp`).
                    if scheme != proto {
                        let p = proto.asciiLowercased
                        remove = remove || (p == "https" && requestPort == ":443") || (p == "http" && requestPort == ":80")
                    }
                    if remove { host = String(host[..<end]) }
                }
            }
        }
        let current = headers.first(":path") ?? ""
        var path: String
        var pathHasQuery = false
        if case .path(let p)? = redirect?.path, !p.isEmpty {
            pathHasQuery = p.contains("?")
            if pathHasQuery {
                path = p
            } else if let q = current.firstIndex(of: "?") {
                path = p + current[q...]
            } else {
                path = p
            }
        } else {
            path = current
        }
        if !path.hasPrefix("/") { path = "/" + path }
        if let redirect, !pathHasQuery, redirect.stripQuery, let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        return scheme + "://" + host + port + path
    }
}

extension RouteAction.PathRewrite {
    var isPrefix: Bool {
        if case .prefix = self { return true }
        return false
    }
}

/// The substitution formatter of header values, for the commands it can answer offline;
/// any other `%COMMAND%` stays as written.
public enum Formatter {
    /// Formats `value`; the addresses (and the peer's port) are `downstream`'s.
    public static func format(_ value: String, request: HeaderMap, downstream: EnvoyRequest) -> String {
        guard value.contains("%") else { return value }
        var out = ""
        var i = value.startIndex
        while i < value.endIndex {
            let c = value[i]
            guard c == "%" else {
                out.append(c)
                i = value.index(after: i)
                continue
            }
            let next = value.index(after: i)
            if next < value.endIndex && value[next] == "%" {
                out.append("%")
                i = value.index(after: next)
                continue
            }
            guard let close = value[next...].firstIndex(of: "%") else {
                out += value[i...]
                break
            }
            let command = String(value[next..<close])
            if let v = evaluate(command, request: request, downstream: downstream) {
                out += v
            } else {
                out += value[i...close]
            }
            i = value.index(after: close)
        }
        return out
    }

    static func evaluate(_ command: String, request: HeaderMap, downstream: EnvoyRequest) -> String? {
        switch command {
        // `StreamInfoAddressFormatterProvider` (substitution_formatter): the address's
        // `asString()` with the port, `ip()->addressAsString()` without (no brackets).
        case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT": return downstream.remoteAddress
        case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": return downstream.directRemoteAddress ?? downstream.remoteAddress
        case "DOWNSTREAM_REMOTE_ADDRESS": return downstream.remoteAddressWithPort
        case "DOWNSTREAM_DIRECT_REMOTE_ADDRESS": return downstream.directRemoteAddressWithPort
        case "PROTOCOL": return "HTTP/1.1"
        default: break
        }
        if command.hasPrefix("REQ(") {
            guard let close = command.firstIndex(of: ")") else { return nil }
            let inner = command[command.index(command.startIndex, offsetBy: 4)..<close]
            // `%REQ(X?Y)%`: X, else Y.
            let names = inner.split(separator: "?", maxSplits: 1).map(String.init)
            for n in names {
                if let v = request.get(n) { return v }
            }
            // A missing header formats to "", so the header is skipped (unless keep_empty_value).
            return ""
        }
        return nil
    }
}
