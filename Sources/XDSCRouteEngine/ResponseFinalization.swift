import XDSCEnvoy
import XDSCRequest

extension RouteEngine {
    /// The response headers a client gets for `upstream`, the headers an upstream (or the
    /// router's local reply) actually answered with, under decision `d` of this engine:
    /// `finalizeResponseHeaders` of the winning route (the weighted entry, then route,
    /// virtual host and route configuration, or the reverse with
    /// `most_specific_header_mutations_wins`), without routing the request again.
    ///
    /// The mutations are evaluated on `upstream` itself, so `ADD_IF_ABSENT`,
    /// `OVERWRITE_IF_EXISTS` and `keep_empty_value` see the headers that are really there;
    /// the values are formatted on the finalised request headers, as in `decide`. The result
    /// is the `responseHeaders` of `decide(d.request, trace: false, responseHeaders: upstream)`.
    /// Decisions that do not forward (a filter's reply on a redirect or direct-response
    /// route) are rare and routed again.
    public func finalizeResponseHeaders(_ upstream: [HTTPHeader], of d: RouteDecision) -> HeaderMap {
        guard case .forward(let f) = d.outcome, let h = d.virtualHost?.index, let r = d.routeIndex,
            h < routeRefs.count, r < routeRefs[h].count, actionRefs[h][r] != nil
        else {
            return decide(d.request, trace: false, responseHeaders: upstream).responseHeaders
        }
        let route = routeRefs[h][r].value
        let host = hostRefs[h]
        var map = HeaderMap(upstream)
        var entry: (index: Int, value: WeightedClusters.Entry)?
        if case .weighted(let pick) = f.choice, case .route(let a) = route.action, case .weightedClusters(let w) = a.clusterSpecifier,
            w.clusters.indices.contains(pick.picked)
        {
            entry = (pick.picked, w.clusters[pick.picked])
        }
        let hasEntryMutations = entry.map { !$0.value.responseHeadersToAdd.isEmpty || !$0.value.responseHeadersToRemove.isEmpty } ?? false
        // Nothing configured at any level: the upstream's headers as they are (the common case).
        if !hasEntryMutations && route.responseHeadersToAdd.isEmpty && route.responseHeadersToRemove.isEmpty
            && host.value.responseHeadersToAdd.isEmpty && host.value.responseHeadersToRemove.isEmpty
            && config.responseHeadersToAdd.isEmpty
            && config.responseHeadersToRemove.isEmpty
        {
            return map
        }
        // `evaluate` records each change on a decision; this one is thrown away.
        var scratch = RouteDecision(
            request: d.request, outcome: d.outcome, requestHeaders: HeaderMap(), responseHeaders: HeaderMap())
        let rt = Origin.Owner.route(host: h, route: r)
        if let (i, e) = entry, hasEntryMutations {
            evaluate(
                e.responseHeadersToAdd, e.responseHeadersToRemove, .weightedCluster, rt, ".route.weighted_clusters.clusters[\(i)]",
                response: true, map: &map, request: d.requestHeaders, into: &scratch, fallback: route.source)
        }
        for level in levels() {
            let (add, remove, owner, fallback) = responseParser(level, route: route, host: host.value, h: h, r: r)
            evaluate(
                add, remove, level, owner, "", response: true, map: &map, request: d.requestHeaders, into: &scratch, fallback: fallback)
        }
        return map
    }
}
