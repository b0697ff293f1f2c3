import XDSCEnvoy
import XDSCRouteEngine

/// The router's request mirroring (`request_mirror_policies`, router.cc and
/// shadow_writer_impl.cc): a copy of the finalised upstream request goes to each mirror
/// cluster whose policy fires for the request (the engine's `mirrorsFiring`), with
/// `-shadow` appended to the host; its answer is ignored. A shadow counts against the mirror
/// cluster's DEFAULT circuit breakers and pools, whatever the route's priority: Envoy sends it
/// through the cluster's async client, whose route (`NullRouteImpl`, null_route_impl.h) has
/// `ResourcePriority::Default`.
enum RequestMirroring {
    /// The shadow requests of a forward, in policy order: the mirror cluster (named, or the
    /// first value of `cluster_header`) and the request to send it. A cluster that does not
    /// exist is skipped, as Envoy skips it.
    static func shadows(_ d: RouteDecision, upstream: UpstreamRequest, exists: (String) -> Bool) -> [(
        cluster: String, request: UpstreamRequest
    )] {
        var out: [(cluster: String, request: UpstreamRequest)] = []
        for (i, policy) in d.mirrors.enumerated() {
            let cluster = policy.clusterHeader.map { name in d.requestHeaders.first(name) ?? "" } ?? policy.cluster
            // `shouldShadow`, as the engine decided it (runtime fraction on the request's random value).
            let fires = i < d.mirrorsFiring.count && d.mirrorsFiring[i]
            guard !cluster.isEmpty, exists(cluster), fires else { continue }
            var shadow = upstream
            if !policy.disableShadowHostSuffixAppend, let host = shadow.headers.first(name: "host") {
                shadow.headers.replaceOrAdd(name: "host", value: shadowHost(host))
            }
            out.append((cluster, shadow))
        }
        return out
    }

    /// `shadowAppendedHost`: `host-shadow`, or `host-shadow:port`.
    static func shadowHost(_ host: String) -> String {
        let parts = host.split(separator: ":")
        return parts.count == 2 ? parts[0] + "-shadow:" + parts[1] : host + "-shadow"
    }
}
