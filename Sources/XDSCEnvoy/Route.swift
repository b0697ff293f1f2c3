import XDSCDiagnostics
import XDSCJSON

/// `envoy.config.route.v3.RouteConfiguration`: the route table of one HTTP connection
/// manager.
public struct RouteConfiguration: Equatable, Sendable, EnvoyMessage {
    /// `name`; the RDS resource name.
    public var name: String
    /// `virtual_hosts`, in order.
    public var virtualHosts: [VirtualHost]
    /// `validate_clusters`; nil leaves Envoy's default (true inline, false over RDS).
    public var validateClusters: Bool?
    /// `request_headers_to_add` of the route-configuration level.
    public var requestHeadersToAdd: [HeaderValueOption] = []
    /// `request_headers_to_remove`.
    public var requestHeadersToRemove: [String] = []
    /// `response_headers_to_add`.
    public var responseHeadersToAdd: [HeaderValueOption] = []
    /// `response_headers_to_remove`.
    public var responseHeadersToRemove: [String] = []
    /// `most_specific_header_mutations_wins`: run the levels route-config, vhost, route (so the
    /// route's overwrites win) instead of route, vhost, route-config.
    public var mostSpecificHeaderMutationsWins = false
    /// `ignore_port_in_host_matching`: drop `:port` from the Host before virtual-host lookup.
    public var ignorePortInHostMatching = false
    /// `vhost_header`: the header virtual hosts are chosen by instead of `:authority`.
    public var vhostHeader: String?
    /// `internal_only_headers` (removed from external requests by the connection manager).
    public var internalOnlyHeaders: [String] = []
    /// `max_direct_response_body_size_bytes`; nil is Envoy's 4096.
    public var maxDirectResponseBodySizeBytes: UInt32?
    /// `request_mirror_policies` of this level (used when neither vhost nor route has any).
    public var requestMirrorPolicies: [RequestMirrorPolicy] = []
    /// `typed_per_filter_config` of this level, in key order.
    public var typedPerFilterConfig: [FilterConfigEntry] = []
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

    /// The members of the Envoy v3 JSON form of this value.
    public func encodeFields<F: EnvoyFields>(into o: inout F) {
        o.put("name", .string(name))
        o.setList("virtual_hosts", virtualHosts)
        o.set("validate_clusters", validateClusters.map(JSON.bool))
        o.setList("request_headers_to_add", requestHeadersToAdd)
        o.setStrings("request_headers_to_remove", requestHeadersToRemove)
        o.setList("response_headers_to_add", responseHeadersToAdd)
        o.setStrings("response_headers_to_remove", responseHeadersToRemove)
        if mostSpecificHeaderMutationsWins { o.put("most_specific_header_mutations_wins", .bool(true)) }
        if ignorePortInHostMatching { o.put("ignore_port_in_host_matching", .bool(true)) }
        o.set("vhost_header", vhostHeader.map(JSON.string))
        o.setStrings("internal_only_headers", internalOnlyHeaders)
        o.set("max_direct_response_body_size_bytes", maxDirectResponseBodySizeBytes.map { JSON.integer($0) })
        o.setList("request_mirror_policies", requestMirrorPolicies)
        if !typedPerFilterConfig.isEmpty {
            var m = JSONObject()
            for e in typedPerFilterConfig { m[e.name] = e.config.json }
            o.put("typed_per_filter_config", .object(m))
        }
    }
}

/// One `typed_per_filter_config` entry: the filter name and its per-route config.
public struct FilterConfigEntry: Equatable, Sendable {
    /// The HTTP filter name the config is for.
    public var name: String
    /// The config.
    public var config: TypedMessage

    /// An entry.
    public init(name: String, config: TypedMessage) {
        self.name = name
        self.config = config
    }
}

/// `envoy.config.route.v3.VirtualCluster`: a stats bucket chosen by request headers.
public struct VirtualCluster: Equatable, Sendable, EnvoyEncodable {
    /// `name`.
    public var name: String
    /// `headers`, all must match.
    public var headers: [HeaderMatcher]

    /// A virtual cluster.
    public init(name: String, headers: [HeaderMatcher]) {
        self.name = name
        self.headers = headers
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        o.setList("headers", headers)
        return .object(o)
    }
}

/// `envoy.config.route.v3.VirtualHost`.
public struct VirtualHost: Equatable, Sendable, EnvoyMessage {
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
    /// `virtual_clusters` (stats only), first match wins.
    public var virtualClusters: [VirtualCluster] = []
    /// `retry_policy` for routes that have none of their own.
    public var retryPolicy: RetryPolicy?
    /// `request_mirror_policies` for routes that have none of their own.
    public var requestMirrorPolicies: [RequestMirrorPolicy] = []
    /// `rate_limits`, as written (applied by the rate-limit filter).
    public var rateLimits: [JSON] = []
    /// The deprecated `cors` field, as written.
    public var cors: JSON?
    /// `include_request_attempt_count`: the router sends `x-envoy-attempt-count` upstream.
    public var includeRequestAttemptCount = false
    /// `include_attempt_count_in_response`: the router adds `x-envoy-attempt-count` to the response.
    public var includeAttemptCountInResponse = false
    /// `request_body_buffer_limit`: how much of a request body the router keeps for retries on
    /// this host's routes (``Route/effectiveBufferLimit(host:)``).
    public var requestBodyBufferLimit: UInt64?
    /// `per_request_buffer_limit_bytes`, the legacy form of `request_body_buffer_limit`.
    public var perRequestBufferLimitBytes: UInt32?
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
            && a.virtualClusters == b.virtualClusters && a.retryPolicy == b.retryPolicy
            && a.requestMirrorPolicies == b.requestMirrorPolicies && a.rateLimits == b.rateLimits && a.cors == b.cors
            && a.includeRequestAttemptCount == b.includeRequestAttemptCount
            && a.includeAttemptCountInResponse == b.includeAttemptCountInResponse
            && a.requestBodyBufferLimit == b.requestBodyBufferLimit && a.perRequestBufferLimitBytes == b.perRequestBufferLimitBytes
    }

    /// The members of the Envoy v3 JSON form of this value.
    public func encodeFields<F: EnvoyFields>(into o: inout F) {
        o.put("name", .string(name))
        o.setStrings("domains", domains)
        o.setList("routes", routes)
        if requireTLS != .none { o.put("require_tls", .string(requireTLS.rawValue)) }
        o.setList("request_headers_to_add", requestHeadersToAdd)
        o.setStrings("request_headers_to_remove", requestHeadersToRemove)
        o.setList("response_headers_to_add", responseHeadersToAdd)
        o.setStrings("response_headers_to_remove", responseHeadersToRemove)
        if !typedPerFilterConfig.isEmpty {
            var m = JSONObject()
            for (name, config) in typedPerFilterConfig { m[name] = config.json }
            o.put("typed_per_filter_config", .object(m))
        }
        o.setList("virtual_clusters", virtualClusters)
        o.set("retry_policy", retryPolicy)
        o.setList("request_mirror_policies", requestMirrorPolicies)
        if !rateLimits.isEmpty { o.put("rate_limits", .array(rateLimits)) }
        o.set("cors", cors)
        if includeRequestAttemptCount { o.put("include_request_attempt_count", .bool(true)) }
        if includeAttemptCountInResponse { o.put("include_attempt_count_in_response", .bool(true)) }
        if let perRequestBufferLimitBytes { o.put("per_request_buffer_limit_bytes", .integer(perRequestBufferLimitBytes)) }
        if let requestBodyBufferLimit { o.put("request_body_buffer_limit", .integer(requestBodyBufferLimit)) }
    }
}

/// `envoy.config.route.v3.Route`.
public struct Route: Equatable, Sendable, EnvoyEncodable {
    /// The `action` oneof.
    public enum Action: Equatable, Sendable {
        case route(RouteAction)
        // Boxed: inline, a redirect made every route's action 88 bytes.
        indirect case redirect(RedirectAction)
        case directResponse(DirectResponseAction)
    }

    /// `name` (optional in Envoy).
    public var name: String?
    /// `match`.
    public var match: RouteMatch
    /// The action.
    public var action: Action
    /// Where this route came from in the policy (not serialised).
    public var source: SourceSpan?
    // The position, 0 for none: 4 bytes where an `Int?` took 16 (issue 13).
    private var positionCode: UInt32 = 0

    // The per-route filter configuration and header operations are rare (most routes of a
    // large table set none): they live out of line, in one box shared by copies until
    // written, and a route without any holds no box (issue 13: inline, five arrays were 40
    // of every route's bytes).
    struct Extras: OutOfLineFields {
        var typedPerFilterConfig: [(name: String, config: TypedMessage)] = []
        var requestHeadersToAdd: [HeaderValueOption] = []
        var requestHeadersToRemove: [String] = []
        var responseHeadersToAdd: [HeaderValueOption] = []
        var responseHeadersToRemove: [String] = []
        var requestBodyBufferLimit: UInt64?
        var perRequestBufferLimitBytes: UInt32?

        static func == (a: Extras, b: Extras) -> Bool {
            a.requestBodyBufferLimit == b.requestBodyBufferLimit && a.perRequestBufferLimitBytes == b.perRequestBufferLimitBytes
                && a.typedPerFilterConfig.map(\.name) == b.typedPerFilterConfig.map(\.name)
                && a.typedPerFilterConfig.map(\.config) == b.typedPerFilterConfig.map(\.config)
                && a.requestHeadersToAdd == b.requestHeadersToAdd && a.requestHeadersToRemove == b.requestHeadersToRemove
                && a.responseHeadersToAdd == b.responseHeadersToAdd && a.responseHeadersToRemove == b.responseHeadersToRemove
        }
    }

    private var extras = OutOfLine<Extras>()

    /// `typed_per_filter_config`: filter name → per-route config, in key order.
    public var typedPerFilterConfig: [(name: String, config: TypedMessage)] {
        get { extras.stored?.typedPerFilterConfig ?? [] }
        set { extras.update(unlessDefault: newValue.isEmpty) { $0.typedPerFilterConfig = newValue } }
    }
    /// `request_headers_to_add`.
    public var requestHeadersToAdd: [HeaderValueOption] {
        get { extras.stored?.requestHeadersToAdd ?? [] }
        set { extras.update(unlessDefault: newValue.isEmpty) { $0.requestHeadersToAdd = newValue } }
    }
    /// `request_headers_to_remove`.
    public var requestHeadersToRemove: [String] {
        get { extras.stored?.requestHeadersToRemove ?? [] }
        set { extras.update(unlessDefault: newValue.isEmpty) { $0.requestHeadersToRemove = newValue } }
    }
    /// `response_headers_to_add`.
    public var responseHeadersToAdd: [HeaderValueOption] {
        get { extras.stored?.responseHeadersToAdd ?? [] }
        set { extras.update(unlessDefault: newValue.isEmpty) { $0.responseHeadersToAdd = newValue } }
    }
    /// `response_headers_to_remove`.
    public var responseHeadersToRemove: [String] {
        get { extras.stored?.responseHeadersToRemove ?? [] }
        set { extras.update(unlessDefault: newValue.isEmpty) { $0.responseHeadersToRemove = newValue } }
    }
    /// `request_body_buffer_limit`.
    public var requestBodyBufferLimit: UInt64? {
        get { extras.stored?.requestBodyBufferLimit }
        set { extras.update(unlessDefault: newValue == nil) { $0.requestBodyBufferLimit = newValue } }
    }
    /// `per_request_buffer_limit_bytes` (legacy).
    public var perRequestBufferLimitBytes: UInt32? {
        get { extras.stored?.perRequestBufferLimitBytes }
        set { extras.update(unlessDefault: newValue == nil) { $0.perRequestBufferLimitBytes = newValue } }
    }

    /// How much of a request body the router keeps for retries on this route of `host` (nil:
    /// the connection's buffer limit), as `requestBodyBufferLimit()` of config_impl.h gives it:
    /// the new field before the legacy one, each the route's before the host's. Envoy 1.35 let a
    /// host's legacy field win over the route's legacy one (envoyproxy/envoy#42611, fixed since);
    /// this is the fixed order.
    public func effectiveBufferLimit(host: VirtualHost) -> UInt64? {
        requestBodyBufferLimit ?? host.requestBodyBufferLimit ?? perRequestBufferLimitBytes.map(UInt64.init)
            ?? host.perRequestBufferLimitBytes.map(UInt64.init)
    }

    /// The route's 1-based position in the list it was written in (a policy host's
    /// `routes`, or a virtual host's `routes` in an Envoy file), counting the routes before it
    /// that were dropped for an error; nil for a route built in code (not serialised, not
    /// compared). A position is from 1 to `UInt32.max`; another value reads back as nil.
    public var position: Int? {
        get { positionCode == 0 ? nil : Int(positionCode) }
        set { positionCode = newValue.flatMap { UInt32(exactly: $0) } ?? 0 }
    }

    /// How messages name this route, at `index` of its virtual host's routes: its name in
    /// backticks, or `#N` with N its position as written (`index + 1` when it has none).
    public func label(at index: Int) -> String {
        name.map { "`\($0)`" } ?? "#\(position ?? index + 1)"
    }

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
        self.source = source
        self.typedPerFilterConfig = typedPerFilterConfig
        self.requestHeadersToAdd = requestHeadersToAdd
        self.requestHeadersToRemove = requestHeadersToRemove
        self.responseHeadersToAdd = responseHeadersToAdd
        self.responseHeadersToRemove = responseHeadersToRemove
    }

    /// Whether the two values are equal.
    public static func == (a: Route, b: Route) -> Bool {
        a.name == b.name && a.match == b.match && a.action == b.action
            && a.extras == b.extras && a.source == b.source
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
        o.set("per_request_buffer_limit_bytes", perRequestBufferLimitBytes.map { JSON.integer($0) })
        o.set("request_body_buffer_limit", requestBodyBufferLimit.map { JSON.integer($0) })
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
    /// `headers`, all must match.
    public var headers: [HeaderMatcher]

    // The other conditions are rare: out of line, in one box shared by copies until
    // written; a match without any holds no box (issue 13: inline, they were 64 of every
    // route's bytes).
    struct Rare: OutOfLineFields {
        var runtimeFraction: RuntimeFractionalPercent?
        var queryParameters: [QueryParameterMatcher] = []
        var grpc = false
        var unmodeledCriteria: [String] = []
        var dynamicMetadata: [MetadataMatcher] = []
    }

    private var rare = OutOfLine<Rare>()

    /// `runtime_fraction`.
    public var runtimeFraction: RuntimeFractionalPercent? {
        get { rare.stored?.runtimeFraction }
        set { rare.update(unlessDefault: newValue == nil) { $0.runtimeFraction = newValue } }
    }
    /// `query_parameters`, all must match.
    public var queryParameters: [QueryParameterMatcher] {
        get { rare.stored?.queryParameters ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.queryParameters = newValue } }
    }
    /// `grpc: {}`.
    public var grpc: Bool {
        get { rare.stored?.grpc ?? false }
        set { rare.update(unlessDefault: !newValue) { $0.grpc = newValue } }
    }
    /// Match conditions set in a user's Envoy file that xdsc does not evaluate
    /// (`dynamic_metadata`, `filter_state`, `cookies`, `tls_context`, `path_match_policy`),
    /// by proto name. A route with any is left out of the shadowing analysis; the reader
    /// reports each as `unmodeled-field`. Not serialised.
    public var unmodeledCriteria: [String] {
        get { rare.stored?.unmodeledCriteria ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.unmodeledCriteria = newValue } }
    }
    /// `dynamic_metadata`, all must match.
    public var dynamicMetadata: [MetadataMatcher] {
        get { rare.stored?.dynamicMetadata ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.dynamicMetadata = newValue } }
    }

    /// Whether the two matches are equal, field by field.
    public static func == (a: RouteMatch, b: RouteMatch) -> Bool {
        a.pathSpecifier == b.pathSpecifier && a.caseSensitive == b.caseSensitive && a.headers == b.headers
            && a.rare == b.rare
    }

    /// A route match.
    public init(
        _ pathSpecifier: PathSpecifier, caseSensitive: Bool? = nil, runtimeFraction: RuntimeFractionalPercent? = nil,
        headers: [HeaderMatcher] = [], queryParameters: [QueryParameterMatcher] = [], grpc: Bool = false
    ) {
        self.pathSpecifier = pathSpecifier
        self.caseSensitive = caseSensitive
        self.headers = headers
        self.runtimeFraction = runtimeFraction
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
        o.setList("dynamic_metadata", dynamicMetadata)
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
        // Boxed (`indirect`): inline, a split made every route's action 48 bytes (issue 13).
        indirect case weightedClusters(WeightedClusters)
    }

    /// The `path_rewrite` kinds xdsc models (at most one per route).
    public enum PathRewrite: Equatable, Sendable {
        case prefix(String)
        case regex(pattern: String, substitution: String)
    }

    /// Where requests go.
    public var clusterSpecifier: ClusterSpecifier
    /// `timeout`; nil is Envoy's 15 s, `0s` disables.
    public var timeout: EnvoyDuration?

    // Every other field is rare, and lives out of line (issue 13): inline, they made each
    // route's action 320 bytes, for every route of a large table; a route that sets none of
    // them holds no box at all, and copies share one until written.
    struct Rare: OutOfLineFields {
        var pathRewrite: PathRewrite?
        var hostRewriteLiteral: String?
        var idleTimeout: EnvoyDuration?
        var retryPolicy: RetryPolicy?
        var requestMirrorPolicies: [RequestMirrorPolicy] = []
        var hashPolicy: [HashPolicy] = []
        var upgradeTypes: [String] = []
        var disabledUpgradeTypes: [String] = []
        var hostRewriteHeader: String?
        var autoHostRewrite = false
        var hostRewritePathRegex: RegexRewrite?
        var appendXForwardedHost = false
        var clusterNotFoundResponseCode: Int?
        var rateLimits: [JSON] = []
        var includeVirtualHostRateLimits = false
        var cors: JSON?
        var maxStreamDuration: MaxStreamDuration?
        var maxGrpcTimeout: EnvoyDuration?
        var grpcTimeoutOffset: EnvoyDuration?
        var priority = RoutingPriority.default
        var unsimulatedFields: [String] = []
    }

    private var rare = OutOfLine<Rare>()

    /// `prefix_rewrite` or `regex_rewrite`.
    public var pathRewrite: PathRewrite? {
        get { rare.stored?.pathRewrite }
        set { rare.update(unlessDefault: newValue == nil) { $0.pathRewrite = newValue } }
    }
    /// `host_rewrite_literal`.
    public var hostRewriteLiteral: String? {
        get { rare.stored?.hostRewriteLiteral }
        set { rare.update(unlessDefault: newValue == nil) { $0.hostRewriteLiteral = newValue } }
    }
    /// `idle_timeout`.
    public var idleTimeout: EnvoyDuration? {
        get { rare.stored?.idleTimeout }
        set { rare.update(unlessDefault: newValue == nil) { $0.idleTimeout = newValue } }
    }
    /// `retry_policy`.
    public var retryPolicy: RetryPolicy? {
        get { rare.stored?.retryPolicy }
        set { rare.update(unlessDefault: newValue == nil) { $0.retryPolicy = newValue } }
    }
    /// `request_mirror_policies`.
    public var requestMirrorPolicies: [RequestMirrorPolicy] {
        get { rare.stored?.requestMirrorPolicies ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.requestMirrorPolicies = newValue } }
    }
    /// `hash_policy`.
    public var hashPolicy: [HashPolicy] {
        get { rare.stored?.hashPolicy ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.hashPolicy = newValue } }
    }
    /// `upgrade_configs` (upgrade types enabled on this route, e.g. `websocket`).
    public var upgradeTypes: [String] {
        get { rare.stored?.upgradeTypes ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.upgradeTypes = newValue } }
    }
    /// `upgrade_configs` entries with `enabled: false`: upgrade types this route refuses even
    /// when the connection manager allows them (`createUpgradeFilterChain`).
    public var disabledUpgradeTypes: [String] {
        get { rare.stored?.disabledUpgradeTypes ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.disabledUpgradeTypes = newValue } }
    }
    /// `host_rewrite_header`: the Host becomes the first value of this request header.
    public var hostRewriteHeader: String? {
        get { rare.stored?.hostRewriteHeader }
        set { rare.update(unlessDefault: newValue == nil) { $0.hostRewriteHeader = newValue } }
    }
    /// `auto_host_rewrite`: the Host becomes the upstream host's hostname (known only
    /// after host selection).
    public var autoHostRewrite: Bool {
        get { rare.stored?.autoHostRewrite ?? false }
        set { rare.update(unlessDefault: !newValue) { $0.autoHostRewrite = newValue } }
    }
    /// `host_rewrite_path_regex`: the Host becomes the path rewritten by this regex.
    public var hostRewritePathRegex: RegexRewrite? {
        get { rare.stored?.hostRewritePathRegex }
        set { rare.update(unlessDefault: newValue == nil) { $0.hostRewritePathRegex = newValue } }
    }
    /// `append_x_forwarded_host`.
    public var appendXForwardedHost: Bool {
        get { rare.stored?.appendXForwardedHost ?? false }
        set { rare.update(unlessDefault: !newValue) { $0.appendXForwardedHost = newValue } }
    }
    /// `cluster_not_found_response_code` as an HTTP status; nil is Envoy's 503.
    public var clusterNotFoundResponseCode: Int? {
        get { rare.stored?.clusterNotFoundResponseCode }
        set { rare.update(unlessDefault: newValue == nil) { $0.clusterNotFoundResponseCode = newValue } }
    }
    /// `rate_limits`, as written.
    public var rateLimits: [JSON] {
        get { rare.stored?.rateLimits ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.rateLimits = newValue } }
    }
    /// `include_vh_rate_limits`.
    public var includeVirtualHostRateLimits: Bool {
        get { rare.stored?.includeVirtualHostRateLimits ?? false }
        set { rare.update(unlessDefault: !newValue) { $0.includeVirtualHostRateLimits = newValue } }
    }
    /// The deprecated `cors` field, as written.
    public var cors: JSON? {
        get { rare.stored?.cors }
        set { rare.update(unlessDefault: newValue == nil) { $0.cors = newValue } }
    }

    /// `max_stream_duration`: when set (even empty), the router's own timeout is off
    /// (`usingNewTimeouts`) and the connection manager's stream timer applies.
    public var maxStreamDuration: MaxStreamDuration? {
        get { rare.stored?.maxStreamDuration }
        set { rare.update(unlessDefault: newValue == nil) { $0.maxStreamDuration = newValue } }
    }
    /// The deprecated `max_grpc_timeout`: a gRPC request's timeout comes from `grpc-timeout`,
    /// capped at this (0 is no cap).
    public var maxGrpcTimeout: EnvoyDuration? {
        get { rare.stored?.maxGrpcTimeout }
        set { rare.update(unlessDefault: newValue == nil) { $0.maxGrpcTimeout = newValue } }
    }
    /// The deprecated `grpc_timeout_offset`, taken off the `grpc-timeout` value.
    public var grpcTimeoutOffset: EnvoyDuration? {
        get { rare.stored?.grpcTimeoutOffset }
        set { rare.update(unlessDefault: newValue == nil) { $0.grpcTimeoutOffset = newValue } }
    }

    /// `priority`: which of the cluster's circuit-breaker thresholds (and connection pools)
    /// the route's requests use.
    public var priority: RoutingPriority {
        get { rare.stored?.priority ?? .default }
        set { rare.update(unlessDefault: newValue == .default) { $0.priority = newValue } }
    }

    /// The fields of the action (and of its virtual host) Envoy acts on but the proxy does
    /// not (`hedge_policy`, `internal_redirect_policy`, ...), as set in an Envoy file (not
    /// serialised): the proxy warns about each at start.
    public var unsimulatedFields: [String] {
        get { rare.stored?.unsimulatedFields ?? [] }
        set { rare.update(unlessDefault: newValue.isEmpty) { $0.unsimulatedFields = newValue } }
    }

    /// Whether the two actions are equal, field by field.
    public static func == (a: RouteAction, b: RouteAction) -> Bool {
        a.clusterSpecifier == b.clusterSpecifier && a.timeout == b.timeout && a.rare == b.rare
    }

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
        if !upgradeTypes.isEmpty || !disabledUpgradeTypes.isEmpty {
            o["upgrade_configs"] = .array(
                upgradeTypes.map { .object(["upgrade_type": .string($0)]) }
                    + disabledUpgradeTypes.map { .object(["upgrade_type": .string($0), "enabled": .bool(false)]) })
        }
        o.set("host_rewrite_header", hostRewriteHeader.map(JSON.string))
        if autoHostRewrite { o["auto_host_rewrite"] = .bool(true) }
        o.set("host_rewrite_path_regex", hostRewritePathRegex)
        if appendXForwardedHost { o["append_x_forwarded_host"] = .bool(true) }
        if let c = clusterNotFoundResponseCode {
            o["cluster_not_found_response_code"] = .string(
                c == 404 ? "NOT_FOUND" : c == 500 ? "INTERNAL_SERVER_ERROR" : "SERVICE_UNAVAILABLE")
        }
        if !rateLimits.isEmpty { o["rate_limits"] = .array(rateLimits) }
        if includeVirtualHostRateLimits { o["include_vh_rate_limits"] = .bool(true) }
        o.set("cors", cors)
        o.set("max_grpc_timeout", maxGrpcTimeout)
        o.set("grpc_timeout_offset", grpcTimeoutOffset)
        o.set("max_stream_duration", maxStreamDuration)
        if priority != .default { o["priority"] = .string(priority.rawValue) }
        return .object(o)
    }
}

/// `envoy.config.core.v3.RoutingPriority`: a cluster keeps one set of circuit breakers and
/// connection pools per priority (`ClusterInfoImpl::ResourceManagers`, upstream_impl.cc).
public enum RoutingPriority: String, Sendable, Hashable, CaseIterable {
    case `default` = "DEFAULT"
    case high = "HIGH"

    /// 0 for DEFAULT, 1 for HIGH (Envoy's `ResourcePriority`).
    public var index: Int { self == .default ? 0 : 1 }
}

/// `envoy.config.route.v3.RouteAction.MaxStreamDuration`.
public struct MaxStreamDuration: Equatable, Sendable, EnvoyEncodable {
    /// `max_stream_duration`: the stream's limit (0 disables the timer; nil falls back to
    /// the connection manager's).
    public var maxStreamDuration: EnvoyDuration?
    /// `grpc_timeout_header_max`: with it, a `grpc-timeout` header sets the limit, capped at
    /// this (0 is no cap).
    public var grpcTimeoutHeaderMax: EnvoyDuration?
    /// `grpc_timeout_header_offset`, taken off the `grpc-timeout` value.
    public var grpcTimeoutHeaderOffset: EnvoyDuration?

    /// A stream duration policy.
    public init(
        maxStreamDuration: EnvoyDuration? = nil, grpcTimeoutHeaderMax: EnvoyDuration? = nil,
        grpcTimeoutHeaderOffset: EnvoyDuration? = nil
    ) {
        self.maxStreamDuration = maxStreamDuration
        self.grpcTimeoutHeaderMax = grpcTimeoutHeaderMax
        self.grpcTimeoutHeaderOffset = grpcTimeoutHeaderOffset
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("max_stream_duration", maxStreamDuration)
        o.set("grpc_timeout_header_max", grpcTimeoutHeaderMax)
        o.set("grpc_timeout_header_offset", grpcTimeoutHeaderOffset)
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
        /// `cluster_header`: the entry's cluster is the first value of this request header
        /// (then `name` is empty).
        public var clusterHeader: String?
        /// `request_headers_to_add` of this entry (evaluated before the route's).
        public var requestHeadersToAdd: [HeaderValueOption] = []
        /// `request_headers_to_remove`.
        public var requestHeadersToRemove: [String] = []
        /// `response_headers_to_add`.
        public var responseHeadersToAdd: [HeaderValueOption] = []
        /// `response_headers_to_remove`.
        public var responseHeadersToRemove: [String] = []
        /// `host_rewrite_literal` of this entry (a route-level host rewrite wins over it).
        public var hostRewriteLiteral: String?
        /// `typed_per_filter_config` of this entry.
        public var typedPerFilterConfig: [FilterConfigEntry] = []

        /// A weighted cluster entry.
        public init(name: String, weight: UInt32, clusterHeader: String? = nil) {
            self.name = name
            self.weight = weight
            self.clusterHeader = clusterHeader
        }

        /// The Envoy v3 JSON form of this value.
        public var json: JSON {
            var o = JSONObject()
            if let h = clusterHeader { o["cluster_header"] = .string(h) } else { o["name"] = .string(name) }
            o["weight"] = .integer(weight)
            o.setList("request_headers_to_add", requestHeadersToAdd)
            o.setStrings("request_headers_to_remove", requestHeadersToRemove)
            o.setList("response_headers_to_add", responseHeadersToAdd)
            o.setStrings("response_headers_to_remove", responseHeadersToRemove)
            o.set("host_rewrite_literal", hostRewriteLiteral.map(JSON.string))
            if !typedPerFilterConfig.isEmpty {
                var m = JSONObject()
                for e in typedPerFilterConfig { m[e.name] = e.config.json }
                o["typed_per_filter_config"] = .object(m)
            }
            return .object(o)
        }
    }

    /// `clusters`, in order.
    public var clusters: [Entry]
    /// `runtime_key_prefix` (weights may be overridden at runtime; xdsc uses the defaults).
    public var runtimeKeyPrefix: String?
    /// `header_name`: a request header whose single uint64 value replaces the random value.
    public var headerName: String?
    /// The deprecated `total_weight`, as written; Envoy ignores it.
    public var totalWeight: UInt32?
    /// `use_hash_policy`: the route's hash policy result replaces the random value.
    public var useHashPolicy = false

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
        o.set("header_name", headerName.map(JSON.string))
        o.set("total_weight", totalWeight.map { JSON.integer($0) })
        if useHashPolicy { o["use_hash_policy"] = .bool(true) }
        return .object(o)
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
    /// `retriable_headers`: under `retriable-headers`, a response matching one is retried.
    public var retriableHeaders: [HeaderMatcher] = []
    /// `retriable_request_headers`: when set, a request matching none of them is not retried.
    public var retriableRequestHeaders: [HeaderMatcher] = []
    /// `retry_back_off`; nil is Envoy's 25 ms base, capped at ten times it.
    public var backOff: RetryBackOff?
    /// `rate_limited_retry_back_off`.
    public var rateLimitedBackOff: RateLimitedRetryBackOff?
    /// `per_try_idle_timeout`: a try without upstream activity for this long ends as a timeout.
    public var perTryIdleTimeout: EnvoyDuration?
    /// `retry_host_predicate`: the host predicates, in order.
    public var retryHostPredicates: [RetryHostPredicate] = []
    /// `host_selection_retry_max_attempts`; nil is Envoy's 1 (`RetryPolicyImpl`).
    public var hostSelectionRetryMaxAttempts: Int64?
    /// The fields of the policy Envoy acts on but the proxy does not (`retry_priority`,
    /// `retry_options_predicates`, a host predicate it does not run), as named in start-up
    /// warnings (not serialised, not compared).
    public var unsimulatedFields: [String] = []
    /// Where `per_try_timeout` is written in a user's Envoy file; nil when it is not, or for a
    /// policy built in code (not serialised, not compared).
    public var perTryTimeoutSource: SourceSpan?

    /// A retry policy.
    public init(
        retryOn: [String], numRetries: UInt32? = nil, perTryTimeout: EnvoyDuration? = nil, retriableStatusCodes: [UInt32] = [],
        perTryTimeoutSource: SourceSpan? = nil
    ) {
        self.retryOn = retryOn
        self.numRetries = numRetries
        self.perTryTimeout = perTryTimeout
        self.retriableStatusCodes = retriableStatusCodes
        self.perTryTimeoutSource = perTryTimeoutSource
    }

    /// Equal when the fields Envoy reads are; where they were written does not count.
    public static func == (a: RetryPolicy, b: RetryPolicy) -> Bool {
        a.retryOn == b.retryOn && a.numRetries == b.numRetries && a.perTryTimeout == b.perTryTimeout
            && a.retriableStatusCodes == b.retriableStatusCodes && a.retriableHeaders == b.retriableHeaders
            && a.retriableRequestHeaders == b.retriableRequestHeaders && a.backOff == b.backOff
            && a.rateLimitedBackOff == b.rateLimitedBackOff && a.perTryIdleTimeout == b.perTryIdleTimeout
            && a.retryHostPredicates == b.retryHostPredicates && a.hostSelectionRetryMaxAttempts == b.hostSelectionRetryMaxAttempts
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        if !retryOn.isEmpty { o["retry_on"] = .string(retryOn.joined(separator: ",")) }
        o.set("num_retries", numRetries.map { JSON.integer($0) })
        o.set("per_try_timeout", perTryTimeout)
        if !retriableStatusCodes.isEmpty { o["retriable_status_codes"] = .array(retriableStatusCodes.map { .integer($0) }) }
        if !retriableHeaders.isEmpty { o["retriable_headers"] = .array(retriableHeaders.map(\.json)) }
        if !retriableRequestHeaders.isEmpty { o["retriable_request_headers"] = .array(retriableRequestHeaders.map(\.json)) }
        if let backOff {
            var b = JSONObject()
            b.set("base_interval", backOff.baseInterval)
            b.set("max_interval", backOff.maxInterval)
            o["retry_back_off"] = .object(b)
        }
        if let r = rateLimitedBackOff {
            var b = JSONObject()
            b["reset_headers"] = .array(
                r.resetHeaders.map { h in
                    var e = JSONObject()
                    e["name"] = .string(h.name)
                    if h.format != .seconds { e["format"] = .string(h.format.rawValue) }
                    return .object(e)
                })
            b.set("max_interval", r.maxInterval)
            o["rate_limited_retry_back_off"] = .object(b)
        }
        o.set("per_try_idle_timeout", perTryIdleTimeout)
        if !retryHostPredicates.isEmpty { o["retry_host_predicate"] = .array(retryHostPredicates.map(\.json)) }
        o.set("host_selection_retry_max_attempts", hostSelectionRetryMaxAttempts.map { JSON.integer($0) })
        return .object(o)
    }
}

/// `RetryPolicy.RetryHostPredicate`: a host a retry avoids, by the extension Envoy finds for
/// it (`Config::Utility::getAndCheckFactory`: the `typed_config` type, else the name).
public enum RetryHostPredicate: Equatable, Sendable {
    /// `envoy.retry_host_predicates.previous_hosts` (PreviousHostsPredicate): the hosts of
    /// earlier attempts of the request.
    case previousHosts
    /// `envoy.retry_host_predicates.omit_canary_hosts`: hosts whose metadata marks them canary.
    case omitCanaryHosts
    /// `envoy.retry_host_predicates.omit_host_metadata`: hosts whose metadata matches.
    case omitHostMetadata
    /// Another extension, by name and type URL as written.
    case other(name: String, typeURL: String?)

    /// The extension's canonical name.
    public var name: String {
        switch self {
        case .previousHosts: "envoy.retry_host_predicates.previous_hosts"
        case .omitCanaryHosts: "envoy.retry_host_predicates.omit_canary_hosts"
        case .omitHostMetadata: "envoy.retry_host_predicates.omit_host_metadata"
        case .other(let name, _): name
        }
    }

    /// The `typed_config` type of the known predicates.
    public var typeURL: String? {
        let prefix = "type.googleapis.com/envoy.extensions.retry.host."
        switch self {
        case .previousHosts: return prefix + "previous_hosts.v3.PreviousHostsPredicate"
        case .omitCanaryHosts: return prefix + "omit_canary_hosts.v3.OmitCanaryHostsPredicate"
        case .omitHostMetadata: return prefix + "omit_host_metadata.v3.OmitHostMetadataConfig"
        case .other(_, let t): return t
        }
    }

    /// The Envoy v3 JSON form (`name` and an empty `typed_config` of its type).
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        if let typeURL { o["typed_config"] = .object(["@type": .string(typeURL)]) }
        return .object(o)
    }
}

/// `RetryPolicy.RetryBackOff`: the exponential back-off between retries.
public struct RetryBackOff: Equatable, Sendable {
    /// `base_interval`.
    public var baseInterval: EnvoyDuration
    /// `max_interval`; nil is ten times the base.
    public var maxInterval: EnvoyDuration?

    /// A back-off.
    public init(baseInterval: EnvoyDuration, maxInterval: EnvoyDuration? = nil) {
        self.baseInterval = baseInterval
        self.maxInterval = maxInterval
    }
}

/// `RetryPolicy.RateLimitedRetryBackOff`: the back-off a retried response's reset headers
/// (`Retry-After`, `X-RateLimit-Reset`) ask for.
public struct RateLimitedRetryBackOff: Equatable, Sendable {
    /// `RetryPolicy.ResetHeaderFormat`.
    public enum Format: String, Sendable, CaseIterable {
        /// A number of seconds.
        case seconds = "SECONDS"
        /// A time in seconds since the epoch.
        case unixTimestamp = "UNIX_TIMESTAMP"
    }

    /// `RetryPolicy.ResetHeader`.
    public struct ResetHeader: Equatable, Sendable {
        /// `name`, lower-case.
        public var name: String
        /// `format`.
        public var format: Format

        /// A reset header.
        public init(name: String, format: Format = .seconds) {
            self.name = name
            self.format = format
        }
    }

    /// `reset_headers`, in order.
    public var resetHeaders: [ResetHeader]
    /// `max_interval`; nil is Envoy's 300 s.
    public var maxInterval: EnvoyDuration?

    /// A rate-limited back-off.
    public init(resetHeaders: [ResetHeader], maxInterval: EnvoyDuration? = nil) {
        self.resetHeaders = resetHeaders
        self.maxInterval = maxInterval
    }
}

/// `RouteAction.RequestMirrorPolicy`.
public struct RequestMirrorPolicy: Equatable, Sendable, EnvoyEncodable {
    /// `cluster` ("" when `cluster_header` names it).
    public var cluster: String
    /// `runtime_fraction`; nil mirrors every request.
    public var runtimeFraction: RuntimeFractionalPercent?
    /// `cluster_header`.
    public var clusterHeader: String?
    /// `disable_shadow_host_suffix_append`.
    public var disableShadowHostSuffixAppend = false

    /// A mirror policy.
    public init(cluster: String, runtimeFraction: RuntimeFractionalPercent? = nil) {
        self.cluster = cluster
        self.runtimeFraction = runtimeFraction
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        if let h = clusterHeader { o["cluster_header"] = .string(h) } else { o["cluster"] = .string(cluster) }
        o.set("runtime_fraction", runtimeFraction)
        if disableShadowHostSuffixAppend { o["disable_shadow_host_suffix_append"] = .bool(true) }
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
    /// `query_parameter: {name}`.
    case queryParameter(String)
    /// `filter_state: {key}`.
    case filterState(String)
    /// A policy with `terminal: true`: once any hash exists, later policies are skipped.
    indirect case terminal(HashPolicy)

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        switch self {
        case .queryParameter(let q): return .object(["query_parameter": .object(["name": .string(q)])])
        case .filterState(let k): return .object(["filter_state": .object(["key": .string(k)])])
        case .terminal(let p):
            guard case .object(var o) = p.json else { return p.json }
            o["terminal"] = .bool(true)
            return .object(o)
        default: break
        }
        return switch self {
        case .header(let h): .object(["header": .object(["header_name": .string(h)])])
        case .cookie(let c): .object(["cookie": .object(["name": .string(c)])])
        case .sourceIP: .object(["connection_properties": .object(["source_ip": .bool(true)])])
        default: .null
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
        /// `regex_rewrite`: the path without query rewritten by a regex.
        case regexRewrite(RegexRewrite)
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
        case .regexRewrite(let r): o["regex_rewrite"] = r.json
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
    /// `body` as inline text (`inline_bytes` decoded from base64).
    public var body: String?
    /// `body` was written as `inline_bytes` (so it is written back that way).
    public var bodyIsBytes = false

    /// A direct response.
    public init(status: Int, body: String? = nil) {
        self.status = status
        self.body = body
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["status"] = .integer(status)
        if bodyIsBytes, let body {
            o["body"] = .object(["inline_bytes": .string(Base64.encode(Array(body.utf8)))])
        } else {
            o.set("body", body.map { DataSource.inlineString($0) })
        }
        return .object(o)
    }
}

/// `envoy.type.matcher.v3.RegexMatchAndSubstitute`: a regex and its replacement.
public struct RegexRewrite: Equatable, Sendable, EnvoyEncodable {
    /// `pattern.regex` (RE2).
    public var pattern: String
    /// `substitution` (`\\1` refers to a capture group).
    public var substitution: String

    /// A regex rewrite.
    public init(pattern: String, substitution: String) {
        self.pattern = pattern
        self.substitution = substitution
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        .object(["pattern": .object(["regex": .string(pattern)]), "substitution": .string(substitution)])
    }
}

/// `envoy.type.matcher.v3.MetadataMatcher`: a value at a path of a filter's dynamic metadata.
public struct MetadataMatcher: Equatable, Sendable, EnvoyEncodable {
    /// `ValueMatcher`, as far as xdsc evaluates it.
    public enum Value: Equatable, Sendable {
        /// `string_match`.
        case string(StringMatcher)
        /// `present_match`.
        case present(Bool)
        /// `bool_match`.
        case bool(Bool)
        /// `null_match`.
        case null
        /// `double_match: {exact}`.
        case doubleExact(Double)
        /// `double_match: {range: {start, end}}`, `start <= v < end`.
        case doubleRange(start: Double, end: Double)
    }

    /// `filter`: the metadata namespace.
    public var filter: String
    /// `path[].key`, outermost first.
    public var path: [String]
    /// `value`.
    public var value: Value
    /// `invert`.
    public var invert: Bool

    /// A metadata matcher.
    public init(filter: String, path: [String], value: Value, invert: Bool = false) {
        self.filter = filter
        self.path = path
        self.value = value
        self.invert = invert
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["filter"] = .string(filter)
        o["path"] = .array(path.map { .object(["key": .string($0)]) })
        let v: JSON
        switch value {
        case .string(let m): v = .object(["string_match": m.json])
        case .present(let p): v = .object(["present_match": .bool(p)])
        case .bool(let b): v = .object(["bool_match": .bool(b)])
        case .null: v = .object(["null_match": .object([:])])
        case .doubleExact(let d): v = .object(["double_match": .object(["exact": .double(d)])])
        case .doubleRange(let s, let e):
            v = .object(["double_match": .object(["range": .object(["start": .double(s), "end": .double(e)])])])
        }
        o["value"] = v
        if invert { o["invert"] = .bool(true) }
        return .object(o)
    }
}

/// Standard base64 (RFC 4648) for `bytes` fields in proto JSON.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes with padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes standard or URL-safe base64, padding optional (as protobuf's JSON parser
    /// accepts); nil when malformed.
    public static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - 97 + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - 48 + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "/"), UInt8(ascii: "_"): values.append(63)
            case UInt8(ascii: "="): continue
            default: return nil
            }
        }
        if values.count % 4 == 1 { return nil }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append((values[i + 1] & 15) << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append((values[i + 2] & 3) << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}
