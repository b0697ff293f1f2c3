import XDSCJSON

/// The HTTP filters xdsc puts in a connection manager, with their instance names and the
/// type of their listener-level and per-route configuration.
public enum HTTPFilterKind: String, Sendable, CaseIterable {
    case cors = "envoy.filters.http.cors"
    case localRateLimit = "envoy.filters.http.local_ratelimit"
    case fault = "envoy.filters.http.fault"
    case router = "envoy.filters.http.router"

    /// The filter's instance name (also the `typed_per_filter_config` key).
    public var filterName: String { rawValue }

    /// The inactive listener-level configuration. Every filter but the router does nothing
    /// until a virtual host or route enables it through `typed_per_filter_config`: the rate
    /// limiter has no `filter_enabled`, which Envoy reads as 0% (`FilterConfig::enabled()` in
    /// local_ratelimit.cc). An active filter-level bucket is `HttpConnectionManager.rateLimit`.
    public var listenerConfig: TypedMessage {
        switch self {
        case .cors: TypedMessage("envoy.extensions.filters.http.cors.v3.Cors")
        case .localRateLimit:
            TypedMessage(
                "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                ["stat_prefix": .string("http_local_rate_limiter")])
        case .fault: TypedMessage("envoy.extensions.filters.http.fault.v3.HTTPFault")
        case .router: TypedMessage("envoy.extensions.filters.http.router.v3.Router")
        }
    }

    /// The filter as an `HttpFilter` entry.
    public var httpFilter: TypedExtension { TypedExtension(name: filterName, typedConfig: listenerConfig) }
}

/// `envoy.extensions.filters.http.cors.v3.CorsPolicy`, the per-route CORS configuration.
public struct CorsPolicy: Equatable, Sendable {
    /// `allow_origin_string_match`.
    public var allowOrigins: [StringMatcher]
    /// `allow_methods`, written comma-separated.
    public var allowMethods: [String]
    /// `allow_headers`.
    public var allowHeaders: [String]
    /// `expose_headers`.
    public var exposeHeaders: [String]
    /// `max_age` in seconds.
    public var maxAgeSeconds: Int64?
    /// `allow_credentials`.
    public var allowCredentials: Bool?

    /// A CORS policy.
    public init(
        allowOrigins: [StringMatcher], allowMethods: [String] = [], allowHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAgeSeconds: Int64? = nil, allowCredentials: Bool? = nil
    ) {
        self.allowOrigins = allowOrigins
        self.allowMethods = allowMethods
        self.allowHeaders = allowHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
        self.allowCredentials = allowCredentials
    }

    /// The `typed_per_filter_config` payload.
    public var typedConfig: TypedMessage {
        var o = JSONObject()
        o.setList("allow_origin_string_match", allowOrigins)
        if !allowMethods.isEmpty { o["allow_methods"] = .string(allowMethods.joined(separator: ",")) }
        if !allowHeaders.isEmpty { o["allow_headers"] = .string(allowHeaders.joined(separator: ",")) }
        if !exposeHeaders.isEmpty { o["expose_headers"] = .string(exposeHeaders.joined(separator: ",")) }
        o.set("max_age", maxAgeSeconds.map { JSON.string(String($0)) })
        o.set("allow_credentials", allowCredentials.map(JSON.bool))
        return TypedMessage("envoy.extensions.filters.http.cors.v3.CorsPolicy", o)
    }
}

/// `envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit`: a token bucket of
/// `maxTokens` refilled completely every `fillInterval`, enabled and enforced for every
/// request. As the filter's own configuration it is one bucket for the whole connection
/// manager; in a virtual host's or route's `typed_per_filter_config` it is one bucket for
/// that host or route, and replaces the filter-level one there (Envoy uses the most
/// specific configuration, it does not stack them).
public struct LocalRateLimit: Equatable, Sendable {
    /// `token_bucket.max_tokens` (and `tokens_per_fill`).
    public var maxTokens: UInt32
    /// `token_bucket.fill_interval`.
    public var fillInterval: EnvoyDuration
    /// `stat_prefix`.
    public var statPrefix: String

    /// A local rate limit.
    public init(maxTokens: UInt32, fillInterval: EnvoyDuration, statPrefix: String = "http_local_rate_limiter") {
        self.maxTokens = maxTokens
        self.fillInterval = fillInterval
        self.statPrefix = statPrefix
    }

    /// The payload, as the filter's `typed_config` or in `typed_per_filter_config`.
    public var typedConfig: TypedMessage {
        let always = RuntimeFractionalPercent(defaultValue: .percent(100))
        var o = JSONObject()
        o["stat_prefix"] = .string(statPrefix)
        o["token_bucket"] = .object([
            "max_tokens": .integer(maxTokens), "tokens_per_fill": .integer(maxTokens), "fill_interval": fillInterval.json,
        ])
        o["filter_enabled"] = always.json
        o["filter_enforced"] = always.json
        return TypedMessage("envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", o)
    }
}

/// `envoy.extensions.filters.http.fault.v3.HTTPFault` for one route.
public struct HTTPFault: Equatable, Sendable {
    /// `delay`: a fixed delay for `percent` of requests.
    public var delay: (fixed: EnvoyDuration, percent: FractionalPercent)?
    /// `abort`: answer with `status` for `percent` of requests.
    public var abort: (status: Int, percent: FractionalPercent)?

    /// A fault injection.
    public init(delay: (fixed: EnvoyDuration, percent: FractionalPercent)? = nil, abort: (status: Int, percent: FractionalPercent)? = nil) {
        self.delay = delay
        self.abort = abort
    }

    /// Whether the two values are equal.
    public static func == (a: HTTPFault, b: HTTPFault) -> Bool {
        a.delay?.fixed == b.delay?.fixed && a.delay?.percent == b.delay?.percent
            && a.abort?.status == b.abort?.status && a.abort?.percent == b.abort?.percent
    }

    /// The `typed_per_filter_config` payload.
    public var typedConfig: TypedMessage {
        var o = JSONObject()
        if let delay {
            o["delay"] = .object(["fixed_delay": delay.fixed.json, "percentage": delay.percent.json])
        }
        if let abort {
            o["abort"] = .object(["http_status": .integer(abort.status), "percentage": abort.percent.json])
        }
        return TypedMessage("envoy.extensions.filters.http.fault.v3.HTTPFault", o)
    }
}
