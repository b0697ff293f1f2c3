import XDSCEnvoy
import XDSCRequest

/// Where a request goes, without the explanation: the virtual host and route that took it
/// and what the route does, as ``RouteEngine/select(_:semantics:)`` finds it. The full
/// ``RouteDecision`` of ``RouteEngine/decide(_:semantics:trace:responseHeaders:)`` names
/// the same host and route (it is built by the same steps plus a trace pass, origins,
/// header finalisation and policies); this is for callers that only need the outcome
/// (routing figures, behavioural comparisons, the shadowing replay), at no per-request cost
/// beyond the request's header map.
public struct RouteSelection: Equatable, Sendable {
    /// What the route does.
    public enum Outcome: Equatable, Sendable {
        /// 404 with response flag `NR`.
        case noRoute(NoRouteReason)
        /// `require_tls` is not met: a 301 to the https URL.
        case tlsRedirect
        /// Forwarded to `cluster` (for `weighted_clusters`, `entry` is the picked entry).
        case forward(cluster: String, entry: Int?)
        /// A `redirect` action with this status.
        case redirect(status: Int)
        /// A `direct_response` action with this status.
        case directResponse(status: Int)
    }

    /// Index in `virtual_hosts` of the host that took the request, nil when none did.
    public var virtualHost: Int?
    /// Index of the winning route in its virtual host, nil when none matched.
    public var route: Int?
    /// What happens.
    public var outcome: Outcome

    /// A selection.
    public init(virtualHost: Int?, route: Int?, outcome: Outcome) {
        self.virtualHost = virtualHost
        self.route = route
        self.outcome = outcome
    }

    /// The cluster when forwarding.
    public var cluster: String? {
        if case .forward(let c, _) = outcome { return c }
        return nil
    }
}

extension RouteEngine {
    /// Routes `request` as Envoy does and says only where it goes: virtual host
    /// (`findVirtualHost`), `getRouteFromEntries`'s scheme and TLS checks, the first route
    /// that matches (through the index) and the cluster picked. The same steps as
    /// ``decide(_:semantics:trace:responseHeaders:)``, without a trace, origins, header
    /// finalisation or policies.
    public func select(_ request: EnvoyRequest, semantics: Semantics = .envoy) -> RouteSelection {
        let headers = request.headerMap
        let h: Int
        switch hosts.select(headers) {
        case .failure(let reason): return RouteSelection(virtualHost: nil, route: nil, outcome: .noRoute(reason))
        case .success(let c): h = c.index
        }
        switch gate(host: h, headers) {
        case .missingForwardedProto: return RouteSelection(virtualHost: h, route: nil, outcome: .noRoute(.missingForwardedProto))
        case .tlsRedirect: return RouteSelection(virtualHost: h, route: nil, outcome: .tlsRedirect)
        case .open: break
        }
        let path = RequestPath(headers.first(":path"))
        guard let r = indexedMatch(host: h, headers, request, path: path, runtime: runtimeValues(semantics)) else {
            return RouteSelection(virtualHost: h, route: nil, outcome: .noRoute(.noRouteMatched))
        }
        let outcome: RouteSelection.Outcome
        if let a = actionRefs[h][r] {
            // The action behind its reference: reading it copies none of its fields.
            let (cluster, entry) = Self.clusterChoice(a.value.clusterSpecifier, headers, random: request.randomValue)
            outcome = .forward(cluster: cluster, entry: entry)
        } else if case .redirect(let redirect) = routeRefs[h][r].value.action {
            outcome = .redirect(status: redirect.responseCode.status)
        } else if case .directResponse(let dr) = routeRefs[h][r].value.action {
            outcome = .directResponse(status: dr.status)
        } else {
            // `actionRefs` holds every `route` action, so this is not reached.
            outcome = .noRoute(.noRouteMatched)
        }
        return RouteSelection(virtualHost: h, route: r, outcome: outcome)
    }
}
