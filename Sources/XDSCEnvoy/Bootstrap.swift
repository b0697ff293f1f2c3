import XDSCJSON

/// `envoy.config.bootstrap.v3.Bootstrap`: what Envoy reads with `-c`.
public struct Bootstrap: Equatable, Sendable, EnvoyMessage {
    /// `node`.
    public var node: Node?
    /// `static_resources.listeners`.
    public var listeners: [Listener]
    /// `static_resources.clusters`.
    public var clusters: [Cluster]
    /// `dynamic_resources`: LDS and CDS from files.
    public var dynamicResources: (lds: PathConfigSource, cds: PathConfigSource)?
    /// `admin.address`.
    public var admin: SocketAddress?

    /// A bootstrap.
    public init(
        node: Node? = nil, listeners: [Listener] = [], clusters: [Cluster] = [],
        dynamicResources: (lds: PathConfigSource, cds: PathConfigSource)? = nil, admin: SocketAddress? = nil
    ) {
        self.node = node
        self.listeners = listeners
        self.clusters = clusters
        self.dynamicResources = dynamicResources
        self.admin = admin
    }

    /// Whether the two values are equal.
    public static func == (a: Bootstrap, b: Bootstrap) -> Bool {
        a.node == b.node && a.listeners == b.listeners && a.clusters == b.clusters
            && a.dynamicResources?.lds == b.dynamicResources?.lds && a.dynamicResources?.cds == b.dynamicResources?.cds
            && a.admin == b.admin
    }

    /// The members of the Envoy v3 JSON form of this value.
    public func encodeFields<F: EnvoyFields>(into o: inout F) {
        o.set("node", node)
        if !listeners.isEmpty || !clusters.isEmpty {
            o.putObject("static_resources") { s in
                s.setList("listeners", listeners)
                s.setList("clusters", clusters)
            }
        }
        if let dynamicResources {
            o.put("dynamic_resources", .object(["lds_config": dynamicResources.lds.json, "cds_config": dynamicResources.cds.json]))
        }
        if let admin { o.put("admin", .object(["address": admin.json])) }
    }
}

/// A `DiscoveryResponse` as Envoy's filesystem subscriptions read it:
/// `{"version_info": ..., "resources": [{"@type": ..., ...}]}`.
public struct DiscoveryResponse: Equatable, Sendable, EnvoyEncodable {
    /// The resource type URLs of the four xDS kinds.
    public enum ResourceType: String, Sendable {
        case listener = "type.googleapis.com/envoy.config.listener.v3.Listener"
        case cluster = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
        case routeConfiguration = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
        case clusterLoadAssignment = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
    }

    /// `version_info`.
    public var versionInfo: String
    /// The type of every resource.
    public var type: ResourceType
    /// The resources, each written with `"@type"` first.
    public var resources: [JSON]

    /// A discovery response.
    public init(versionInfo: String, type: ResourceType, resources: [JSON]) {
        self.versionInfo = versionInfo
        self.type = type
        self.resources = resources
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        let typed: [JSON] = resources.map { r in
            var o = JSONObject()
            o["@type"] = .string(type.rawValue)
            for (k, v) in r.objectValue?.members ?? [] { o[k] = v }
            return .object(o)
        }
        return .object(["version_info": .string(versionInfo), "resources": .array(typed)])
    }
}
