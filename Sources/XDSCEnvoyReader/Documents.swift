import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCSyntax

/// What reading a set of Envoy files produced.
public struct EnvoyReadResult: Sendable {
    /// The configuration, merged over every file in order.
    public var config: EnvoyConfig
    /// Every file read (those named on the command line and those they point at), with its text.
    public var sources: [String: SourceFile]
    /// Extensions xdsc keeps by name only, in file order (for `--verbose`).
    public var opaqueExtensions: [OpaqueExtension]
}

/// How an Envoy document is laid out, decided from its content.
public enum EnvoyDocumentKind: String, Sendable {
    /// `static_resources` / `dynamic_resources` / `node` / `admin`...
    case bootstrap
    /// A discovery response: `resources` with `@type`.
    case discoveryResponse = "discovery response"
    /// An admin `/config_dump`: `configs`.
    case configDump = "config dump"
    /// One resource: `@type`, or a bare `RouteConfiguration`, `Listener`, `Cluster` or `ClusterLoadAssignment`.
    case resource
    /// A YAML or JSON list of resources.
    case resourceList = "resource list"
}

/// Reads users' Envoy v3 configuration (JSON or YAML, any of the document kinds) into the
/// model with positions, following `path_config_source` files. It never throws for bad
/// input: every problem is a diagnostic at its position.
public struct EnvoyReader {
    /// Input limits; Envoy files are often machine-written and large.
    public var limits: InputLimits

    /// Whether files named by `path_config_source` are read too (off when the files are
    /// given directly and the names point at a deployment directory).
    public var followsConfigSources: Bool

    /// A reader.
    public init(limits: InputLimits = EnvoyReader.defaultLimits, followsConfigSources: Bool = true) {
        self.limits = limits
        self.followsConfigSources = followsConfigSources
    }

    /// The limits for Envoy input: files up to 256 MiB (a `config_dump` of a large mesh).
    public static var defaultLimits: InputLimits {
        var l = InputLimits()
        l.maxFileBytes = 256 << 20
        return l
    }

    static let bootstrapKeys: Set<String> = [
        "static_resources", "staticResources", "dynamic_resources", "dynamicResources", "layered_runtime",
        "layeredRuntime", "overload_manager", "overloadManager", "stats_sinks", "statsSinks", "bootstrap_extensions",
        "bootstrapExtensions",
    ]

    /// The kind of an Envoy document from its top-level keys, or nil when it is not one.
    /// A policy has top-level `version` with `listeners`/`services` in the policy shape; an
    /// Envoy document has one of the keys below (or is a list).
    public static func kind(of root: YAMLNode) -> EnvoyDocumentKind? {
        if root.sequence != nil { return .resourceList }
        guard let pairs = root.mapping else { return nil }
        let keys = Set(pairs.compactMap { $0.key.scalar?.text })
        if !keys.isDisjoint(with: bootstrapKeys) { return .bootstrap }
        if keys.contains("configs") { return .configDump }
        if keys.contains("resources") { return .discoveryResponse }
        if keys.contains("@type") || keys.contains("virtual_hosts") || keys.contains("virtualHosts")
            || keys.contains("filter_chains") || keys.contains("filterChains")
            || (keys.contains("cluster_name") || keys.contains("clusterName")) && keys.contains("endpoints")
            || keys.contains("load_assignment") || keys.contains("loadAssignment") || keys.contains("connect_timeout")
            || keys.contains("connectTimeout")
        {
            return .resource
        }
        return nil
    }

    /// One input file, with its YAML tree when the caller already parsed it (to tell it
    /// from a policy).
    public struct File {
        /// The path as shown in diagnostics.
        public var path: String
        /// The file's bytes.
        public var bytes: [UInt8]
        /// The parsed document, if already read (its diagnostics already reported).
        public var root: YAMLNode?

        /// An input file.
        public init(path: String, bytes: [UInt8], root: YAMLNode? = nil) {
            self.path = path
            self.bytes = bytes
            self.root = root
        }
    }

    /// Reads `files` (already in memory) and every file their config sources name.
    public func read(_ files: [(path: String, bytes: [UInt8])], into sink: DiagnosticSink) -> EnvoyReadResult {
        read(files: files.map { File(path: $0.path, bytes: $0.bytes) }, into: sink)
    }

    /// Reads `files` and every file their config sources name.
    public func read(files: [File], into sink: DiagnosticSink) -> EnvoyReadResult {
        let ctx = ReadContext(sink: sink)
        var state = State(ctx: ctx)
        var seen = Set<String>()
        var queue: [(path: String, bytes: [UInt8]?, root: YAMLNode?, namedAt: SourceSpan?)] = files.map {
            ($0.path, $0.bytes, $0.root, nil)
        }
        var i = 0
        while i < queue.count {
            let (path, bytes, parsed, namedAt) = queue[i]
            i += 1
            let key = URL(fileURLWithPath: path).standardizedFileURL.path
            guard seen.insert(key).inserted else { continue }
            guard let bytes = bytes ?? FileManager.default.contents(atPath: path).map([UInt8].init) else {
                sink.add(
                    .unreadableInput, "cannot read \(path), which the configuration names", at: namedAt ?? .point(path),
                    label: "unreadable", help: "paths in `path_config_source` are relative to the file that names them here")
                continue
            }
            state.sources[path] = SourceFile(path: path, bytes: bytes)
            guard let root = parsed ?? YAMLReader(limits: limits).read(bytes, file: path, into: sink) else {
                if !sink.all.contains(where: { $0.span.file == path && $0.severity == .error }) {
                    sink.add(.missingField, "the Envoy file is empty", at: .point(path))
                }
                continue
            }
            var pending: [PendingFile] = []
            state.document(root, pending: &pending)
            for p in pending where followsConfigSources {
                let dir = (p.from as NSString).deletingLastPathComponent
                let resolved = p.path.hasPrefix("/") || dir.isEmpty ? p.path : dir + "/" + p.path
                queue.append((resolved, nil, nil, p.span))
            }
        }
        state.config.secrets = ctx.secrets
        let tables = Set(state.config.routeConfigurations.map(\.name))
        for (name, span) in ctx.rdsReferences where !tables.contains(name) {
            sink.add(
                .unresolvedResource,
                "no route configuration `\(name)` in the files read; the routes of this connection manager are not checked",
                at: span, label: "not found", help: "give the RDS file holding `\(name)` too")
        }
        return EnvoyReadResult(config: state.config, sources: state.sources, opaqueExtensions: ctx.opaque)
    }

    /// The state of one read: the configuration so far.
    struct State {
        let ctx: ReadContext
        var config = EnvoyConfig()
        var sources: [String: SourceFile] = [:]
        var resources: ResourceReader { ResourceReader(ctx: ctx) }

        mutating func document(_ root: YAMLNode, pending: inout [PendingFile]) {
            switch EnvoyReader.kind(of: root) {
            case .bootstrap: bootstrap(root, pending: &pending)
            case .configDump: configDump(root, pending: &pending)
            case .discoveryResponse:
                guard let m = Message(root, Tables.discoveryResponse, ctx) else { return }
                guard let list = m.value("resources"), list.sequence != nil || list.mapping != nil else {
                    if let v = m.value("resources") { m.mismatch("resources", v, "a list of resources") }
                    return
                }
                for r in m.list("resources") { resource(r, typed: true, pending: &pending) }
            case .resource: resource(root, typed: false, pending: &pending)
            case .resourceList:
                for r in root.items { resource(r, typed: false, pending: &pending) }
            case nil:
                ctx.error(
                    .invalidValue,
                    "not an Envoy configuration: expected a bootstrap (`static_resources`...), a discovery response (`resources`), a `config_dump` (`configs`), a resource or a list of resources",
                    at: root.span, help: "give `--input policy` if this is an xdsc policy")
            }
        }

        mutating func bootstrap(_ root: YAMLNode, pending: inout [PendingFile]) {
            guard let m = Message(root, Tables.bootstrap, ctx) else { return }
            if let n = m.message("node", Tables.node) { config.node = Node(id: n.string("id"), cluster: n.string("cluster")) }
            if let a = m.message("admin", Tables.admin), let addr = a.message("address", Tables.address) {
                config.admin = resources.address(addr)
            }
            if let s = m.message("static_resources", Tables.staticResources) {
                for l in s.list("listeners") { if let x = resources.listener(l, pending: &pending) { config.listeners.append(x) } }
                for c in s.list("clusters") { if let x = resources.cluster(c, pending: &pending) { config.clusters.append(x) } }
                for sec in s.messages("secrets", Tables.secret) {
                    if let name = sec.string("name") { ctx.secrets.append(SecretReference(name: name, defined: true, source: sec.span)) }
                }
            }
            if let d = m.message("dynamic_resources", Tables.dynamicResources) {
                for field in ["lds_config", "cds_config"] {
                    guard let cs = d.message(field, Tables.configSource) else { continue }
                    let source = resources.configSource(cs, pending: &pending)
                    if source.path.isEmpty {
                        ctx.error(
                            .unresolvedResource,
                            "`\(field)` names a management server; xdsc reads only files, so those \(field == "lds_config" ? "listeners" : "clusters") are not checked",
                            at: d.keySpan(field), label: "not a file",
                            help: "save the resources (e.g. `istioctl proxy-config all -o json`) and lint that file")
                    }
                }
            }
        }

        /// `type.googleapis.com/<name>` of the resource kinds.
        static let listenerType = TypeURL.prefix + "envoy.config.listener.v3.Listener"
        static let routeType = TypeURL.prefix + "envoy.config.route.v3.RouteConfiguration"
        static let clusterType = TypeURL.prefix + "envoy.config.cluster.v3.Cluster"
        static let endpointType = TypeURL.prefix + "envoy.config.endpoint.v3.ClusterLoadAssignment"
        static let secretType = TypeURL.prefix + "envoy.extensions.transport_sockets.tls.v3.Secret"
        static let resourceWrapper = TypeURL.prefix + "envoy.service.discovery.v3.Resource"
        static let scopedRouteType = TypeURL.prefix + "envoy.config.route.v3.ScopedRouteConfiguration"

        /// One resource: by `@type`, or (`typed: false`, a bare resource) by its shape.
        mutating func resource(_ node: YAMLNode, typed: Bool, pending: inout [PendingFile]) {
            guard node.mapping != nil else {
                ctx.error(.typeMismatch, "expected an Envoy resource object, found \(node.kindDescription)", at: node.span)
                return
            }
            let typeNode = node["@type"]
            var type = typeNode?.scalar?.text
            if type == nil {
                if typed {
                    ctx.error(
                        .missingField, "a discovery response resource needs `@type`", at: node.span, label: "no `@type`",
                        help:
                            "add `\"@type\": type.googleapis.com/envoy.config.route.v3.RouteConfiguration` (or the listener, cluster... type)"
                    )
                    return
                }
                let keys = Set(node.pairs.compactMap { $0.key.scalar.map { Message.protoName($0.text) } })
                if keys.contains("virtual_hosts") {
                    type = Self.routeType
                } else if keys.contains("filter_chains") || keys.contains("address") || keys.contains("default_filter_chain") {
                    type = Self.listenerType
                } else if keys.contains("cluster_name") && keys.contains("endpoints") {
                    type = Self.endpointType
                } else if keys.contains("connect_timeout") || keys.contains("load_assignment") || keys.contains("lb_policy")
                    || keys.contains("eds_cluster_config") || keys.contains("type")
                {
                    type = Self.clusterType
                } else {
                    ctx.error(
                        .invalidValue,
                        "cannot tell which Envoy resource this is; add `@type` (a route configuration, listener, cluster or cluster load assignment)",
                        at: node.span, label: "unknown resource")
                    return
                }
            }
            let at = typeNode?.span ?? node.span
            switch type! {
            case Self.routeType:
                if let rc = resources.routes.routeConfiguration(node) { config.routeConfigurations.append(rc) }
            case Self.listenerType:
                if let l = resources.listener(node, pending: &pending) { config.listeners.append(l) }
            case Self.clusterType:
                if let c = resources.cluster(node, pending: &pending) { config.clusters.append(c) }
            case Self.endpointType:
                if let e = resources.loadAssignment(node) { config.endpoints.append(e) }
            case Self.secretType:
                if let m = Message(node, Tables.secret, ctx, any: true), let name = m.string("name") {
                    ctx.secrets.append(SecretReference(name: name, defined: true, source: m.span))
                }
            case Self.resourceWrapper:
                guard let m = Message(node, Tables.resource, ctx, any: true) else { return }
                guard let inner = m.value("resource") else {
                    ctx.error(.missingField, "a `Resource` wrapper needs `resource`", at: m.span, label: "no `resource`")
                    return
                }
                resource(inner, typed: true, pending: &pending)
            case Self.scopedRouteType:
                ctx.error(
                    .unmodeledField, "scoped route configurations are not modelled; their routes are not checked", at: at,
                    label: "not modelled")
            case let t where TypeURL.isV2(t):
                _ = resources.checkType(t, at: at)
            case let t:
                ctx.error(
                    .invalidValue, "`\(t)` is not a resource type xdsc reads (listener, route configuration, cluster, endpoints, secret)",
                    at: at, label: "unknown type")
            }
        }

        static let dumpPrefix = TypeURL.prefix + "envoy.admin.v3."

        /// An admin `/config_dump`: `configs[]`, each a typed dump of one kind.
        mutating func configDump(_ root: YAMLNode, pending: inout [PendingFile]) {
            guard let m = Message(root, Tables.configDump, ctx) else { return }
            for c in m.list("configs") {
                guard let t = c["@type"]?.scalar?.text else {
                    ctx.error(.missingField, "a `config_dump` entry needs `@type`", at: c.span, label: "no `@type`")
                    continue
                }
                let name = t.hasPrefix(Self.dumpPrefix) ? String(t.dropFirst(Self.dumpPrefix.count)) : t
                switch name {
                case "BootstrapConfigDump":
                    if let d = Message(c, Tables.bootstrapConfigDump, ctx, any: true), let b = d.value("bootstrap") {
                        bootstrap(b, pending: &pending)
                    }
                case "ListenersConfigDump":
                    guard let d = Message(c, Tables.listenersConfigDump, ctx, any: true) else { continue }
                    for s in d.messages("static_listeners", Tables.staticListener) {
                        if let l = s.value("listener") { resource(l, typed: false, pending: &pending) }
                    }
                    for s in d.messages("dynamic_listeners", Tables.dynamicListener) {
                        if let a = s.message("active_state", Tables.dynamicListenerState), let l = a.value("listener") {
                            resource(l, typed: false, pending: &pending)
                        }
                    }
                case "ClustersConfigDump":
                    guard let d = Message(c, Tables.clustersConfigDump, ctx, any: true) else { continue }
                    for s in d.messages("static_clusters", Tables.staticCluster) {
                        if let x = s.value("cluster") { resource(x, typed: false, pending: &pending) }
                    }
                    for s in d.messages("dynamic_active_clusters", Tables.dynamicCluster) {
                        if let x = s.value("cluster") { resource(x, typed: false, pending: &pending) }
                    }
                case "RoutesConfigDump":
                    guard let d = Message(c, Tables.routesConfigDump, ctx, any: true) else { continue }
                    for s in d.messages("static_route_configs", Tables.staticRouteConfig)
                        + d.messages(
                            "dynamic_route_configs", Tables.dynamicRouteConfig)
                    {
                        if let x = s.value("route_config") { resource(x, typed: false, pending: &pending) }
                    }
                case "EndpointsConfigDump":
                    guard let d = Message(c, Tables.endpointsConfigDump, ctx, any: true) else { continue }
                    for s in d.messages("static_endpoint_configs", Tables.endpointConfig)
                        + d.messages(
                            "dynamic_endpoint_configs", Tables.endpointConfig)
                    {
                        if let x = s.value("endpoint_config") { resource(x, typed: false, pending: &pending) }
                    }
                case "ScopedRoutesConfigDump":
                    _ = Message(c, Tables.scopedRoutesConfigDump, ctx, any: true)
                case "SecretsConfigDump":
                    _ = Message(c, Tables.secretsConfigDump, ctx, any: true)
                default:
                    // Other dumps (extension configs, init dump...) hold nothing xdsc checks.
                    ctx.opaque.append(OpaqueExtension(name: "config_dump", typeURL: t, source: c.span))
                }
            }
        }
    }
}
