import XDSCDiagnostics
import XDSCEnvoy
import XDSCRequest

extension RouteEngine {
    /// A `route` action: the cluster, then `finalizeRequestHeaders` (weighted entry, the
    /// levels, host rewrite, path rewrite), `finalizeResponseHeaders`, and the policies.
    func forward(
        _ route: Ref<Route>, _ action: Ref<RouteAction>, hostIndex h: Int, routeIndex r: Int, headers: HeaderMap,
        runtime: RuntimeValues, into d: inout RouteDecision
    ) {
        let a = action.value
        let rt = Origin.Owner.route(host: h, route: r)
        // Each read once: passing `ref.value` on copies the whole struct at every call.
        let routeValue = route.value
        let host = hostRefs[h].value
        let source = routeValue.source
        var req = headers
        let target = pickCluster(a, req, random: d.request.randomValue, owner: rt, fallback: source)
        let originalPath = req.first(":path")
        let originalHost = req.first(":authority")
        var hostRewrite: String?
        // 1. The weighted entry's own mutations and host rewrite.
        if let (i, e) = target.entry {
            let ep = ".route.weighted_clusters.clusters[\(i)]"
            evaluate(
                e.requestHeadersToAdd, e.requestHeadersToRemove, .weightedCluster, rt, ep, response: false, map: &req, request: req,
                into: &d, fallback: source)
            // The entry's literal is a plain `setHost` (weighted_cluster_specifier.cc): no
            // `x-envoy-original-host`, no `x-forwarded-host`.
            if let lit = e.hostRewriteLiteral, !lit.isEmpty {
                req.set(":authority", lit)
                d.mutations.append(
                    .init(
                        response: false, level: .weightedCluster, operation: .overwrite, name: ":authority", value: lit,
                        origin: origin(rt, ep + ".host_rewrite_literal", fallback: source)))
                hostRewrite = "host_rewrite_literal `\(lit)` (weighted cluster)"
            }
        }
        // 2. Route, virtual host, route configuration (or the reverse).
        for level in levels() {
            let (add, remove, owner, fallback) = requestParser(level, route: routeValue, host: host, h: h, r: r)
            evaluate(add, remove, level, owner, "", response: false, map: &req, request: req, into: &d, fallback: fallback)
        }
        // 3. The route's host rewrite (wins over a weighted entry's), 4. the path rewrite.
        hostRewrite = rewriteHost(a, &req, owner: rt, fallback: source, into: &d) ?? hostRewrite
        let rewriteName = rewritePath(a, routeValue.match, &req, owner: rt, fallback: source, into: &d)
        // Response: weighted entry, then the levels.
        var resp = d.responseHeaders
        if let (i, e) = target.entry {
            evaluate(
                e.responseHeadersToAdd, e.responseHeadersToRemove, .weightedCluster, rt, ".route.weighted_clusters.clusters[\(i)]",
                response: true, map: &resp, request: req, into: &d, fallback: source)
        }
        for level in levels() {
            let (add, remove, owner, fallback) = responseParser(level, route: routeValue, host: host, h: h, r: r)
            evaluate(add, remove, level, owner, "", response: true, map: &resp, request: req, into: &d, fallback: fallback)
        }
        let newPath = req.first(":path")
        let newHost = req.first(":authority")
        d.outcome = .forward(
            Forward(
                cluster: target.cluster, choice: target.choice, originalPath: newPath != originalPath ? originalPath : nil,
                rewrittenPath: newPath != originalPath ? newPath : nil, pathRewrite: newPath != originalPath ? rewriteName : nil,
                originalHost: newHost != originalHost ? originalHost : nil, rewrittenHost: newHost != originalHost ? newHost : nil,
                hostRewrite: newHost != originalHost ? hostRewrite : nil, autoHostRewrite: a.autoHostRewrite,
                clusterNotFoundStatus: a.clusterNotFoundResponseCode ?? 503, origin: origin(rt, target.field, fallback: source),
                priority: a.priority))
        d.requestHeaders = req
        d.responseHeaders = resp
        policies(a, hostIndex: h, owner: rt, fallback: source, received: headers, runtime: runtime, into: &d)
        d.filterConfigs = filterConfigs(routeValue, a, target.entry?.value, target.entry?.index, host: host, h: h, r: r)
        d.corsPolicies = corsPolicies(routeValue, a, target.entry?.value, target.entry?.index, host: host, h: h, r: r)
        d.attemptCountInRequest = host.includeRequestAttemptCount
        d.attemptCountInResponse = host.includeAttemptCountInResponse
        d.requestBodyBufferLimit = routeValue.effectiveBufferLimit(host: host)
        d.upgradeTypes = a.upgradeTypes
        d.disabledUpgradeTypes = a.disabledUpgradeTypes
    }

    /// The cluster a `route` action sends to, how it was chosen, and the field that chose it.
    struct ClusterTarget {
        var cluster: String
        var choice: ClusterChoice
        var entry: (index: Int, value: WeightedClusters.Entry)?
        var field: String
    }

    func pickCluster(_ a: RouteAction, _ req: HeaderMap, random: UInt64, owner: Origin.Owner, fallback: SourceSpan?) -> ClusterTarget {
        switch a.clusterSpecifier {
        case .cluster(let c):
            return ClusterTarget(cluster: c, choice: .named, field: ".route.cluster")
        case .clusterHeader(let name):
            let v = req.first(name)
            return ClusterTarget(
                cluster: Self.headerCluster(name, req), choice: .header(name: name, value: v), field: ".route.cluster_header")
        case .weightedClusters(let w):
            let pick = weightedPick(w, req, random: random, owner: owner, field: ".route.weighted_clusters", fallback: fallback)
            let e = w.clusters[pick.picked]
            return ClusterTarget(
                cluster: Self.entryCluster(e, req), choice: .weighted(pick), entry: (pick.picked, e),
                field: ".route.weighted_clusters.clusters[\(pick.picked)]")
        }
    }

    /// `HeaderClusterSpecifier`: the whole first value of the header, "" when absent (no
    /// split on commas).
    static func headerCluster(_ name: String, _ req: HeaderMap) -> String { req.first(name) ?? "" }

    /// A weighted entry's cluster: its name, or the first value of its `cluster_header`.
    static func entryCluster(_ e: WeightedClusters.Entry, _ req: HeaderMap) -> String {
        e.clusterHeader.map { headerCluster($0, req) } ?? e.name
    }

    /// The cluster `a` sends to and the weighted entry picked (``pickCluster``'s choice
    /// without the split or its origins).
    static func clusterChoice(_ specifier: RouteAction.ClusterSpecifier, _ req: HeaderMap, random: UInt64) -> (cluster: String, entry: Int?)
    {
        switch specifier {
        case .cluster(let c): return (c, nil)
        case .clusterHeader(let name): return (headerCluster(name, req), nil)
        case .weightedClusters(let w):
            let picked = weightedChoice(w, req, random: random).picked
            return (entryCluster(w.clusters[picked], req), picked)
        }
    }

    /// The route's host rewrite (literal, header, path regex); its description when it applied.
    func rewriteHost(_ a: RouteAction, _ req: inout HeaderMap, owner: Origin.Owner, fallback: SourceSpan?, into d: inout RouteDecision)
        -> String?
    {
        // `finalizeHostHeader`: an empty host name rewrites nothing.
        if let lit = a.hostRewriteLiteral, !lit.isEmpty {
            let o = origin(owner, ".route.host_rewrite_literal", fallback: fallback)
            updateAuthority(&req, lit, appendXFH: a.appendXForwardedHost, into: &d, origin: o)
            return "host_rewrite_literal `\(lit)`"
        } else if let hh = a.hostRewriteHeader {
            guard let v = req.first(hh), !v.isEmpty else { return nil }
            let o = origin(owner, ".route.host_rewrite_header", fallback: fallback)
            updateAuthority(&req, v, appendXFH: a.appendXForwardedHost, into: &d, origin: o)
            return "host_rewrite_header `\(hh)`"
        } else if let rx = a.hostRewritePathRegex {
            let path = String(EnvoyRequest.pathWithoutQuery(req.first(":path") ?? ""))
            guard let re = RegexCache.shared.pattern(rx.pattern), let v = try? re.globalReplace(path, with: rx.substitution), !v.isEmpty
            else {
                return nil
            }
            let o = origin(owner, ".route.host_rewrite_path_regex", fallback: fallback)
            updateAuthority(&req, v, appendXFH: a.appendXForwardedHost, into: &d, origin: o)
            return "host_rewrite_path_regex `\(rx.pattern)`"
        }
        return nil
    }

    /// `prefix_rewrite` or `regex_rewrite`; the rewrite's description when one is configured.
    func rewritePath(
        _ a: RouteAction, _ match: RouteMatch, _ req: inout HeaderMap, owner: Origin.Owner, fallback: SourceSpan?,
        into d: inout RouteDecision
    ) -> String? {
        guard let rw = a.pathRewrite, let path = req.first(":path") else { return nil }
        let rewritten: String?
        let name: String
        switch rw {
        case .prefix(let p):
            rewritten = p.isEmpty ? nil : Self.prefixRewrite(path, match, p)
            name = "prefix_rewrite `\(p)`"
        case .regex(let pattern, let sub):
            rewritten = Self.regexRewrite(path, pattern, sub)
            name = "regex_rewrite `\(pattern)` → `\(sub)`"
        }
        if let rewritten {
            let o = origin(owner, rw.isPrefix ? ".route.prefix_rewrite" : ".route.regex_rewrite", fallback: fallback)
            updatePath(&req, from: path, to: rewritten, into: &d, origin: o)
        }
        return name
    }

    /// Timeouts, the retry policy (route's, else the virtual host's), mirrors (route's, else
    /// virtual host's, else route configuration's) and the hash policy. `received` is the
    /// request as the router gets it, before the route's header mutations (the timeouts
    /// read it so).
    func policies(
        _ a: RouteAction, hostIndex h: Int, owner: Origin.Owner, fallback: SourceSpan?, received: HeaderMap, runtime: RuntimeValues,
        into d: inout RouteDecision
    ) {
        let host = hostRefs[h]
        d.idleTimeout = a.idleTimeout
        if let rpol = a.retryPolicy {
            d.retryPolicy = rpol
            d.retryOrigin = origin(owner, ".route.retry_policy", fallback: fallback)
        } else if let vpol = host.value.retryPolicy {
            d.retryPolicy = vpol
            d.retryOrigin = origin(.host(h), ".retry_policy", fallback: host.value.source)
        }
        let t = Self.requestTimeouts(a, retry: d.retryPolicy, received, router: router)
        d.timeout = Self.duration(ms: t.global)
        d.timeoutSource = t.source
        switch t.source {
        case .route: d.timeoutOrigin = origin(owner, ".route.timeout", fallback: fallback)
        case .grpcTimeoutHeader, .maxGrpcTimeout: d.timeoutOrigin = origin(owner, ".route.max_grpc_timeout", fallback: fallback)
        case .maxStreamDuration: d.timeoutOrigin = origin(owner, ".route.max_stream_duration", fallback: fallback)
        case .routeDefault, .upstreamTimeoutHeader, .expectedTimeoutHeader: d.timeoutOrigin = nil
        }
        d.perTryTimeout = t.perTry > 0 ? Self.duration(ms: t.perTry) : nil
        d.expectedTimeout = t.expected.map { Self.duration(ms: $0) }
        d.grpcTimeoutHeader = t.grpcTimeoutHeader
        d.streamDuration = t.stream.map { Self.duration(ms: $0) }
        d.streamDurationOrigin = t.stream != nil ? origin(owner, ".route.max_stream_duration", fallback: fallback) : nil
        if d.requestHeaders.first(":method") == "CONNECT" {
            // `Filter::decodeHeaders` (router.cc): CONNECT requests are never mirrored.
        } else if !a.requestMirrorPolicies.isEmpty {
            d.mirrors = a.requestMirrorPolicies
            d.mirrorsOrigin = origin(owner, ".route.request_mirror_policies", fallback: fallback)
        } else if !host.value.requestMirrorPolicies.isEmpty {
            d.mirrors = host.value.requestMirrorPolicies
            d.mirrorsOrigin = origin(.host(h), ".request_mirror_policies", fallback: host.value.source)
        } else if !config.requestMirrorPolicies.isEmpty {
            d.mirrors = config.requestMirrorPolicies
            d.mirrorsOrigin = origin(.configuration, "request_mirror_policies", fallback: config.source)
        }
        // Read before: `d` inside the closure, while `d` is assigned to, is a copy of all of it.
        let random = d.request.randomValue
        d.mirrorsFiring = d.mirrors.map { Self.mirrorFires($0, random: random, runtime: runtime) }
        d.hashPolicy = a.hashPolicy
    }
}

extension RouteEngine {
    /// `FilterUtility::shouldShadow` (router.cc): the runtime's `featureEnabled(runtime_key,
    /// default_value, stream id)`, the stream id being the request's random value (the one
    /// route `runtime_fraction`s use). A policy without `runtime_fraction` is 100% with no
    /// key (`ShadowPolicyImpl`, config_impl.cc). With no runtime layers the default value
    /// decides: `random % denominator < numerator` (`evaluateFractionalPercent`). Under the
    /// route-check tool's runtime (`RouterCheckTool::runtimeMock`) a fraction is on only when
    /// its key is the test's non-empty `runtime`, and then by the same arithmetic.
    public static func mirrorFires(_ policy: RequestMirrorPolicy, random: UInt64, runtime: RuntimeValues = .defaults) -> Bool {
        let key = policy.runtimeFraction?.runtimeKey ?? ""
        let value = policy.runtimeFraction?.defaultValue ?? .percent(100)
        if case .routerCheckTool(let enabled) = runtime {
            guard let enabled, !enabled.isEmpty, enabled == key else { return false }
        }
        return random % value.denominator.value < UInt64(value.numerator)
    }
}
