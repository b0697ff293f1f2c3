import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

/// What the CORS filter does with one request.
struct CorsOutcome: Equatable {
    /// A preflight the filter answers itself: 200 with these headers, nothing forwarded.
    var preflight: [HTTPHeader]?
    /// The headers the filter sets on every response of the request (`encodeHeaders`).
    var responseHeaders: [HTTPHeader] = []

    /// The filter leaves the request and its responses alone.
    static let none = CorsOutcome(preflight: nil)
}

/// The CORS filter (`source/extensions/filters/http/cors/cors_filter.cc`) over the policies
/// the route engine found, most specific first: each attribute comes from the first policy
/// that sets it; whether the filter is on comes from the most specific one.
enum CorsSimulation {
    /// The outcome for a request with `method` and `headers` (names lower-case).
    static func outcome(_ policies: [AppliedFilterConfig], method: String, headers: [HTTPHeader], random: RandomSource) -> CorsOutcome {
        guard let first = policies.first?.config else { return .none }
        // `filter_enabled` absent: on (`CorsPolicyImpl::enabled`); a shadow-only policy changes nothing.
        guard FilterSimulation.percent(first["filter_enabled"], random: random, absent: true) else { return .none }
        let configs = policies.map(\.config)
        guard let origin = headers.first(where: { $0.name == "origin" })?.value, !origin.isEmpty else { return .none }
        let allowed = originAllowed(origin, configs)
        var encode: [HTTPHeader] = []
        if allowed {
            encode.append(HTTPHeader("access-control-allow-origin", origin))
            if bool("allow_credentials", configs) { encode.append(HTTPHeader("access-control-allow-credentials", "true")) }
            if let expose = string("expose_headers", configs) { encode.append(HTTPHeader("access-control-expose-headers", expose)) }
        }
        let requestMethod = headers.first(where: { $0.name == "access-control-request-method" })?.value ?? ""
        guard method == "OPTIONS", !requestMethod.isEmpty else { return CorsOutcome(preflight: nil, responseHeaders: encode) }
        let forwardNotMatching = configs.lazy.compactMap { $0["forward_not_matching_preflights"]?.boolValue }.first ?? true
        if !allowed && forwardNotMatching { return CorsOutcome(preflight: nil, responseHeaders: encode) }
        return CorsOutcome(preflight: preflightHeaders(configs, origin: allowed ? origin : nil, headers: headers), responseHeaders: encode)
    }

    /// The preflight answer's own headers, in the filter's order.
    static func preflightHeaders(_ configs: [JSON], origin: String?, headers: [HTTPHeader]) -> [HTTPHeader] {
        func request(_ name: String) -> String { headers.first(where: { $0.name == name })?.value ?? "" }
        var out: [HTTPHeader] = []
        if let origin { out.append(HTTPHeader("access-control-allow-origin", origin)) }
        if bool("allow_credentials", configs) { out.append(HTTPHeader("access-control-allow-credentials", "true")) }
        // `*` echoes what the preflight asks for.
        if let methods = string("allow_methods", configs) {
            out.append(HTTPHeader("access-control-allow-methods", methods == "*" ? request("access-control-request-method") : methods))
        }
        if let allow = string("allow_headers", configs) {
            out.append(HTTPHeader("access-control-allow-headers", allow == "*" ? request("access-control-request-headers") : allow))
        }
        if let maxAge = string("max_age", configs) { out.append(HTTPHeader("access-control-max-age", maxAge)) }
        if bool("allow_private_network_access", configs) && request("access-control-request-private-network") == "true" {
            out.append(HTTPHeader("access-control-allow-private-network", "true"))
        }
        return out
    }

    /// `isOriginAllowed`: a matcher of the first policy with any that matches `*` or the origin.
    static func originAllowed(_ origin: String, _ configs: [JSON]) -> Bool {
        let matchers =
            configs.lazy.compactMap { c -> [JSON]? in
                guard case .array(let a)? = c["allow_origin_string_match"], !a.isEmpty else { return nil }
                return a
            }.first ?? []
        return matchers.compactMap(StringMatcher.init(json:)).contains { $0.matches("*") || $0.matches(origin) }
    }

    /// The first non-empty string attribute.
    static func string(_ name: String, _ configs: [JSON]) -> String? {
        configs.lazy.compactMap { c -> String? in
            guard let s = c[name]?.stringValue, !s.isEmpty else { return nil }
            return s
        }.first
    }

    /// The first set boolean attribute (false when none sets it).
    static func bool(_ name: String, _ configs: [JSON]) -> Bool {
        configs.lazy.compactMap { $0[name]?.boolValue }.first ?? false
    }
}
