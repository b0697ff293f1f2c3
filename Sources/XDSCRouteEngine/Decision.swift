import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest

/// Where an element of a decision comes from: its field path in the route configuration
/// (`virtual_hosts[0].routes[2].route.prefix_rewrite`) and, when known, its source span.
///
/// The path is spelled out only when read: a decision records the host and route indexes
/// and the field, so routing a request builds no path strings.
public struct Origin: Equatable, Sendable {
    /// The element the field belongs to.
    enum Owner: Equatable, Sendable {
        case configuration
        case host(Int)
        case route(host: Int, route: Int)
    }

    var owner: Owner
    /// The field below `owner` (with its leading `.` under a host or route).
    var field: String

    /// The proto field path inside the `RouteConfiguration`.
    public var path: String {
        get {
            switch owner {
            case .configuration: field
            case .host(let h): "virtual_hosts[\(h)]" + field
            case .route(let h, let r): "virtual_hosts[\(h)].routes[\(r)]" + field
            }
        }
        set {
            owner = .configuration
            field = newValue
        }
    }
    /// The token in the user's file (a policy or an Envoy file), when known.
    public var span: SourceSpan?

    /// An origin.
    public init(_ path: String, span: SourceSpan? = nil) {
        self.init(.configuration, path, span: span)
    }

    init(_ owner: Owner, _ field: String, span: SourceSpan? = nil) {
        self.owner = owner
        self.field = field
        self.span = span
    }

    /// Two origins are equal when they name the same field path and span.
    public static func == (a: Origin, b: Origin) -> Bool {
        a.span == b.span && (a.owner == b.owner && a.field == b.field || a.path == b.path)
    }
}

/// How the virtual host was chosen (`RouteMatcher::findVirtualHost`, config_impl.cc).
public enum VirtualHostReason: Equatable, Sendable {
    /// Only a `*` host exists, so Envoy does not look at the Host header.
    case onlyDefault
    /// An exact domain equal to the (lower-cased) host.
    case exact(domain: String)
    /// A `*suffix` domain, the longest that matches.
    case suffixWildcard(domain: String)
    /// A `prefix*` domain, the longest that matches (suffix wildcards are all tried first).
    case prefixWildcard(domain: String)
    /// No domain matched; the `*` host takes the request.
    case defaultHost
}

/// The virtual host a request reached.
public struct VirtualHostChoice: Equatable, Sendable {
    /// Index in `virtual_hosts`.
    public var index: Int
    /// `name`.
    public var name: String
    /// Why.
    public var reason: VirtualHostReason
    /// The host string compared with the domains (lower-cased, port dropped when
    /// `ignore_port_in_host_matching`).
    public var comparedHost: String?
    /// The virtual host's origin.
    public var origin: Origin
}

/// Why no virtual host or route took the request.
public enum NoRouteReason: Error, Equatable, Sendable {
    /// The Host (or `vhost_header`) header is missing.
    case missingHost(header: String)
    /// No domain matched and there is no `*` host.
    case noVirtualHost(host: String)
    /// `x-forwarded-proto` is missing, so `getRouteFromEntries` returns nothing.
    case missingForwardedProto
    /// Every route of the host was tried and none matched.
    case noRouteMatched
}

/// The first condition of a route that did not hold (`RouteEntryImplBase::matchRoute`).
public enum MatchFailure: Equatable, Sendable {
    /// `runtime_fraction` is off for this random value.
    case runtimeFraction(detail: String)
    /// `grpc: {}` and the request is not gRPC.
    case grpc(contentType: String?)
    /// `headers[index]` did not match.
    case header(index: Int, name: String, actual: String?)
    /// `query_parameters[index]` did not match.
    case queryParameter(index: Int, name: String, actual: String?)
    /// `dynamic_metadata[index]` did not match.
    case dynamicMetadata(index: Int, filter: String)
    /// The path specifier did not match.
    case path(specifier: RouteMatch.PathSpecifier, caseSensitive: Bool?, path: String)
    /// The request has no `:path` and the route is not a CONNECT route.
    case noPath

    /// The field name of the condition, relative to the route (`match.headers[1]`).
    public var field: String {
        switch self {
        case .runtimeFraction: "match.runtime_fraction"
        case .grpc: "match.grpc"
        case .header(let i, _, _): "match.headers[\(i)]"
        case .queryParameter(let i, _, _): "match.query_parameters[\(i)]"
        case .dynamicMetadata(let i, _): "match.dynamic_metadata[\(i)]"
        case .path, .noPath: "match"
        }
    }

    /// A lower-case sentence.
    public var description: String {
        switch self {
        case .runtimeFraction(let d): return "runtime_fraction is off: \(d)"
        case .grpc(let ct): return "not a gRPC request (content-type \(ct.map { "`\($0)`" } ?? "absent"))"
        case .header(_, let name, let actual):
            return "header `\(name)` does not match (\(actual.map { "value `\($0)`" } ?? "absent"))"
        case .queryParameter(_, let name, let actual):
            return "query parameter `\(name)` does not match (\(actual.map { "value `\($0)`" } ?? "absent"))"
        case .dynamicMetadata(_, let filter): return "dynamic metadata of `\(filter)` does not match"
        case .path(let spec, let cs, let path): return "\(RouteEngine.describe(spec, cs)) does not match path `\(path)`"
        case .noPath: return "the request has no :path"
        }
    }
}

/// One route tried, in order.
public struct RouteAttempt: Equatable, Sendable {
    /// Index in the virtual host's `routes`.
    public var index: Int
    /// The route's `name`, if any.
    public var name: String?
    /// The first failing condition, or nil for the winner.
    public var failure: MatchFailure?
    /// The route's origin.
    public var origin: Origin
}

/// The weighted-cluster arithmetic (`WeightedClusterSpecifierPlugin`, weighted_cluster_specifier.cc).
public struct WeightedPick: Equatable, Sendable {
    /// Where the selection value came from.
    public enum ValueSource: String, Equatable, Sendable {
        case random
        case header
        /// `use_hash_policy` is set, but the hash is not computed offline; the random value is used.
        case randomInsteadOfHash
    }

    /// One entry of the split with its half-open interval `[start, end)`.
    public struct Entry: Equatable, Sendable {
        /// The cluster name (empty for a `cluster_header` entry).
        public var name: String
        /// `cluster_header` of the entry, if it names its cluster by header.
        public var clusterHeader: String?
        /// The entry's weight.
        public var weight: UInt64
        /// The first value of the entry's interval.
        public var start: UInt64
        /// One past the last value of the entry's interval.
        public var end: UInt64
        /// Where the entry is written.
        public var origin: Origin
    }

    /// The value before the modulo.
    public var selectionValue: UInt64
    /// Its source.
    public var valueSource: ValueSource
    /// The header read when `header_name` is set.
    public var headerName: String?
    /// The sum of the weights (the deprecated `total_weight` is ignored).
    public var totalWeight: UInt64
    /// `selectionValue % totalWeight`.
    public var bucket: UInt64
    /// The split, in order.
    public var entries: [Entry]
    /// The entry whose interval contains `bucket`.
    public var picked: Int
}

/// How the cluster was chosen.
public enum ClusterChoice: Equatable, Sendable {
    /// `cluster`.
    case named
    /// `cluster_header`: the whole first value of the header ("" when absent).
    case header(name: String, value: String?)
    /// `weighted_clusters`.
    case weighted(WeightedPick)
}

/// Forwarding to a cluster.
public struct Forward: Equatable, Sendable {
    /// The cluster picked.
    public var cluster: String
    /// How.
    public var choice: ClusterChoice
    /// `:path` before and after the rewrite (nil when unchanged).
    public var originalPath: String?
    /// `:path` after the rewrite.
    public var rewrittenPath: String?
    /// The rewrite that produced `rewrittenPath` (`prefix_rewrite`, `regex_rewrite`).
    public var pathRewrite: String?
    /// Host before and after the rewrite (nil when unchanged).
    public var originalHost: String?
    /// The host after the rewrite.
    public var rewrittenHost: String?
    /// The host rewrite applied (`host_rewrite_literal`, `host_rewrite_header`, ...).
    public var hostRewrite: String?
    /// `auto_host_rewrite`: the Host becomes the upstream host's name after host selection.
    public var autoHostRewrite: Bool
    /// The status Envoy answers when the cluster does not exist (`cluster_not_found_response_code`).
    public var clusterNotFoundStatus: Int
    /// Where the cluster specifier is written.
    public var origin: Origin
    /// The route's `priority`: the cluster's circuit breakers and connection pools it uses.
    public var priority: RoutingPriority = .default
}

/// A redirect or the TLS redirect.
public struct RedirectOutcome: Equatable, Sendable {
    /// The full `Location`.
    public var location: String
    /// 301, 302, 303, 307 or 308.
    public var status: Int
    /// The request `:path` after the redirect's own `prefix_rewrite`/`regex_rewrite`, if any.
    public var rewrittenPath: String?
    /// Where the redirect is written (the virtual host's `require_tls` for the TLS redirect).
    public var origin: Origin
}

/// A direct response.
public struct DirectResponseOutcome: Equatable, Sendable {
    /// The status code.
    public var status: Int
    /// The body (empty when none).
    public var body: String
    /// Where the direct response is written.
    public var origin: Origin
}

/// What happens to the request.
public enum Outcome: Equatable, Sendable {
    /// 404 with response flag `NR`.
    case noRoute(NoRouteReason)
    /// `require_tls` answers 301 to the https URL.
    case tlsRedirect(RedirectOutcome)
    case forward(Forward)
    case redirect(RedirectOutcome)
    case directResponse(DirectResponseOutcome)

    /// The HTTP status Envoy itself answers with, if it answers (nil when forwarding).
    public var localStatus: Int? {
        switch self {
        case .noRoute: 404
        case .tlsRedirect(let r), .redirect(let r): r.status
        case .directResponse(let d): d.status
        case .forward: nil
        }
    }
}

/// The level of a header mutation (`HeaderParser`s of config_impl.cc).
public enum MutationLevel: String, Equatable, Sendable {
    case weightedCluster = "weighted cluster"
    case route
    case virtualHost = "virtual host"
    case routeConfiguration = "route configuration"
    /// The router itself (`x-envoy-original-path`, Host rewrites, local-reply headers).
    case router
}

/// One header change, in the order Envoy applies it.
public struct HeaderMutation: Equatable, Sendable {
    /// What the mutation does to the header.
    public enum Operation: String, Equatable, Sendable {
        case remove, append, overwrite
        /// An `ADD_IF_ABSENT` / `OVERWRITE_IF_EXISTS` entry that did nothing.
        case skipped
    }

    /// Request or response headers.
    public var response: Bool
    /// The level that adds or removes it (route, virtual host, route configuration...).
    public var level: MutationLevel
    /// What it does.
    public var operation: Operation
    /// The header name.
    public var name: String
    /// The formatted value (nil for removals).
    public var value: String?
    /// Where the header option is written.
    public var origin: Origin
}

/// A `typed_per_filter_config` (or deprecated `cors` / `rate_limits`) that applies, from its
/// most specific level.
public struct AppliedFilterConfig: Equatable, Sendable {
    /// The filter name.
    public var filter: String
    /// The level the config comes from.
    public var level: MutationLevel
    /// The config, as written.
    public var config: JSON
    /// Where the config is written.
    public var origin: Origin

    /// An applied configuration.
    public init(filter: String, level: MutationLevel, config: JSON, origin: Origin) {
        self.filter = filter
        self.level = level
        self.config = config
        self.origin = origin
    }
}

/// Everything Envoy decides for one request, with where each part comes from. Pure data:
/// the embedded proxy executes it and the behavioural diff compares it.
public struct RouteDecision: Equatable, Sendable {
    /// The request as given.
    public var request: EnvoyRequest
    /// The virtual host, nil when none took the request.
    public var virtualHost: VirtualHostChoice?
    /// The virtual host's `require_tls` and whether the request satisfied it.
    public var tlsRequirement: VirtualHost.TLSRequirement = .none
    /// Every route tried, in order (the last one is the winner when there is one); empty
    /// when the decision was made without a trace.
    public var attempts: [RouteAttempt] = []
    /// The winning route's index in its virtual host.
    public var routeIndex: Int?
    /// The winning route's name.
    public var routeName: String?
    /// The winning route's origin.
    public var routeOrigin: Origin?
    /// What happens.
    public var outcome: Outcome
    /// The request headers as they go upstream (forward) or as the router leaves them.
    public var requestHeaders: HeaderMap
    /// The response headers Envoy's mutations (and, for local replies, the local reply)
    /// produce, starting from the upstream's.
    public var responseHeaders: HeaderMap
    /// Every header change, in order.
    public var mutations: [HeaderMutation] = []
    /// The virtual cluster (stats) on the headers as received: nil when the host has none,
    /// `other` when none matches.
    public var virtualCluster: String?
    /// The router's timeout for forwards, as `FilterUtility::finalTimeout` computes it: the
    /// route's `timeout` (default 15 s), or from `grpc-timeout` under `max_grpc_timeout`, or
    /// `x-envoy-upstream-rq-timeout-ms`; `0s` is none (also whenever the route sets
    /// `max_stream_duration`).
    public var timeout: EnvoyDuration?
    /// Where `timeout` comes from (forwards).
    public var timeoutSource: TimeoutSource?
    /// Where `timeout` is written (nil for the default and for a header's value).
    public var timeoutOrigin: Origin?
    /// The per-try timeout the router uses (the retry policy's `per_try_timeout` or
    /// `x-envoy-upstream-rq-per-try-timeout-ms`, dropped when not below `timeout`); nil is none.
    public var perTryTimeout: EnvoyDuration?
    /// The `x-envoy-expected-rq-timeout-ms` the router writes upstream (`setTimeoutHeaders`);
    /// nil when it writes none (no timeout at all).
    public var expectedTimeout: EnvoyDuration?
    /// The `grpc-timeout` value sent upstream when Envoy rewrites it (the router under
    /// `max_grpc_timeout`, the connection manager under `max_stream_duration`); nil leaves
    /// the header as received.
    public var grpcTimeoutHeader: String?
    /// The connection manager's stream timer the route arms (`max_stream_duration`, or
    /// `grpc-timeout` under `grpc_timeout_header_max`); nil is none, `0s` fires at once.
    public var streamDuration: EnvoyDuration?
    /// Where `streamDuration` is configured.
    public var streamDurationOrigin: Origin?
    /// `idle_timeout`; nil leaves the connection manager's `stream_idle_timeout`.
    public var idleTimeout: EnvoyDuration?
    /// The retry policy that applies (route's, else the virtual host's).
    public var retryPolicy: RetryPolicy?
    /// Where the retry policy is written.
    public var retryOrigin: Origin?
    /// The mirror policies that apply (route's, else virtual host's, else route configuration's).
    public var mirrors: [RequestMirrorPolicy] = []
    /// Where the mirror policies are written.
    public var mirrorsOrigin: Origin?
    /// For each of `mirrors`, whether it fires for this request: its `runtime_fraction` on
    /// the request's random value (``RouteEngine/mirrorFires(_:random:runtime:)``).
    public var mirrorsFiring: [Bool] = []
    /// The route's hash policy.
    public var hashPolicy: [HashPolicy] = []
    /// Per-filter configuration that applies, one per filter, most specific level.
    public var filterConfigs: [AppliedFilterConfig] = []
    /// Every CORS policy of a forwarding route, most specific first: the CORS filter takes
    /// each attribute from the first policy that sets it (cors_filter.cc).
    public var corsPolicies: [AppliedFilterConfig] = []
    /// The virtual host's `include_request_attempt_count` (forwards).
    public var attemptCountInRequest = false
    /// The virtual host's `include_attempt_count_in_response` (forwards).
    public var attemptCountInResponse = false
    /// How much of the request body the router keeps for retries (the route's or its
    /// virtual host's `request_body_buffer_limit` / `per_request_buffer_limit_bytes`,
    /// ``XDSCEnvoy/Route/effectiveBufferLimit(host:)``; nil: the connection's limit) (forwards).
    public var requestBodyBufferLimit: UInt64?
    /// The route's enabled `upgrade_configs` types (forwards).
    public var upgradeTypes: [String] = []
    /// The route's `upgrade_configs` types with `enabled: false` (forwards).
    public var disabledUpgradeTypes: [String] = []

    /// The cluster when forwarding.
    public var cluster: String? {
        if case .forward(let f) = outcome { return f.cluster }
        return nil
    }

    /// A route took the request.
    public var matched: Bool {
        if case .noRoute = outcome { return false }
        return true
    }
}
