import XDSCDiagnostics
import XDSCEnvoy

/// A cluster of a user's Envoy configuration that no route sends traffic to. Envoy still
/// resolves it, health-checks it and keeps connections to it. Policies keep
/// `UnusedServicePass` on the IR (it points at the service name and runs on a policy with
/// errors). A cluster may be used by what xdsc keeps opaque (a TCP proxy, an ext_authz or
/// rate limit service, a config source, a stats sink), so the check stays silent whenever
/// anything opaque could name one, and for a cluster whose name is written anywhere outside
/// its own definition.
public struct UnusedClusterCheck: EnvoyCheck {
    /// The rules this check can report.
    public static let rules: [Rule.ID] = [.unusedService]
    /// Envoy input only.
    public static let inputs: [InputKind] = [.envoy]
    /// Creates the check.
    public init() {}

    /// Checks every cluster of `config` and adds each finding to `sink`.
    public func run(_ config: EnvoyConfig, _ context: EnvoyCheckContext, _ sink: DiagnosticSink) {
        guard Self.everyUseIsVisible(config) else { return }
        var used = Set<String>()
        var clusterHeader = false
        config.forEachRoute { _, _, route in
            used.formUnion(EnvoyConfig.clusterReferences(route))
            if case .route(let a) = route.action, case .clusterHeader = a.clusterSpecifier { clusterHeader = true }
        }
        // A `cluster_header` route may send to any cluster.
        guard !clusterHeader else { return }
        for c in config.clusters where !used.contains(c.name) {
            guard let span = c.source else { continue }
            // The name written anywhere but in the cluster itself (a stats sink, a tracer, a
            // route the reader left out) may be a use the model does not keep.
            if context.scalars[c.name, default: []].contains(where: { !span.contains($0) }) { continue }
            sink.add(
                .unusedService, Self.message(c.name), at: span, label: "unused",
                help: "remove the cluster, or route to it")
        }
    }

    /// Whether every place that can name a cluster is modelled: each listener's every filter
    /// chain is a connection manager with an inline or resolved route table and only modelled
    /// HTTP filters, and no route table is missing.
    static func everyUseIsVisible(_ config: EnvoyConfig) -> Bool {
        guard !config.listeners.isEmpty else { return false }
        let tables = Set(config.routeConfigurations.map(\.name))
        for l in config.listeners {
            for chain in l.filterChains + (l.defaultFilterChain.map { [$0] } ?? []) {
                guard chain.otherFilters.isEmpty, let hcm = chain.connectionManager else { return false }
                if hcm.filters.contains(where: { $0.kind == nil }) { return false }
                if case .rds(_, let name) = hcm.routes, !tables.contains(name) { return false }
            }
        }
        return true
    }

    // MARK: Messages

    static func message(_ cluster: String) -> String { "cluster `\(cluster)` is not used by any route" }
}
