import XDSCDiagnostics

/// The Envoy configuration every check works on, whichever front end produced it: a policy
/// lowered by `EnvoyLowering`, or a user's own Envoy files read by the Envoy reader. Every
/// element keeps the span it came from (`source`): a policy token, or a position in the
/// user's Envoy file.
public struct EnvoyConfig: Equatable, Sendable {
    /// `node`, when set.
    public var node: Node?
    /// The admin interface address, when set.
    public var admin: SocketAddress?
    /// The listeners, in file order (static ones first, then those of LDS files).
    public var listeners: [Listener]
    /// Route configurations that are resources of their own (RDS files, bare route tables,
    /// `config_dump` route configs); inline `route_config`s stay in their listener.
    public var routeConfigurations: [RouteConfiguration]
    /// The clusters, in file order.
    public var clusters: [Cluster]
    /// `ClusterLoadAssignment`s that are resources of their own (EDS files).
    public var endpoints: [ClusterLoadAssignment]
    /// Names of SDS secrets the configuration refers to or defines (`static_resources.secrets`).
    public var secrets: [SecretReference]

    /// A configuration.
    public init(
        node: Node? = nil, admin: SocketAddress? = nil, listeners: [Listener] = [],
        routeConfigurations: [RouteConfiguration] = [], clusters: [Cluster] = [],
        endpoints: [ClusterLoadAssignment] = [], secrets: [SecretReference] = []
    ) {
        self.node = node
        self.admin = admin
        self.listeners = listeners
        self.routeConfigurations = routeConfigurations
        self.clusters = clusters
        self.endpoints = endpoints
        self.secrets = secrets
    }

    /// The static bootstrap: everything inline.
    public var staticBootstrap: Bootstrap {
        Bootstrap(node: node, listeners: listeners, clusters: clusters, admin: admin)
    }

    /// Every route table with the listener that uses it: inline tables of each listener's
    /// connection managers, then the RDS tables those name, then RDS tables no listener names.
    /// Each table appears once.
    public var routeTables: [(listener: Listener?, table: RouteConfiguration)] {
        var out: [(listener: Listener?, table: RouteConfiguration)] = []
        var used = Set<String>()
        let byName = Dictionary(routeConfigurations.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for l in listeners {
            for hcm in l.connectionManagers {
                switch hcm.routes {
                case .inline(let rc): out.append((l, rc))
                case .rds(_, let name):
                    if let rc = byName[name], used.insert(name).inserted { out.append((l, rc)) }
                }
            }
        }
        for rc in routeConfigurations where !used.contains(rc.name) {
            used.insert(rc.name)
            out.append((nil, rc))
        }
        return out
    }
}

/// A reference to (or definition of) an SDS secret, with where it was found.
public struct SecretReference: Equatable, Sendable {
    /// The secret's name.
    public var name: String
    /// True for a `static_resources.secrets` entry, false for an `sds_config` reference.
    public var defined: Bool
    /// Where it was found.
    public var source: SourceSpan?

    /// A secret reference.
    public init(name: String, defined: Bool, source: SourceSpan? = nil) {
        self.name = name
        self.defined = defined
        self.source = source
    }
}
