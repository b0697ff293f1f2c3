import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest

extension RouteEngine {
    /// The winning route's action, with header finalisation
    /// (`RouteEntryImplBase::finalizeRequestHeaders` / `finalizeResponseHeaders`).
    func apply(_ route: Route, hostIndex h: Int, routeIndex r: Int, headers: HeaderMap, semantics: Semantics, into d: inout RouteDecision) {
        let host = config.virtualHosts[h]
        let rp = routePath(h, r)
        switch route.action {
        case .route(let a):
            var req = headers
            var cluster = ""
            var choice = ClusterChoice.named
            var entry: (index: Int, value: WeightedClusters.Entry)?
            let specifierPath: String
            switch a.clusterSpecifier {
            case .cluster(let c):
                cluster = c
                specifierPath = rp + ".route.cluster"
            case .clusterHeader(let name):
                // The whole first value (`HeaderClusterSpecifier`): no split on commas.
                let v = req.first(name)
                cluster = v ?? ""
                choice = .header(name: name, value: v)
                specifierPath = rp + ".route.cluster_header"
            case .weightedClusters(let w):
                let pick = weightedPick(
                    w, req, random: d.request.randomValue, path: rp + ".route.weighted_clusters", fallback: route.source)
                let e = w.clusters[pick.picked]
                if let ch = e.clusterHeader { cluster = req.first(ch) ?? "" } else { cluster = e.name }
                entry = (pick.picked, e)
                choice = .weighted(pick)
                specifierPath = rp + ".route.weighted_clusters.clusters[\(pick.picked)]"
            }
            let originalPath = req.first(":path")
            let originalHost = req.first(":authority")
            var hostRewrite: String?
            // 1. The weighted entry's own mutations and host rewrite.
            if let (i, e) = entry {
                let ep = rp + ".route.weighted_clusters.clusters[\(i)]"
                evaluate(
                    e.requestHeadersToAdd, e.requestHeadersToRemove, .weightedCluster, ep, response: false, map: &req, request: req,
                    into: &d, fallback: route.source)
                if let lit = e.hostRewriteLiteral {
                    updateAuthority(
                        &req, lit, appendXFH: a.appendXForwardedHost, into: &d,
                        origin: origin(ep + ".host_rewrite_literal", fallback: route.source))
                    hostRewrite = "host_rewrite_literal `\(lit)` (weighted cluster)"
                }
            }
            // 2. Route, virtual host, route configuration (or the reverse).
            for level in levels() {
                let (add, remove, path, fallback) = requestParser(level, route: route, host: host, h: h, r: r)
                evaluate(add, remove, level, path, response: false, map: &req, request: req, into: &d, fallback: fallback)
            }
            // 3. The route's host rewrite (wins over a weighted entry's).
            let hostOrigin: Origin
            if let lit = a.hostRewriteLiteral {
                hostOrigin = origin(rp + ".route.host_rewrite_literal", fallback: route.source)
                updateAuthority(&req, lit, appendXFH: a.appendXForwardedHost, into: &d, origin: hostOrigin)
                hostRewrite = "host_rewrite_literal `\(lit)`"
            } else if let hh = a.hostRewriteHeader {
                hostOrigin = origin(rp + ".route.host_rewrite_header", fallback: route.source)
                if let v = req.first(hh), !v.isEmpty {
                    updateAuthority(&req, v, appendXFH: a.appendXForwardedHost, into: &d, origin: hostOrigin)
                    hostRewrite = "host_rewrite_header `\(hh)`"
                }
            } else if let rx = a.hostRewritePathRegex {
                hostOrigin = origin(rp + ".route.host_rewrite_path_regex", fallback: route.source)
                let path = String(EnvoyRequest.pathWithoutQuery(req.first(":path") ?? ""))
                if let re = RegexCache.shared.pattern(rx.pattern), let v = try? re.globalReplace(path, with: rx.substitution) {
                    updateAuthority(&req, v, appendXFH: a.appendXForwardedHost, into: &d, origin: hostOrigin)
                    hostRewrite = "host_rewrite_path_regex `\(rx.pattern)`"
                }
            } else {
                hostOrigin = origin(rp + ".route", fallback: route.source)
            }
            _ = hostOrigin
            // 4. The path rewrite.
            var rewriteName: String?
            if let rw = a.pathRewrite, let path = req.first(":path") {
                let rewritten: String?
                switch rw {
                case .prefix(let p):
                    rewritten = p.isEmpty ? nil : Self.prefixRewrite(path, route.match, p)
                    rewriteName = "prefix_rewrite `\(p)`"
                case .regex(let pattern, let sub):
                    rewritten = Self.regexRewrite(path, pattern, sub)
                    rewriteName = "regex_rewrite `\(pattern)` → `\(sub)`"
                }
                if let rewritten {
                    let o = origin(rp + (rw.isPrefix ? ".route.prefix_rewrite" : ".route.regex_rewrite"), fallback: route.source)
                    updatePath(&req, from: path, to: rewritten, into: &d, origin: o)
                }
            }
            // Response: weighted entry, then the levels.
            var resp = d.responseHeaders
            if let (i, e) = entry {
                evaluate(
                    e.responseHeadersToAdd, e.responseHeadersToRemove, .weightedCluster, rp + ".route.weighted_clusters.clusters[\(i)]",
                    response: true, map: &resp, request: req, into: &d, fallback: route.source)
            }
            for level in levels() {
                let (add, remove, path, fallback) = responseParser(level, route: route, host: host, h: h, r: r)
                evaluate(add, remove, level, path, response: true, map: &resp, request: req, into: &d, fallback: fallback)
            }
            let newPath = req.first(":path")
            let newHost = req.first(":authority")
            d.outcome = .forward(
                Forward(
                    cluster: cluster, choice: choice, originalPath: newPath != originalPath ? originalPath : nil,
                    rewrittenPath: newPath != originalPath ? newPath : nil, pathRewrite: newPath != originalPath ? rewriteName : nil,
                    originalHost: newHost != originalHost ? originalHost : nil, rewrittenHost: newHost != originalHost ? newHost : nil,
                    hostRewrite: newHost != originalHost ? hostRewrite : nil, autoHostRewrite: a.autoHostRewrite,
                    clusterNotFoundStatus: a.clusterNotFoundResponseCode ?? 503, origin: origin(specifierPath, fallback: route.source)))
            d.requestHeaders = req
            d.responseHeaders = resp
            d.timeout = a.timeout ?? .seconds(15)
            d.timeoutOrigin = a.timeout != nil ? origin(rp + ".route.timeout", fallback: route.source) : nil
            d.idleTimeout = a.idleTimeout
            if let rpol = a.retryPolicy {
                d.retryPolicy = rpol
                d.retryOrigin = origin(rp + ".route.retry_policy", fallback: route.source)
            } else if let vpol = host.retryPolicy {
                d.retryPolicy = vpol
                d.retryOrigin = origin(hostPath(h) + ".retry_policy", fallback: host.source)
            }
            if !a.requestMirrorPolicies.isEmpty {
                d.mirrors = a.requestMirrorPolicies
                d.mirrorsOrigin = origin(rp + ".route.request_mirror_policies", fallback: route.source)
            } else if !host.requestMirrorPolicies.isEmpty {
                d.mirrors = host.requestMirrorPolicies
                d.mirrorsOrigin = origin(hostPath(h) + ".request_mirror_policies", fallback: host.source)
            } else if !config.requestMirrorPolicies.isEmpty {
                d.mirrors = config.requestMirrorPolicies
                d.mirrorsOrigin = origin("request_mirror_policies", fallback: config.source)
            }
            d.hashPolicy = a.hashPolicy
            d.filterConfigs = filterConfigs(route, a, entry?.value, entry?.index, host: host, h: h, r: r)
            d.corsPolicies = corsPolicies(route, a, entry?.value, entry?.index, host: host, h: h, r: r)
            d.attemptCountInRequest = host.includeRequestAttemptCount
            d.attemptCountInResponse = host.includeAttemptCountInResponse
            d.upgradeTypes = a.upgradeTypes
        case .redirect(let redirect):
            var req = headers
            var rewritten: String?
            let rdp = rp + ".redirect"
            if let path = req.first(":path") {
                switch redirect.path {
                case .prefixRewrite(let p) where !p.isEmpty: rewritten = Self.prefixRewrite(path, route.match, p)
                case .regexRewrite(let rx): rewritten = Self.regexRewrite(path, rx.pattern, rx.substitution)
                default: break
                }
                if let rewritten {
                    updatePath(&req, from: path, to: rewritten, into: &d, origin: origin(rdp, fallback: route.source))
                }
            }
            let location = Self.newURI(redirect, req)
            d.requestHeaders = req
            d.outcome = .redirect(
                RedirectOutcome(
                    location: location, status: redirect.responseCode.status, rewrittenPath: rewritten,
                    origin: origin(rdp, fallback: route.source)))
            localReply(
                &d, body: "", location: location, status: redirect.responseCode.status, semantics: semantics, route: route, h: h, r: r)
            d.filterConfigs = filterConfigs(route, nil, nil, nil, host: host, h: h, r: r)
        case .directResponse(let dr):
            let location = Self.newURI(nil, headers)
            d.outcome = .directResponse(
                DirectResponseOutcome(
                    status: dr.status, body: dr.body ?? "", origin: origin(rp + ".direct_response", fallback: route.source)))
            localReply(&d, body: dr.body ?? "", location: location, status: dr.status, semantics: semantics, route: route, h: h, r: r)
            d.filterConfigs = filterConfigs(route, nil, nil, nil, host: host, h: h, r: r)
        }
    }

    /// The levels in evaluation order (`getHeaderParsers`): route, virtual host, route
    /// configuration, so the least specific overwrite wins, unless
    /// `most_specific_header_mutations_wins` reverses them.
    func levels() -> [MutationLevel] {
        config.mostSpecificHeaderMutationsWins ? [.routeConfiguration, .virtualHost, .route] : [.route, .virtualHost, .routeConfiguration]
    }

    func requestParser(_ level: MutationLevel, route: Route, host: VirtualHost, h: Int, r: Int)
        -> ([HeaderValueOption], [String], String, SourceSpan?)
    {
        switch level {
        case .route: (route.requestHeadersToAdd, route.requestHeadersToRemove, routePath(h, r), route.source)
        case .virtualHost: (host.requestHeadersToAdd, host.requestHeadersToRemove, hostPath(h), host.source)
        default: (config.requestHeadersToAdd, config.requestHeadersToRemove, "", config.source)
        }
    }

    func responseParser(_ level: MutationLevel, route: Route, host: VirtualHost, h: Int, r: Int)
        -> ([HeaderValueOption], [String], String, SourceSpan?)
    {
        switch level {
        case .route: (route.responseHeadersToAdd, route.responseHeadersToRemove, routePath(h, r), route.source)
        case .virtualHost: (host.responseHeadersToAdd, host.responseHeadersToRemove, hostPath(h), host.source)
        default: (config.responseHeadersToAdd, config.responseHeadersToRemove, "", config.source)
        }
    }

    /// `HeaderParser::evaluateHeaders`: removals first, then every value is formatted on the
    /// headers as they are now, then overwrites, then appends.
    func evaluate(
        _ add: [HeaderValueOption], _ remove: [String], _ level: MutationLevel, _ base: String, response: Bool, map: inout HeaderMap,
        request: HeaderMap, into d: inout RouteDecision, fallback: SourceSpan?
    ) {
        let kind = response ? "response" : "request"
        let prefix = base.isEmpty ? "" : base + "."
        for (i, name) in remove.enumerated() {
            map.remove(name)
            d.mutations.append(
                .init(
                    response: response, level: level, operation: .remove, name: name.asciiLowercased, value: nil,
                    origin: origin(prefix + "\(kind)_headers_to_remove[\(i)]", fallback: fallback)))
        }
        var overwrites: [(String, String, Origin)] = []
        var appends: [(String, String, Origin)] = []
        let formatRequest = response ? request : map
        for (i, o) in add.enumerated() {
            let og = origin(prefix + "\(kind)_headers_to_add[\(i)]", fallback: fallback)
            let value = Formatter.format(o.value, request: formatRequest, remoteAddress: d.request.remoteAddress)
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
        for (n, v, og) in overwrites {
            map.set(n, v)
            d.mutations.append(.init(response: response, level: level, operation: .overwrite, name: n, value: v, origin: og))
        }
        for (n, v, og) in appends {
            map.add(n, v)
            d.mutations.append(.init(response: response, level: level, operation: .append, name: n, value: v, origin: og))
        }
    }

    /// A path rewrite: the old path goes to `x-envoy-original-path`, then `:path` is replaced.
    func updatePath(_ req: inout HeaderMap, from path: String, to rewritten: String, into d: inout RouteDecision, origin o: Origin) {
        req.set("x-envoy-original-path", path)
        d.mutations.append(
            .init(response: false, level: .router, operation: .overwrite, name: "x-envoy-original-path", value: path, origin: o))
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
            if appendXFH {
                let xfh = req.get("x-forwarded-host").map { $0 + "," + old } ?? old
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
            let o = Origin(route.map { _ in routePath(h, r) } ?? hostPath(h))
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
            let host = config.virtualHosts[h]
            for level in levels() {
                let (add, remove, path, fallback) = responseParser(level, route: route, host: host, h: h, r: r)
                evaluate(add, remove, level, path, response: true, map: &resp, request: d.requestHeaders, into: &d, fallback: fallback)
            }
        }
        switch semantics {
        case .routerCheckTool:
            // The tool simulates the local reply first, then finalises the response.
            contentHeaders(&resp, onlyIfAbsent: false)
            mutations(&resp)
        case .envoy:
            // The router's modify-headers callback runs before the local reply adds its
            // content headers (router.cc, `sendLocalReply`), and adds `Location` on 201/3xx.
            resp = HeaderMap()
            if status == 201 || (300..<400).contains(status) {
                resp.add("location", location)
                d.mutations.append(
                    .init(
                        response: true, level: .router, operation: .append, name: "location", value: location,
                        origin: Origin(routePath(h, r))))
            }
            mutations(&resp)
            contentHeaders(&resp, onlyIfAbsent: true)
        }
        d.responseHeaders = resp
    }

    /// The split and Envoy's pick: `value % total` over cumulative half-open intervals.
    func weightedPick(_ w: WeightedClusters, _ headers: HeaderMap, random: UInt64, path: String, fallback: SourceSpan?) -> WeightedPick {
        var value = random
        var source = WeightedPick.ValueSource.random
        if let name = w.headerName {
            // A single-valued header holding a uint64 replaces the random value.
            let values = headers.values(name)
            if values.count == 1, let v = UInt64(values[0]) {
                value = v
                source = .header
            }
        }
        if source == .random && w.useHashPolicy { source = .randomInsteadOfHash }
        var entries: [WeightedPick.Entry] = []
        var end: UInt64 = 0
        for (i, c) in w.clusters.enumerated() {
            let start = end
            end += UInt64(c.weight)
            entries.append(
                .init(
                    name: c.name, clusterHeader: c.clusterHeader, weight: UInt64(c.weight), start: start, end: end,
                    origin: origin(path + ".clusters[\(i)]", fallback: fallback)))
        }
        let bucket = end == 0 ? 0 : value % end
        let picked = entries.firstIndex { bucket < $0.end } ?? max(0, entries.count - 1)
        return WeightedPick(
            selectionValue: value, valueSource: source, headerName: w.headerName, totalWeight: end, bucket: bucket, entries: entries,
            picked: picked)
    }

    /// Per-filter configuration, most specific level first wins per filter name.
    func filterConfigs(
        _ route: Route, _ a: RouteAction?, _ entry: WeightedClusters.Entry?, _ entryIndex: Int?, host: VirtualHost, h: Int, r: Int
    ) -> [AppliedFilterConfig] {
        var out: [AppliedFilterConfig] = []
        var seen = Set<String>()
        func add(_ c: AppliedFilterConfig) {
            guard seen.insert(c.filter).inserted else { return }
            out.append(c)
        }
        func add(_ name: String, _ level: MutationLevel, _ config: JSON, _ path: String, _ fallback: SourceSpan?) {
            add(AppliedFilterConfig(filter: name, level: level, config: config, origin: origin(path, fallback: fallback)))
        }
        for c in typedFilterConfigs(route, entry, entryIndex, host: host, h: h, r: r) { add(c) }
        if let cors = a?.cors {
            add("cors (deprecated field)", .route, cors, routePath(h, r) + ".route.cors", route.source)
        } else if let cors = host.cors {
            add("cors (deprecated field)", .virtualHost, cors, hostPath(h) + ".cors", host.source)
        }
        if let a, !a.rateLimits.isEmpty {
            add("rate_limits", .route, .array(a.rateLimits), routePath(h, r) + ".route.rate_limits", route.source)
        }
        if !host.rateLimits.isEmpty && (a == nil || a!.rateLimits.isEmpty || a!.includeVirtualHostRateLimits) {
            add("rate_limits (virtual host)", .virtualHost, .array(host.rateLimits), hostPath(h) + ".rate_limits", host.source)
        }
        return out
    }

    /// Every level's `typed_per_filter_config` entries, most specific level first: the
    /// weighted cluster entry, the route, the virtual host, the route configuration.
    func typedFilterConfigs(
        _ route: Route, _ entry: WeightedClusters.Entry?, _ entryIndex: Int?, host: VirtualHost, h: Int, r: Int
    ) -> [AppliedFilterConfig] {
        var out: [AppliedFilterConfig] = []
        func add(_ name: String, _ level: MutationLevel, _ config: JSON, _ path: String, _ fallback: SourceSpan?) {
            out.append(AppliedFilterConfig(filter: name, level: level, config: config, origin: origin(path, fallback: fallback)))
        }
        if let entry, let i = entryIndex {
            for e in entry.typedPerFilterConfig {
                add(
                    e.name, .weightedCluster, e.config.json,
                    routePath(h, r) + ".route.weighted_clusters.clusters[\(i)].typed_per_filter_config", route.source)
            }
        }
        for e in route.typedPerFilterConfig {
            add(e.name, .route, e.config.json, routePath(h, r) + ".typed_per_filter_config", route.source)
        }
        for e in host.typedPerFilterConfig {
            add(e.name, .virtualHost, e.config.json, hostPath(h) + ".typed_per_filter_config", host.source)
        }
        for e in config.typedPerFilterConfig { add(e.name, .routeConfiguration, e.config.json, "typed_per_filter_config", config.source) }
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
                    origin: origin(routePath(h, r) + ".route.cors", fallback: route.source)))
        }
        if let cors = host.cors {
            out.append(
                AppliedFilterConfig(
                    filter: "cors (deprecated field)", level: .virtualHost, config: cors,
                    origin: origin(hostPath(h) + ".cors", fallback: host.source)))
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
        let proto = headers.first("x-forwarded-proto") ?? headers.first(":scheme") ?? "http"
        let scheme = redirect?.scheme ?? proto
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
                    if scheme != proto {
                        remove = remove || (proto == "https" && requestPort == ":443") || (proto == "http" && requestPort == ":80")
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
    /// Formats `value`.
    public static func format(_ value: String, request: HeaderMap, remoteAddress: String) -> String {
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
            if let v = evaluate(command, request: request, remoteAddress: remoteAddress) {
                out += v
            } else {
                out += value[i...close]
            }
            i = value.index(after: close)
        }
        return out
    }

    static func evaluate(_ command: String, request: HeaderMap, remoteAddress: String) -> String? {
        switch command {
        case "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT": return remoteAddress
        case "DOWNSTREAM_REMOTE_ADDRESS", "DOWNSTREAM_DIRECT_REMOTE_ADDRESS": return remoteAddress + ":0"
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
