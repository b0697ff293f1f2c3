import XDSCDiagnostics
import XDSCJSON

/// `envoy.config.route.v3.RouteConfiguration`: the route table of one HTTP connection
/// manager.
public struct RouteConfiguration: Equatable, Sendable, EnvoyEncodable {
    /// `name`; the RDS resource name.
    public var name: String
    /// `virtual_hosts`, in order.
    public var virtualHosts: [VirtualHost]
    /// `validate_clusters`; nil leaves Envoy's default (true inline, false over RDS).
    public var validateClusters: Bool?
    /// Where the table came from: a policy listener or a position in an Envoy file (not
    /// serialised).
    public var source: SourceSpan?

    /// A route table.
    public init(name: String, virtualHosts: [VirtualHost] = [], validateClusters: Bool? = nil, source: SourceSpan? = nil) {
        self.name = name
        self.virtualHosts = virtualHosts
        self.validateClusters = validateClusters
        self.source = source
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        o.setList("virtual_hosts", virtualHosts)
        o.set("validate_clusters", validateClusters.map(JSON.bool))
        return .object(o)
    }
}

/// `envoy.config.route.v3.VirtualHost`.
public struct VirtualHost: Equatable, Sendable, EnvoyEncodable {
    /// `VirtualHost.TlsRequirementType`.
    public enum TLSRequirement: String, Sendable {
        case none = "NONE"
        case externalOnly = "EXTERNAL_ONLY"
        case all = "ALL"
    }

    /// `name` (stats only; Envoy does not require uniqueness).
    public var name: String
    /// `domains`: exact names, `*.suffix` / `prefix.*` wildcards, or `*`.
    public var domains: [String]
    /// `routes`, first match wins.
    public var routes: [Route]
    /// `require_tls`.
    public var requireTLS: TLSRequirement
    /// `request_headers_to_add` of this level.
    public var requestHeadersToAdd: [HeaderValueOption]
    /// `request_headers_to_remove`.
    public var requestHeadersToRemove: [String]
    /// `response_headers_to_add`.
    public var responseHeadersToAdd: [HeaderValueOption]
    /// `response_headers_to_remove`.
    public var responseHeadersToRemove: [String]
    /// `typed_per_filter_config`: filter name → config for every route of this host that
    /// has none of its own (Envoy uses the most specific one), in key order.
    public var typedPerFilterConfig: [(name: String, config: TypedMessage)]
    /// Where this virtual host came from in the policy (not serialised).
    public var source: SourceSpan?
    /// Where each of `domains` was written, when known (same order; not serialised, not
    /// compared).
    public var domainSources: [SourceSpan] = []

    /// A virtual host.
    public init(
        name: String, domains: [String], routes: [Route] = [], requireTLS: TLSRequirement = .none,
        requestHeadersToAdd: [HeaderValueOption] = [], requestHeadersToRemove: [String] = [],
        responseHeadersToAdd: [HeaderValueOption] = [], responseHeadersToRemove: [String] = [],
        typedPerFilterConfig: [(name: String, config: TypedMessage)] = [], source: SourceSpan? = nil
    ) {
        self.name = name
        self.domains = domains
        self.routes = routes
        self.requireTLS = requireTLS
        self.requestHeadersToAdd = requestHeadersToAdd
        self.requestHeadersToRemove = requestHeadersToRemove
        self.responseHeadersToAdd = responseHeadersToAdd
        self.responseHeadersToRemove = responseHeadersToRemove
        self.typedPerFilterConfig = typedPerFilterConfig
        self.source = source
    }

    /// Whether the two values are equal.
    public static func == (a: VirtualHost, b: VirtualHost) -> Bool {
        a.name == b.name && a.domains == b.domains && a.routes == b.routes && a.requireTLS == b.requireTLS
            && a.requestHeadersToAdd == b.requestHeadersToAdd && a.requestHeadersToRemove == b.requestHeadersToRemove
            && a.responseHeadersToAdd == b.responseHeadersToAdd && a.responseHeadersToRemove == b.responseHeadersToRemove
            && a.typedPerFilterConfig.map(\.name) == b.typedPerFilterConfig.map(\.name)
            && a.typedPerFilterConfig.map(\.config) == b.typedPerFilterConfig.map(\.config) && a.source == b.source
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        o.setStrings("domains", domains)
        o.setList("routes", routes)
        if requireTLS != .none { o["require_tls"] = .string(requireTLS.rawValue) }
        o.setList("request_headers_to_add", requestHeadersToAdd)
        o.setStrings("request_headers_to_remove", requestHeadersToRemove)
        o.setList("response_headers_to_add", responseHeadersToAdd)
        o.setStrings("response_headers_to_remove", responseHeadersToRemove)
        if !typedPerFilterConfig.isEmpty {
            var m = JSONObject()
            for (name, config) in typedPerFilterConfig { m[name] = config.json }
            o["typed_per_filter_config"] = .object(m)
        }
        return .object(o)
    }
}

/// `envoy.config.route.v3.Route`.
public struct Route: Equatable, Sendable, EnvoyEncodable {
    /// The `action` oneof.
    public enum Action: Equatable, Sendable {
        case route(RouteAction)
        case redirect(RedirectAction)
        case directResponse(DirectResponseAction)
    }

    /// `name` (optional in Envoy).
    public var name: String?
    /// `match`.
    public var match: RouteMatch
    /// The action.
    public var action: Action
    /// `typed_per_filter_config`: filter name → per-route config, in key order.
    public var typedPerFilterConfig: [(name: String, config: TypedMessage)]
    /// `request_headers_to_add`.
    public var requestHeadersToAdd: [HeaderValueOption]
    /// `request_headers_to_remove`.
    public var requestHeadersToRemove: [String]
    /// `response_headers_to_add`.
    public var responseHeadersToAdd: [HeaderValueOption]
    /// `response_headers_to_remove`.
    public var responseHeadersToRemove: [String]
    /// Where this route came from in the policy (not serialised).
    public var source: SourceSpan?

    /// A route.
    public init(
        name: String? = nil, match: RouteMatch, action: Action,
        typedPerFilterConfig: [(name: String, config: TypedMessage)] = [],
        requestHeadersToAdd: [HeaderValueOption] = [], requestHeadersToRemove: [String] = [],
        responseHeadersToAdd: [HeaderValueOption] = [], responseHeadersToRemove: [String] = [],
        source: SourceSpan? = nil
    ) {
        self.name = name
        self.match = match
        self.action = action
        self.typedPerFilterConfig = typedPerFilterConfig
        self.requestHeadersToAdd = requestHeadersToAdd
        self.requestHeadersToRemove = requestHeadersToRemove
        self.responseHeadersToAdd = responseHeadersToAdd
        self.responseHeadersToRemove = responseHeadersToRemove
        self.source = source
    }

    /// Whether the two values are equal.
    public static func == (a: Route, b: Route) -> Bool {
        a.name == b.name && a.match == b.match && a.action == b.action
            && a.typedPerFilterConfig.map(\.name) == b.typedPerFilterConfig.map(\.name)
            && a.typedPerFilterConfig.map(\.config) == b.typedPerFilterConfig.map(\.config)
            && a.requestHeadersToAdd == b.requestHeadersToAdd && a.requestHeadersToRemove == b.requestHeadersToRemove
            && a.responseHeadersToAdd == b.responseHeadersToAdd
            && a.responseHeadersToRemove == b.responseHeadersToRemove && a.source == b.source
    }

    /// The cluster a plain `route` action names, if any.
    public var clusterName: String? {
        if case .route(let r) = action, case .cluster(let c) = r.clusterSpecifier { return c }
        return nil
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("name", name.map(JSON.string))
        o["match"] = match.json
        switch action {
        case .route(let r): o["route"] = r.json
        case .redirect(let r): o["redirect"] = r.json
        case .directResponse(let d): o["direct_response"] = d.json
        }
        if !typedPerFilterConfig.isEmpty {
            var m = JSONObject()
            for (name, config) in typedPerFilterConfig { m[name] = config.json }
            o["typed_per_filter_config"] = .object(m)
        }
        o.setList("request_headers_to_add", requestHeadersToAdd)
        o.setStrings("request_headers_to_remove", requestHeadersToRemove)
        o.setList("response_headers_to_add", responseHeadersToAdd)
        o.setStrings("response_headers_to_remove", responseHeadersToRemove)
        return .object(o)
    }
}

/// `envoy.config.route.v3.RouteMatch`.
public struct RouteMatch: Equatable, Sendable, EnvoyEncodable {
    /// The `path_specifier` oneof, as far as xdsc models it.
    public enum PathSpecifier: Equatable, Sendable {
        case prefix(String)
        case path(String)
        /// `safe_regex: {regex: ...}`: an RE2 full match on the path without its query.
        case safeRegex(String)
        /// `path_separated_prefix`.
        case pathSeparatedPrefix(String)
        /// `connect_matcher: {}`: CONNECT requests, whatever their path.
        case connectMatcher
    }

    /// The path specifier.
    public var pathSpecifier: PathSpecifier
    /// `case_sensitive`; nil is Envoy's default, true.
    public var caseSensitive: Bool?
    /// `runtime_fraction`.
    public var runtimeFraction: RuntimeFractionalPercent?
    /// `headers`, all must match.
    public var headers: [HeaderMatcher]
    /// `query_parameters`, all must match.
    public var queryParameters: [QueryParameterMatcher]
    /// `grpc: {}`.
    public var grpc: Bool
    /// Match conditions set in a user's Envoy file that xdsc does not evaluate
    /// (`dynamic_metadata`, `filter_state`, `cookies`, `tls_context`, `path_match_policy`),
    /// by proto name. A route with any is left out of the shadowing analysis; the reader
    /// reports each as `unmodeled-field`. Not serialised.
    public var unmodeledCriteria: [String] = []

    /// A route match.
    public init(
        _ pathSpecifier: PathSpecifier, caseSensitive: Bool? = nil, runtimeFraction: RuntimeFractionalPercent? = nil,
        headers: [HeaderMatcher] = [], queryParameters: [QueryParameterMatcher] = [], grpc: Bool = false
    ) {
        self.pathSpecifier = pathSpecifier
        self.caseSensitive = caseSensitive
        self.runtimeFraction = runtimeFraction
        self.headers = headers
        self.queryParameters = queryParameters
        self.grpc = grpc
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        switch pathSpecifier {
        case .prefix(let p): o["prefix"] = .string(p)
        case .path(let p): o["path"] = .string(p)
        case .safeRegex(let r): o["safe_regex"] = .object(["regex": .string(r)])
        case .pathSeparatedPrefix(let p): o["path_separated_prefix"] = .string(p)
        case .connectMatcher: o["connect_matcher"] = .object([:])
        }
        o.set("case_sensitive", caseSensitive.map(JSON.bool))
        o.set("runtime_fraction", runtimeFraction)
        o.setList("headers", headers)
        o.setList("query_parameters", queryParameters)
        if grpc { o["grpc"] = .object([:]) }
        return .object(o)
    }
}

/// `envoy.config.route.v3.RouteAction` (forward to a cluster).
public struct RouteAction: Equatable, Sendable, EnvoyEncodable {
    /// The `cluster_specifier` oneof.
    public enum ClusterSpecifier: Equatable, Sendable {
        case cluster(String)
        /// `cluster_header`: the cluster named by a request header.
        case clusterHeader(String)
        case weightedClusters(WeightedClusters)
    }

    /// The `path_rewrite` kinds xdsc models (at most one per route).
    public enum PathRewrite: Equatable, Sendable {
        case prefix(String)
        case regex(pattern: String, substitution: String)
    }

    /// Where requests go.
    public var clusterSpecifier: ClusterSpecifier
    /// `prefix_rewrite` or `regex_rewrite`.
    public var pathRewrite: PathRewrite?
    /// `host_rewrite_literal`.
    public var hostRewriteLiteral: String?
    /// `timeout`; nil is Envoy's 15 s, `0s` disables.
    public var timeout: EnvoyDuration?
    /// `idle_timeout`.
    public var idleTimeout: EnvoyDuration?
    /// `retry_policy`.
    public var retryPolicy: RetryPolicy?
    /// `request_mirror_policies`.
    public var requestMirrorPolicies: [RequestMirrorPolicy]
    /// `hash_policy`.
    public var hashPolicy: [HashPolicy]
    /// `upgrade_configs` (upgrade types enabled on this route, e.g. `websocket`).
    public var upgradeTypes: [String]

    /// A route action.
    public init(
        _ clusterSpecifier: ClusterSpecifier, pathRewrite: PathRewrite? = nil, hostRewriteLiteral: String? = nil,
        timeout: EnvoyDuration? = nil, idleTimeout: EnvoyDuration? = nil, retryPolicy: RetryPolicy? = nil,
        requestMirrorPolicies: [RequestMirrorPolicy] = [], hashPolicy: [HashPolicy] = [], upgradeTypes: [String] = []
    ) {
        self.clusterSpecifier = clusterSpecifier
        self.pathRewrite = pathRewrite
        self.hostRewriteLiteral = hostRewriteLiteral
        self.timeout = timeout
        self.idleTimeout = idleTimeout
        self.retryPolicy = retryPolicy
        self.requestMirrorPolicies = requestMirrorPolicies
        self.hashPolicy = hashPolicy
        self.upgradeTypes = upgradeTypes
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        switch clusterSpecifier {
        case .cluster(let c): o["cluster"] = .string(c)
        case .clusterHeader(let h): o["cluster_header"] = .string(h)
        case .weightedClusters(let w): o["weighted_clusters"] = w.json
        }
        switch pathRewrite {
        case .prefix(let p): o["prefix_rewrite"] = .string(p)
        case .regex(let pattern, let substitution):
            o["regex_rewrite"] = .object([
                "pattern": .object(["regex": .string(pattern)]), "substitution": .string(substitution),
            ])
        case nil: break
        }
        o.set("host_rewrite_literal", hostRewriteLiteral.map(JSON.string))
        o.set("timeout", timeout)
        o.set("idle_timeout", idleTimeout)
        o.set("retry_policy", retryPolicy)
        o.setList("request_mirror_policies", requestMirrorPolicies)
        o.setList("hash_policy", hashPolicy)
        if !upgradeTypes.isEmpty {
            o["upgrade_configs"] = .array(upgradeTypes.map { .object(["upgrade_type": .string($0)]) })
        }
        return .object(o)
    }
}

/// `envoy.config.route.v3.WeightedCluster`.
public struct WeightedClusters: Equatable, Sendable, EnvoyEncodable {
    /// One `ClusterWeight`.
    public struct Entry: Equatable, Sendable, EnvoyEncodable {
        /// `name`.
        public var name: String
        /// `weight` (required by Envoy).
        public var weight: UInt32

        /// A weighted cluster entry.
        public init(name: String, weight: UInt32) {
            self.name = name
            self.weight = weight
        }

        /// The Envoy v3 JSON form of this value.
        public var json: JSON { .object(["name": .string(name), "weight": .integer(weight)]) }
    }

    /// `clusters`, in order.
    public var clusters: [Entry]
    /// `runtime_key_prefix` (weights may be overridden at runtime; xdsc uses the defaults).
    public var runtimeKeyPrefix: String?

    /// Weighted clusters.
    public init(_ clusters: [Entry], runtimeKeyPrefix: String? = nil) {
        self.clusters = clusters
        self.runtimeKeyPrefix = runtimeKeyPrefix
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.setList("clusters", clusters)
        o.set("runtime_key_prefix", runtimeKeyPrefix.map(JSON.string))
        return .object(o)
    }

    /// Envoy's pick: `value % total` over the cumulative half-open intervals in order.
    public func pick(randomValue: UInt64) -> String? {
        let total = clusters.reduce(UInt64(0)) { $0 + UInt64($1.weight) }
        guard total > 0 else { return nil }
        let v = randomValue % total
        var end: UInt64 = 0
        for c in clusters {
            end += UInt64(c.weight)
            if v < end { return c.name }
        }
        return nil
    }
}

/// `envoy.config.route.v3.RetryPolicy`.
public struct RetryPolicy: Equatable, Sendable, EnvoyEncodable {
    /// `retry_on` tokens, written comma-separated.
    public var retryOn: [String]
    /// `num_retries`; nil is Envoy's default, 1.
    public var numRetries: UInt32?
    /// `per_try_timeout`.
    public var perTryTimeout: EnvoyDuration?
    /// `retriable_status_codes`.
    public var retriableStatusCodes: [UInt32]

    /// A retry policy.
    public init(retryOn: [String], numRetries: UInt32? = nil, perTryTimeout: EnvoyDuration? = nil, retriableStatusCodes: [UInt32] = []) {
        self.retryOn = retryOn
        self.numRetries = numRetries
        self.perTryTimeout = perTryTimeout
        self.retriableStatusCodes = retriableStatusCodes
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        if !retryOn.isEmpty { o["retry_on"] = .string(retryOn.joined(separator: ",")) }
        o.set("num_retries", numRetries.map { JSON.integer($0) })
        o.set("per_try_timeout", perTryTimeout)
        if !retriableStatusCodes.isEmpty { o["retriable_status_codes"] = .array(retriableStatusCodes.map { .integer($0) }) }
        return .object(o)
    }
}

/// `RouteAction.RequestMirrorPolicy`.
public struct RequestMirrorPolicy: Equatable, Sendable, EnvoyEncodable {
    /// `cluster`.
    public var cluster: String
    /// `runtime_fraction`; nil mirrors every request.
    public var runtimeFraction: RuntimeFractionalPercent?

    /// A mirror policy.
    public init(cluster: String, runtimeFraction: RuntimeFractionalPercent? = nil) {
        self.cluster = cluster
        self.runtimeFraction = runtimeFraction
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["cluster"] = .string(cluster)
        o.set("runtime_fraction", runtimeFraction)
        return .object(o)
    }
}

/// `RouteAction.HashPolicy`.
public enum HashPolicy: Equatable, Sendable, EnvoyEncodable {
    /// `header: {header_name}`.
    case header(String)
    /// `cookie: {name}`.
    case cookie(String)
    /// `connection_properties: {source_ip: true}`.
    case sourceIP

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        switch self {
        case .header(let h): .object(["header": .object(["header_name": .string(h)])])
        case .cookie(let c): .object(["cookie": .object(["name": .string(c)])])
        case .sourceIP: .object(["connection_properties": .object(["source_ip": .bool(true)])])
        }
    }
}

/// `envoy.config.route.v3.RedirectAction`.
public struct RedirectAction: Equatable, Sendable, EnvoyEncodable {
    /// `RedirectAction.RedirectResponseCode`.
    public enum ResponseCode: String, Sendable, CaseIterable {
        case movedPermanently = "MOVED_PERMANENTLY"
        case found = "FOUND"
        case seeOther = "SEE_OTHER"
        case temporaryRedirect = "TEMPORARY_REDIRECT"
        case permanentRedirect = "PERMANENT_REDIRECT"

        /// The HTTP status.
        public var status: Int {
            switch self {
            case .movedPermanently: 301
            case .found: 302
            case .seeOther: 303
            case .temporaryRedirect: 307
            case .permanentRedirect: 308
            }
        }

        /// The code for an HTTP status, if it is a redirect status Envoy supports.
        public init?(status: Int) {
            guard let c = Self.allCases.first(where: { $0.status == status }) else { return nil }
            self = c
        }
    }

    /// The `path_rewrite_specifier` oneof.
    public enum PathRedirect: Equatable, Sendable {
        case path(String)
        case prefixRewrite(String)
    }

    /// `scheme_redirect` (or `https_redirect: true` read from a user's config).
    public var scheme: String?
    /// `host_redirect`.
    public var host: String?
    /// `port_redirect`.
    public var port: Int?
    /// `path_redirect` or `prefix_rewrite`.
    public var path: PathRedirect?
    /// `response_code`; 301 is the default and is not written.
    public var responseCode: ResponseCode
    /// `strip_query`.
    public var stripQuery: Bool

    /// A redirect.
    public init(
        scheme: String? = nil, host: String? = nil, port: Int? = nil, path: PathRedirect? = nil,
        responseCode: ResponseCode = .movedPermanently, stripQuery: Bool = false
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.responseCode = responseCode
        self.stripQuery = stripQuery
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("scheme_redirect", scheme.map(JSON.string))
        o.set("host_redirect", host.map(JSON.string))
        o.set("port_redirect", port.map { JSON.integer($0) })
        switch path {
        case .path(let p): o["path_redirect"] = .string(p)
        case .prefixRewrite(let p): o["prefix_rewrite"] = .string(p)
        case nil: break
        }
        if responseCode != .movedPermanently { o["response_code"] = .string(responseCode.rawValue) }
        if stripQuery { o["strip_query"] = .bool(true) }
        return .object(o)
    }
}

/// `envoy.config.route.v3.DirectResponseAction`.
public struct DirectResponseAction: Equatable, Sendable, EnvoyEncodable {
    /// `status`, 200..599.
    public var status: Int
    /// `body` as inline text.
    public var body: String?

    /// A direct response.
    public init(status: Int, body: String? = nil) {
        self.status = status
        self.body = body
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["status"] = .integer(status)
        o.set("body", body.map { DataSource.inlineString($0) })
        return .object(o)
    }
}
