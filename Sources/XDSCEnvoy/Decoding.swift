import XDSCJSON

/// A problem reading a user's Envoy JSON: where (`virtual_hosts[0].routes[2].match`) and
/// what.
public struct EnvoyDecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field path, with proto field names and list indexes; `<root>` for the document.
    public var path: String
    /// What is wrong, lower-case.
    public var message: String

    /// A decoding problem.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path.isEmpty ? "<root>" : path): \(message)" }
}

/// Reads Envoy v3 route tables (`RouteConfiguration` and below) from JSON into the model.
///
/// Field names may be proto names or their lowerCamel JSON names, as Envoy accepts. A field
/// the model does not represent but Envoy defines for that message (stats-only settings
/// such as `virtual_clusters`) is skipped and reported in `warnings`; anything else unknown,
/// a value of the wrong kind, or a construct xdsc cannot evaluate is an error.
public struct EnvoyRouteDecoder {
    /// Fields skipped because the model does not represent them.
    public internal(set) var warnings: [EnvoyDecodingError] = []

    /// A decoder.
    public init() {}

    /// Decodes a `RouteConfiguration`.
    public mutating func routeConfiguration(_ json: JSON) throws(EnvoyDecodingError) -> RouteConfiguration {
        var r = try Reader(json, "", self)
        defer { warnings = r.decoder.warnings }
        let name = try r.string("name") ?? ""
        var hosts: [VirtualHost] = []
        for (i, v) in try r.list("virtual_hosts").enumerated() {
            hosts.append(try r.decoder.virtualHost(v, path: r.path("virtual_hosts[\(i)]")))
        }
        let validate = try r.bool("validate_clusters")
        var config = RouteConfiguration(name: name, virtualHosts: hosts, validateClusters: validate)
        config.requestHeadersToAdd = try r.headerOptions("request_headers_to_add")
        config.requestHeadersToRemove = try r.strings("request_headers_to_remove")
        config.responseHeadersToAdd = try r.headerOptions("response_headers_to_add")
        config.responseHeadersToRemove = try r.strings("response_headers_to_remove")
        config.mostSpecificHeaderMutationsWins = try r.bool("most_specific_header_mutations_wins") ?? false
        config.ignorePortInHostMatching = try r.bool("ignore_port_in_host_matching") ?? false
        config.vhostHeader = try r.string("vhost_header")?.asciiLowercased
        config.internalOnlyHeaders = try r.strings("internal_only_headers")
        config.maxDirectResponseBodySizeBytes = try r.int("max_direct_response_body_size_bytes").map { UInt32(clamping: $0) }
        config.requestMirrorPolicies = try r.mirrorPolicies("request_mirror_policies")
        config.typedPerFilterConfig = try r.typedPerFilterConfig().map { FilterConfigEntry(name: $0.name, config: $0.config) }
        try r.finish(ignoring: ["ignore_path_parameters_in_path_matching", "metadata", "cluster_specifier_plugins"])
        let limit = Int(config.maxDirectResponseBodySizeBytes ?? 4096)
        for (h, vh) in config.virtualHosts.enumerated() {
            for (i, route) in vh.routes.enumerated() {
                guard case .directResponse(let d) = route.action, let body = d.body, body.utf8.count > limit else { continue }
                // `DirectResponseUtil` (source/common/router/config_impl.cc) checks the size at load.
                throw EnvoyDecodingError(
                    path: "virtual_hosts[\(h)].routes[\(i)].direct_response.body",
                    message: "response body size is \(body.utf8.count) bytes; maximum is \(limit)")
            }
        }
        return config
    }

    /// Decodes a `VirtualHost`.
    public mutating func virtualHost(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> VirtualHost {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        let name = try r.string("name") ?? ""
        let domains = try r.strings("domains")
        var routes: [Route] = []
        for (i, v) in try r.list("routes").enumerated() {
            routes.append(try r.decoder.route(v, path: r.path("routes[\(i)]")))
        }
        var tls = VirtualHost.TLSRequirement.none
        if let t = try r.string("require_tls") {
            guard let v = VirtualHost.TLSRequirement(rawValue: t.uppercased()) else {
                throw r.error("require_tls", "unknown TLS requirement \"\(t)\"")
            }
            tls = v
        }
        let reqAdd = try r.headerOptions("request_headers_to_add")
        let reqRemove = try r.strings("request_headers_to_remove")
        let respAdd = try r.headerOptions("response_headers_to_add")
        let respRemove = try r.strings("response_headers_to_remove")
        let perFilter = try r.typedPerFilterConfig()
        if r.has("matcher") { throw r.error("matcher", "match-tree virtual hosts are not supported") }
        var clusters: [VirtualCluster] = []
        for (i, v) in try r.list("virtual_clusters").enumerated() {
            var x = try Reader(v, r.path("virtual_clusters[\(i)]"), r.decoder)
            let n = try x.string("name") ?? ""
            var matchers: [HeaderMatcher] = []
            for (j, h) in try x.list("headers").enumerated() {
                matchers.append(try x.decoder.headerMatcher(h, path: x.path("headers[\(j)]")))
            }
            // `VirtualHostImpl` (config_impl.cc) refuses header-less virtual clusters.
            if matchers.isEmpty { throw x.error("headers", "virtual clusters must define 'headers'") }
            try x.finish()
            r.decoder = x.decoder
            clusters.append(VirtualCluster(name: n, headers: matchers))
        }
        var retry: RetryPolicy?
        if let rp = r.take("retry_policy") { retry = try r.retryPolicy(rp, "retry_policy") }
        let mirrors = try r.mirrorPolicies("request_mirror_policies")
        let rateLimits = try r.list("rate_limits")
        let cors = r.take("cors")
        try r.finish(ignoring: [
            "include_request_attempt_count", "include_attempt_count_in_response", "hedge_policy",
            "per_request_buffer_limit_bytes", "metadata",
        ])
        var vh = VirtualHost(
            name: name, domains: domains, routes: routes, requireTLS: tls, requestHeadersToAdd: reqAdd,
            requestHeadersToRemove: reqRemove, responseHeadersToAdd: respAdd, responseHeadersToRemove: respRemove,
            typedPerFilterConfig: perFilter)
        vh.virtualClusters = clusters
        vh.retryPolicy = retry
        vh.requestMirrorPolicies = mirrors
        vh.rateLimits = rateLimits
        vh.cors = cors
        return vh
    }

    /// Decodes a `Route`.
    public mutating func route(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> Route {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        try r.precheck([
            "name", "match", "route", "redirect", "direct_response", "filter_action", "non_forwarding_action", "metadata",
            "decorator", "typed_per_filter_config", "request_headers_to_add", "request_headers_to_remove",
            "response_headers_to_add", "response_headers_to_remove", "tracing", "per_request_buffer_limit_bytes", "stat_prefix",
        ])
        let name = try r.string("name")
        guard let matchJSON = r.take("match") else { throw r.error("match", "missing required field") }
        let match = try r.decoder.routeMatch(matchJSON, path: r.path("match"))
        var actions: [Route.Action] = []
        if let a = r.take("route") { actions.append(.route(try r.decoder.routeAction(a, path: r.path("route")))) }
        if let a = r.take("redirect") { actions.append(.redirect(try r.decoder.redirect(a, path: r.path("redirect")))) }
        if let a = r.take("direct_response") {
            actions.append(.directResponse(try r.decoder.directResponse(a, path: r.path("direct_response"))))
        }
        for unsupported in ["filter_action", "non_forwarding_action"] where r.has(unsupported) {
            throw r.error(unsupported, "route action `\(unsupported)` is not supported")
        }
        guard actions.count == 1 else {
            throw r.error(
                "", actions.isEmpty ? "route has no action (route, redirect or direct_response)" : "route sets more than one action")
        }
        let perFilter = try r.typedPerFilterConfig()
        let reqAdd = try r.headerOptions("request_headers_to_add")
        let reqRemove = try r.strings("request_headers_to_remove")
        let respAdd = try r.headerOptions("response_headers_to_add")
        let respRemove = try r.strings("response_headers_to_remove")
        try r.finish(ignoring: ["metadata", "decorator", "tracing", "per_request_buffer_limit_bytes", "stat_prefix"])
        return Route(
            name: name, match: match, action: actions[0], typedPerFilterConfig: perFilter, requestHeadersToAdd: reqAdd,
            requestHeadersToRemove: reqRemove, responseHeadersToAdd: respAdd, responseHeadersToRemove: respRemove)
    }

    /// Decodes a `RouteMatch`.
    public mutating func routeMatch(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> RouteMatch {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        try r.precheck([
            "prefix", "path", "safe_regex", "connect_matcher", "path_separated_prefix", "path_match_policy", "case_sensitive",
            "runtime_fraction", "headers", "query_parameters", "grpc", "tls_context", "dynamic_metadata", "filter_state",
            "cookies", "regex",
        ])
        var specifiers: [RouteMatch.PathSpecifier] = []
        if let p = try r.string("prefix") { specifiers.append(.prefix(p)) }
        if let p = try r.string("path") { specifiers.append(.path(p)) }
        if let re = r.take("safe_regex") { specifiers.append(.safeRegex(try r.regex(re, "safe_regex"))) }
        if let p = try r.string("path_separated_prefix") { specifiers.append(.pathSeparatedPrefix(p)) }
        for unsupported in ["connect_matcher", "path_match_policy"] where r.has(unsupported) {
            throw r.error(unsupported, "path specifier `\(unsupported)` is not supported")
        }
        if r.has("regex") { throw r.error("regex", "`regex` was removed from the v3 API; use `safe_regex`") }
        guard specifiers.count == 1 else {
            throw r.error(
                "",
                specifiers.isEmpty
                    ? "route match has no path specifier (prefix, path or safe_regex)" : "route match sets more than one path specifier")
        }
        let caseSensitive = try r.bool("case_sensitive")
        var fraction: RuntimeFractionalPercent?
        if let f = r.take("runtime_fraction") { fraction = try r.runtimeFraction(f, "runtime_fraction") }
        var headers: [HeaderMatcher] = []
        for (i, h) in try r.list("headers").enumerated() {
            headers.append(try r.decoder.headerMatcher(h, path: r.path("headers[\(i)]")))
        }
        var query: [QueryParameterMatcher] = []
        for (i, q) in try r.list("query_parameters").enumerated() {
            var qr = try Reader(q, r.path("query_parameters[\(i)]"), r.decoder)
            guard let name = try qr.string("name") else { throw qr.error("name", "missing required field") }
            // PGV on `QueryParameterMatcher.name`: min_len 1, max_bytes 1024.
            guard (1...1024).contains(name.utf8.count) else { throw qr.error("name", "value length must be between 1 and 1024 bytes") }
            var sm: StringMatcher?
            if let s = qr.take("string_match") { sm = try qr.stringMatcher(s, "string_match") }
            let present = try qr.bool("present_match")
            // `string_match` and `present_match` are one oneof.
            if sm != nil && present != nil {
                throw qr.error("present_match", "`string_match` and `present_match` are one oneof; set only one")
            }
            try qr.finish()
            r.decoder = qr.decoder
            query.append(QueryParameterMatcher(name: name, stringMatch: sm, presentMatch: present))
        }
        var grpc = false
        if let g = r.take("grpc") {
            guard case .object = g else { throw r.error("grpc", "expected an object") }
            grpc = true
        }
        var metadata: [MetadataMatcher] = []
        for (i, m) in try r.list("dynamic_metadata").enumerated() {
            metadata.append(try r.metadataMatcher(m, "dynamic_metadata[\(i)]"))
        }
        for unsupported in ["tls_context", "filter_state", "cookies"] where r.has(unsupported) {
            throw r.error(unsupported, "match criterion `\(unsupported)` is not supported")
        }
        try r.finish()
        var out = RouteMatch(
            specifiers[0], caseSensitive: caseSensitive, runtimeFraction: fraction, headers: headers,
            queryParameters: query, grpc: grpc)
        out.dynamicMetadata = metadata
        return out
    }

    /// Decodes a `HeaderMatcher`.
    public mutating func headerMatcher(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> HeaderMatcher {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        guard let name = try r.string("name") else { throw r.error("name", "missing required field") }
        var specs: [HeaderMatcher.Specifier] = []
        if let s = r.take("string_match") { specs.append(.string(try r.stringMatcher(s, "string_match"))) }
        if let p = try r.bool("present_match") { specs.append(.present(p)) }
        if let e = try r.string("exact_match") { specs.append(.deprecatedExact(e)) }
        // PGV: the deprecated `prefix_match`, `suffix_match`, `contains_match` have min_len 1.
        for (key, make) in [
            ("prefix_match", StringMatcher.Pattern.prefix), ("suffix_match", StringMatcher.Pattern.suffix),
            ("contains_match", StringMatcher.Pattern.contains),
        ] {
            guard let p = try r.string(key) else { continue }
            if p.isEmpty { throw r.error(key, "value length must be at least 1 characters") }
            specs.append(.string(StringMatcher(make(p))))
        }
        if let re = r.take("safe_regex_match") { specs.append(.string(StringMatcher(.safeRegex(try r.regex(re, "safe_regex_match"))))) }
        if let range = r.take("range_match") {
            var rr = try Reader(range, r.path("range_match"), r.decoder)
            let start = try rr.int("start") ?? 0
            let end = try rr.int("end") ?? 0
            try rr.finish()
            specs.append(.range(start: start, end: end))
        }
        guard specs.count <= 1 else { throw r.error("", "header matcher sets more than one match specifier") }
        let invert = try r.bool("invert_match") ?? false
        let missingEmpty = try r.bool("treat_missing_header_as_empty") ?? false
        try r.finish()
        return HeaderMatcher(name: name.asciiLowercased, specs.first, invertMatch: invert, treatMissingHeaderAsEmpty: missingEmpty)
    }

    /// Decodes a `RouteAction`.
    public mutating func routeAction(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> RouteAction {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        var specifiers: [RouteAction.ClusterSpecifier] = []
        if let c = try r.string("cluster") { specifiers.append(.cluster(c)) }
        if let c = try r.string("cluster_header") { specifiers.append(.clusterHeader(c.asciiLowercased)) }
        if let w = r.take("weighted_clusters") {
            var wr = try Reader(w, r.path("weighted_clusters"), r.decoder)
            var entries: [WeightedClusters.Entry] = []
            for (i, c) in try wr.list("clusters").enumerated() {
                var cr = try Reader(c, wr.path("clusters[\(i)]"), wr.decoder)
                let name = try cr.string("name")
                let header = try cr.string("cluster_header")
                // `WeightedClusterSpecifierPlugin` (weighted_cluster_specifier.cc).
                if name == nil && header == nil {
                    throw cr.error("", "At least one of name or cluster_header need to be specified")
                }
                if name != nil && header != nil { throw cr.error("", "Only one of name or cluster_header can be specified") }
                guard let weight = try cr.int("weight") else { throw cr.error("weight", "missing required field") }
                guard weight >= 0 && weight <= Int64(UInt32.max) else { throw cr.error("weight", "out of range") }
                var entry = WeightedClusters.Entry(name: name ?? "", weight: UInt32(weight), clusterHeader: header?.asciiLowercased)
                entry.requestHeadersToAdd = try cr.headerOptions("request_headers_to_add")
                entry.requestHeadersToRemove = try cr.strings("request_headers_to_remove")
                entry.responseHeadersToAdd = try cr.headerOptions("response_headers_to_add")
                entry.responseHeadersToRemove = try cr.strings("response_headers_to_remove")
                entry.hostRewriteLiteral = try cr.string("host_rewrite_literal")
                entry.typedPerFilterConfig = try cr.typedPerFilterConfig().map { FilterConfigEntry(name: $0.name, config: $0.config) }
                try cr.finish(ignoring: ["metadata_match"])
                wr.decoder = cr.decoder
                entries.append(entry)
            }
            if entries.isEmpty { throw wr.error("clusters", "value must contain at least 1 item(s)") }
            let total = entries.reduce(UInt64(0)) { $0 + UInt64($1.weight) }
            if total == 0 { throw wr.error("clusters", "Sum of weights in the weighted_cluster must be greater than 0.") }
            if total > UInt64(UInt32.max) {
                throw wr.error("clusters", "The sum of weights of all weighted clusters of route exceeds 4294967295")
            }
            let prefix = try wr.string("runtime_key_prefix")
            var weighted = WeightedClusters(entries, runtimeKeyPrefix: prefix)
            weighted.headerName = try wr.string("header_name")?.asciiLowercased
            weighted.totalWeight = try wr.int("total_weight").map { UInt32(clamping: $0) }
            weighted.useHashPolicy = try wr.bool("use_hash_policy") ?? false
            try wr.finish()
            r.decoder = wr.decoder
            specifiers.append(.weightedClusters(weighted))
        }
        guard specifiers.count == 1 else {
            throw r.error(
                "",
                specifiers.isEmpty
                    ? "route action names no cluster (cluster, cluster_header or weighted_clusters)"
                    : "route action sets more than one cluster specifier")
        }
        var rewrite: RouteAction.PathRewrite?
        if let p = try r.string("prefix_rewrite") { rewrite = .prefix(p) }
        if let rr = r.take("regex_rewrite") {
            guard rewrite == nil else {
                throw r.error("regex_rewrite", "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy")
            }
            let rx = try r.regexRewrite(rr, "regex_rewrite")
            rewrite = .regex(pattern: rx.pattern, substitution: rx.substitution)
        }
        let host = try r.string("host_rewrite_literal")
        let timeout = try r.duration("timeout")
        let idle = try r.duration("idle_timeout")
        var retry: RetryPolicy?
        if let rp = r.take("retry_policy") { retry = try r.retryPolicy(rp, "retry_policy") }
        let mirrors = try r.mirrorPolicies("request_mirror_policies")
        var hashes: [HashPolicy] = []
        for (i, h) in try r.list("hash_policy").enumerated() {
            let p = r.path("hash_policy[\(i)]")
            var policy: HashPolicy
            if let name = h["header"]?["header_name"]?.stringValue {
                policy = .header(name.asciiLowercased)
            } else if let name = h["cookie"]?["name"]?.stringValue {
                policy = .cookie(name)
            } else if h["connection_properties"]?["source_ip"]?.boolValue == true {
                policy = .sourceIP
            } else if let name = h["query_parameter"]?["name"]?.stringValue {
                policy = .queryParameter(name)
            } else if let key = h["filter_state"]?["key"]?.stringValue {
                policy = .filterState(key)
            } else {
                throw EnvoyDecodingError(path: p, message: "unsupported hash policy")
            }
            if h["terminal"]?.boolValue == true { policy = .terminal(policy) }
            hashes.append(policy)
        }
        var upgrades: [String] = []
        for (i, u) in try r.list("upgrade_configs").enumerated() {
            guard let t = u["upgrade_type"]?.stringValue else {
                throw EnvoyDecodingError(path: r.path("upgrade_configs[\(i)]"), message: "missing upgrade_type")
            }
            if u["enabled"]?.boolValue != false { upgrades.append(t) }
        }
        let hostHeader = try r.string("host_rewrite_header")
        let autoHost = try r.bool("auto_host_rewrite") ?? false
        var hostRegex: RegexRewrite?
        if let hr = r.take("host_rewrite_path_regex") { hostRegex = try r.regexRewrite(hr, "host_rewrite_path_regex") }
        let hostKinds = [host != nil, hostHeader != nil, autoHost, hostRegex != nil].filter { $0 }.count
        if hostKinds > 1 { throw r.error("", "`host_rewrite_specifier` is a oneof; set only one host rewrite") }
        let xfh = try r.bool("append_x_forwarded_host") ?? false
        var notFound: Int?
        if let c = try r.string("cluster_not_found_response_code") {
            switch c.uppercased() {
            case "SERVICE_UNAVAILABLE": notFound = 503
            case "NOT_FOUND": notFound = 404
            case "INTERNAL_SERVER_ERROR": notFound = 500
            default: throw r.error("cluster_not_found_response_code", "unknown response code \"\(c)\"")
            }
        }
        let rateLimits = try r.list("rate_limits")
        let includeVH = try r.bool("include_vh_rate_limits") ?? false
        let cors = r.take("cors")
        try r.finish(ignoring: [
            "metadata_match", "priority", "max_grpc_timeout", "grpc_timeout_offset", "internal_redirect_policy",
            "max_stream_duration", "hedge_policy", "flush_timeout",
        ])
        var action = RouteAction(
            specifiers[0], pathRewrite: rewrite, hostRewriteLiteral: host, timeout: timeout, idleTimeout: idle,
            retryPolicy: retry, requestMirrorPolicies: mirrors, hashPolicy: hashes, upgradeTypes: upgrades)
        action.hostRewriteHeader = hostHeader?.asciiLowercased
        action.autoHostRewrite = autoHost
        action.hostRewritePathRegex = hostRegex
        action.appendXForwardedHost = xfh
        action.clusterNotFoundResponseCode = notFound
        action.rateLimits = rateLimits
        action.includeVirtualHostRateLimits = includeVH
        action.cors = cors
        return action
    }

    /// Decodes a `RedirectAction`.
    public mutating func redirect(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> RedirectAction {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        var out = RedirectAction()
        if try r.bool("https_redirect") == true { out.scheme = "https" }
        if let s = try r.string("scheme_redirect") { out.scheme = s }
        out.host = try r.string("host_redirect")
        out.port = try r.int("port_redirect").map { Int($0) }
        if let p = try r.string("path_redirect") { out.path = .path(p) }
        if let p = try r.string("prefix_rewrite") { out.path = .prefixRewrite(p) }
        if let rr = r.take("regex_rewrite") {
            if out.path != nil {
                throw r.error(
                    "regex_rewrite", "`path_rewrite_specifier` is a oneof; set only one of path_redirect, prefix_rewrite and regex_rewrite")
            }
            out.path = .regexRewrite(try r.regexRewrite(rr, "regex_rewrite"))
        }
        if let code = r.take("response_code") {
            switch code {
            case .string(let s):
                guard let c = RedirectAction.ResponseCode(rawValue: s.uppercased()) else {
                    throw r.error("response_code", "unknown redirect response code \"\(s)\"")
                }
                out.responseCode = c
            case .int(let i):
                let all = RedirectAction.ResponseCode.allCases
                guard i >= 0 && Int(i) < all.count else { throw r.error("response_code", "unknown redirect response code \(i)") }
                out.responseCode = all[Int(i)]
            default: throw r.error("response_code", "expected an enum name")
            }
        }
        out.stripQuery = try r.bool("strip_query") ?? false
        try r.finish()
        return out
    }

    /// Decodes a `DirectResponseAction`.
    public mutating func directResponse(_ json: JSON, path: String = "") throws(EnvoyDecodingError) -> DirectResponseAction {
        var r = try Reader(json, path, self)
        defer { self = r.decoder }
        guard let status = try r.int("status") else { throw r.error("status", "missing required field") }
        var body: String?
        var isBytes = false
        if let b = r.take("body") {
            var x = try Reader(b, r.path("body"), r.decoder)
            body = try x.string("inline_string")
            if body == nil, let bytes = try x.string("inline_bytes") {
                // Proto JSON writes `bytes` fields in base64.
                guard let raw = Base64.decode(bytes) else { throw x.error("inline_bytes", "invalid base64 for a bytes field") }
                body = String(decoding: raw, as: UTF8.self)
                isBytes = true
            }
            if x.has("filename") { throw x.error("filename", "file bodies are not supported") }
            try x.finish()
            r.decoder = x.decoder
        }
        try r.finish(ignoring: ["body_format"])
        // PGV on `DirectResponseAction.status`: [200, 600).
        guard (200..<600).contains(status) else { throw r.error("status", "value must be inside range [200, 600)") }
        var out = DirectResponseAction(status: Int(status), body: body)
        out.bodyIsBytes = isBytes
        return out
    }
}

/// Walks one JSON object, remembering which keys were read so the rest can be reported.
private struct Reader {
    var object: JSONObject
    let base: String
    var decoder: EnvoyRouteDecoder
    private var consumed: Set<String> = []

    init(_ json: JSON, _ base: String, _ decoder: EnvoyRouteDecoder) throws(EnvoyDecodingError) {
        guard case .object(let o) = json else {
            throw EnvoyDecodingError(path: base, message: "expected an object, found \(json.kindName)")
        }
        // Envoy's JSON parser accepts lowerCamel names too; read everything as proto names.
        var normalized = JSONObject()
        for (k, v) in o.members { normalized[k == "@type" ? k : k.snakeCased] = v }
        self.object = normalized
        self.base = base
        self.decoder = decoder
    }

    func path(_ field: String) -> String {
        if field.isEmpty { return base }
        if base.isEmpty { return field }
        return field.hasPrefix("[") ? base + field : base + "." + field
    }

    func error(_ field: String, _ message: String) -> EnvoyDecodingError {
        EnvoyDecodingError(path: path(field), message: message)
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    mutating func take(_ key: String) -> JSON? {
        consumed.insert(key)
        if case .null = object[key] { return nil }
        return object[key]
    }

    mutating func string(_ key: String) throws(EnvoyDecodingError) -> String? {
        guard let v = take(key) else { return nil }
        guard case .string(let s) = v else { throw error(key, "expected a string, found \(v.kindName)") }
        return s
    }

    mutating func bool(_ key: String) throws(EnvoyDecodingError) -> Bool? {
        guard let v = take(key) else { return nil }
        switch v {
        case .bool(let b): return b
        case .object(let o) where o.keys == ["value"]:
            if case .bool(let b) = o["value"] { return b }
        default: break
        }
        throw error(key, "expected a boolean, found \(v.kindName)")
    }

    mutating func int(_ key: String) throws(EnvoyDecodingError) -> Int64? {
        guard let v = take(key) else { return nil }
        switch v {
        case .int(let i): return i
        case .string(let s): if let i = Int64(s) { return i }
        case .object(let o) where o.keys == ["value"]:
            if case .int(let i) = o["value"] { return i }
        default: break
        }
        throw error(key, "expected an integer, found \(v.kindName)")
    }

    mutating func list(_ key: String) throws(EnvoyDecodingError) -> [JSON] {
        guard let v = take(key) else { return [] }
        if case .array(let a) = v { return a }
        throw error(key, "expected a list, found \(v.kindName)")
    }

    mutating func strings(_ key: String) throws(EnvoyDecodingError) -> [String] {
        var out: [String] = []
        for (i, v) in try list(key).enumerated() {
            guard case .string(let s) = v else { throw error("\(key)[\(i)]", "expected a string, found \(v.kindName)") }
            out.append(s)
        }
        return out
    }

    mutating func duration(_ key: String) throws(EnvoyDecodingError) -> EnvoyDuration? {
        guard let v = take(key) else { return nil }
        guard let d = EnvoyDuration(json: v) else {
            throw error(key, "expected a duration such as \"1.5s\" or {seconds: 1, nanos: 500000000}")
        }
        return d
    }

    mutating func regex(_ json: JSON, _ key: String) throws(EnvoyDecodingError) -> String {
        var x = try Reader(json, path(key), decoder)
        guard let re = try x.string("regex") else { throw x.error("regex", "missing required field") }
        try x.finish(ignoring: ["google_re2"])
        decoder = x.decoder
        return re
    }

    mutating func stringMatcher(_ json: JSON, _ key: String) throws(EnvoyDecodingError) -> StringMatcher {
        var x = try Reader(json, path(key), decoder)
        var patterns: [StringMatcher.Pattern] = []
        if let s = try x.string("exact") { patterns.append(.exact(s)) }
        if let s = try x.string("prefix") { patterns.append(.prefix(s)) }
        if let s = try x.string("suffix") { patterns.append(.suffix(s)) }
        if let s = try x.string("contains") { patterns.append(.contains(s)) }
        if let re = x.take("safe_regex") { patterns.append(.safeRegex(try x.regex(re, "safe_regex"))) }
        if x.has("custom") { throw x.error("custom", "custom string matchers are not supported") }
        guard patterns.count == 1 else {
            throw x.error("", patterns.isEmpty ? "string matcher has no pattern" : "string matcher sets more than one pattern")
        }
        let ignoreCase = try x.bool("ignore_case") ?? false
        switch patterns[0] {
        case .prefix(let v), .suffix(let v), .contains(let v):
            // PGV on `StringMatcher`: prefix, suffix and contains have min_len 1.
            if v.isEmpty { throw x.error("", "value length must be at least 1 characters") }
        case .safeRegex:
            // `StringMatcherImpl`'s constructor (source/common/common/matchers.h) refuses it.
            if ignoreCase { throw x.error("ignore_case", "ignore_case has no effect for safe_regex.") }
        case .exact: break
        }
        try x.finish()
        decoder = x.decoder
        return StringMatcher(patterns[0], ignoreCase: ignoreCase)
    }

    mutating func runtimeFraction(_ json: JSON, _ key: String) throws(EnvoyDecodingError) -> RuntimeFractionalPercent {
        var x = try Reader(json, path(key), decoder)
        guard let dv = x.take("default_value") else { throw x.error("default_value", "missing required field") }
        var y = try Reader(dv, x.path("default_value"), x.decoder)
        let num = try y.int("numerator") ?? 0
        var denominator = FractionalPercent.Denominator.hundred
        if let d = try y.string("denominator") {
            guard let v = FractionalPercent.Denominator(rawValue: d.uppercased()) else {
                throw y.error("denominator", "unknown denominator \"\(d)\"")
            }
            denominator = v
        }
        try y.finish()
        let key = try x.string("runtime_key")
        x.decoder = y.decoder
        try x.finish()
        decoder = x.decoder
        return RuntimeFractionalPercent(
            defaultValue: FractionalPercent(numerator: UInt32(clamping: num), denominator: denominator), runtimeKey: key)
    }

    mutating func regexRewrite(_ json: JSON, _ key: String) throws(EnvoyDecodingError) -> RegexRewrite {
        var x = try Reader(json, path(key), decoder)
        guard let pattern = x.take("pattern") else { throw x.error("pattern", "missing required field") }
        let regex = try x.regex(pattern, "pattern")
        let substitution = try x.string("substitution") ?? ""
        try x.finish()
        decoder = x.decoder
        return RegexRewrite(pattern: regex, substitution: substitution)
    }

    mutating func retryPolicy(_ json: JSON, _ key: String) throws(EnvoyDecodingError) -> RetryPolicy {
        var x = try Reader(json, path(key), decoder)
        let on = (try x.string("retry_on") ?? "").split(separator: ",").map { $0.trimmingASCIISpaces }
        let n = try x.int("num_retries")
        let perTry = try x.duration("per_try_timeout")
        let codes = try x.list("retriable_status_codes").compactMap(\.intValue).map { UInt32(clamping: $0) }
        try x.finish(ignoring: [
            "retry_priority", "retry_host_predicate", "host_selection_retry_max_attempts", "retry_back_off",
            "per_try_idle_timeout", "retriable_headers", "retriable_request_headers", "rate_limited_retry_back_off",
            "retry_options_predicates",
        ])
        decoder = x.decoder
        return RetryPolicy(retryOn: on, numRetries: n.map { UInt32(clamping: $0) }, perTryTimeout: perTry, retriableStatusCodes: codes)
    }

    mutating func mirrorPolicies(_ key: String) throws(EnvoyDecodingError) -> [RequestMirrorPolicy] {
        var mirrors: [RequestMirrorPolicy] = []
        for (i, m) in try list(key).enumerated() {
            var x = try Reader(m, path("\(key)[\(i)]"), decoder)
            let c = try x.string("cluster")
            let h = try x.string("cluster_header")
            // `ShadowPolicyImpl` (config_impl.cc).
            if let c, let h {
                throw x.error("", "Only one of cluster '\(c)' or cluster_header '\(h)' in request mirror policy can be specified")
            }
            if c == nil && h == nil {
                throw x.error("", "Exactly one of cluster or cluster_header in request mirror policy need to be specified")
            }
            var f: RuntimeFractionalPercent?
            if let rf = x.take("runtime_fraction") { f = try x.runtimeFraction(rf, "runtime_fraction") }
            let noSuffix = try x.bool("disable_shadow_host_suffix_append") ?? false
            try x.finish(ignoring: ["trace_sampled"])
            decoder = x.decoder
            var policy = RequestMirrorPolicy(cluster: c ?? "", runtimeFraction: f)
            policy.clusterHeader = h?.asciiLowercased
            policy.disableShadowHostSuffixAppend = noSuffix
            mirrors.append(policy)
        }
        return mirrors
    }

    mutating func metadataMatcher(_ json: JSON, _ key: String) throws(EnvoyDecodingError) -> MetadataMatcher {
        var x = try Reader(json, path(key), decoder)
        guard let filter = try x.string("filter") else { throw x.error("filter", "missing required field") }
        var keys: [String] = []
        for (i, p) in try x.list("path").enumerated() {
            var y = try Reader(p, x.path("path[\(i)]"), x.decoder)
            guard let k = try y.string("key") else { throw y.error("key", "missing required field") }
            try y.finish()
            x.decoder = y.decoder
            keys.append(k)
        }
        if keys.isEmpty { throw x.error("path", "value must contain at least 1 item(s)") }
        guard let v = x.take("value") else { throw x.error("value", "missing required field") }
        var y = try Reader(v, x.path("value"), x.decoder)
        var values: [MetadataMatcher.Value] = []
        if let s = y.take("string_match") { values.append(.string(try y.stringMatcher(s, "string_match"))) }
        if let p = try y.bool("present_match") { values.append(.present(p)) }
        if let b = try y.bool("bool_match") { values.append(.bool(b)) }
        if y.take("null_match") != nil { values.append(.null) }
        if let d = y.take("double_match") {
            if let e = d["exact"], let v = e.number {
                values.append(.doubleExact(v))
            } else if let range = d["range"], let s = range["start"]?.number, let e = range["end"]?.number {
                values.append(.doubleRange(start: s, end: e))
            } else {
                throw y.error("double_match", "expected `exact` or `range: {start, end}`")
            }
        }
        for unsupported in ["list_match", "or_match"] where y.has(unsupported) {
            throw y.error(unsupported, "value matcher `\(unsupported)` is not supported")
        }
        guard values.count == 1 else {
            throw y.error("", values.isEmpty ? "value matcher has no match specifier" : "value matcher sets more than one match specifier")
        }
        try y.finish()
        x.decoder = y.decoder
        let invert = try x.bool("invert") ?? false
        try x.finish()
        decoder = x.decoder
        return MetadataMatcher(filter: filter, path: keys, value: values[0], invert: invert)
    }

    /// `typed_per_filter_config`: filter name -> typed message, in key order.
    mutating func typedPerFilterConfig() throws(EnvoyDecodingError) -> [(name: String, config: TypedMessage)] {
        var out: [(name: String, config: TypedMessage)] = []
        guard let tp = take("typed_per_filter_config") else { return out }
        guard case .object(let o) = tp else { throw error("typed_per_filter_config", "expected an object") }
        for (k, v) in o.members {
            guard case .object(var fields) = v, let t = fields["@type"]?.stringValue else {
                throw error("typed_per_filter_config.\(k)", "expected an object with \"@type\"")
            }
            fields["@type"] = nil
            var m = TypedMessage("", fields)
            m.typeURL = t
            out.append((k, m))
        }
        return out
    }

    mutating func headerOptions(_ key: String) throws(EnvoyDecodingError) -> [HeaderValueOption] {
        var out: [HeaderValueOption] = []
        for (i, v) in try list(key).enumerated() {
            var x = try Reader(v, path("\(key)[\(i)]"), decoder)
            guard let h = x.take("header") else { throw x.error("header", "missing required field") }
            var hr = try Reader(h, x.path("header"), x.decoder)
            guard let k = try hr.string("key") else { throw hr.error("key", "missing required field") }
            let value = try hr.string("value") ?? ""
            try hr.finish(ignoring: ["raw_value"])
            x.decoder = hr.decoder
            var action = HeaderValueOption.AppendAction.appendIfExistsOrAdd
            if try x.bool("append") == false { action = .overwriteIfExistsOrAdd }
            if let a = try x.string("append_action") {
                guard let v = HeaderValueOption.AppendAction(rawValue: a.uppercased()) else {
                    throw x.error("append_action", "unknown append action \"\(a)\"")
                }
                action = v
            }
            let keepEmpty = try x.bool("keep_empty_value") ?? false
            try x.finish()
            decoder = x.decoder
            var option = HeaderValueOption(key: k, value: value, appendAction: action)
            option.keepEmptyValue = keepEmpty
            out.append(option)
        }
        return out
    }

    /// Rejects keys outside `allowed` before any other check, so a misspelt field is
    /// reported as such rather than as the missing field it was meant to be.
    func precheck(_ allowed: Set<String>) throws(EnvoyDecodingError) {
        for key in object.keys where !allowed.contains(key) { throw error(key, "unknown field \"\(key)\"") }
    }

    /// Reports every key not read: known-but-unmodelled ones as warnings, others as errors.
    mutating func finish(ignoring known: Set<String> = []) throws(EnvoyDecodingError) {
        for key in object.keys where !consumed.contains(key) {
            if known.contains(key) {
                decoder.warnings.append(EnvoyDecodingError(path: path(key), message: "field `\(key)` is not modelled and was ignored"))
            } else {
                throw error(key, "unknown field \"\(key)\"")
            }
        }
    }
}

extension JSON {
    /// The value as a double, for integers and doubles.
    var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// A word for the kind of value, for messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

extension String {
    /// `lowerCamel` → `lower_camel`; proto names are unchanged.
    var snakeCased: String {
        guard contains(where: \.isUppercase) else { return self }
        var out = ""
        for c in self {
            if c.isUppercase {
                out += "_" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }
}

extension Substring {
    var trimmingASCIISpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// A route table found in a larger Envoy document, with where it was found.
public struct LocatedRouteConfiguration: Equatable, Sendable {
    /// The listener whose connection manager holds the table inline, if any.
    public var listener: String?
    /// The field path of the table in the document.
    public var path: String
    /// The table.
    public var routeConfiguration: RouteConfiguration
}

extension EnvoyRouteDecoder {
    static let hcmType = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

    /// Every route table in `json`, which may be a bootstrap (inline `route_config`s of its
    /// static listeners), a DiscoveryResponse of listeners or route configurations, a
    /// single `"@type"`d resource, or a bare `RouteConfiguration`. Connection managers using
    /// RDS contribute nothing here; their tables are in the RDS files.
    public mutating func routeConfigurations(in json: JSON) throws(EnvoyDecodingError) -> [LocatedRouteConfiguration] {
        guard case .object(let root) = json else {
            throw EnvoyDecodingError(path: "", message: "expected an object, found \(json.kindName)")
        }
        var out: [LocatedRouteConfiguration] = []
        if let resources = root["resources"] {
            guard case .array(let list) = resources else {
                throw EnvoyDecodingError(path: "resources", message: "expected a list, found \(resources.kindName)")
            }
            for (i, r) in list.enumerated() { out += try resource(r, path: "resources[\(i)]") }
        } else if root["@type"] != nil {
            out += try resource(json, path: "")
        } else if let s = root["static_resources"] {
            for (i, l) in (s["listeners"]?.arrayValue ?? []).enumerated() {
                out += try listenerTables(l, path: "static_resources.listeners[\(i)]")
            }
        } else {
            out.append(LocatedRouteConfiguration(listener: nil, path: "", routeConfiguration: try routeConfiguration(json)))
        }
        return out
    }

    private mutating func resource(_ json: JSON, path: String) throws(EnvoyDecodingError) -> [LocatedRouteConfiguration] {
        guard case .object(var o) = json, let type = o["@type"]?.stringValue else {
            throw EnvoyDecodingError(path: path, message: "expected a resource with \"@type\"")
        }
        o["@type"] = nil
        switch type {
        case DiscoveryResponse.ResourceType.routeConfiguration.rawValue:
            return [
                LocatedRouteConfiguration(listener: nil, path: path, routeConfiguration: try routeConfiguration(.object(o), path: path))
            ]
        case DiscoveryResponse.ResourceType.listener.rawValue:
            return try listenerTables(.object(o), path: path)
        default:
            return []
        }
    }

    private mutating func listenerTables(_ listener: JSON, path: String) throws(EnvoyDecodingError) -> [LocatedRouteConfiguration] {
        let name = listener["name"]?.stringValue
        var out: [LocatedRouteConfiguration] = []
        for (ci, chain) in (listener["filter_chains"]?.arrayValue ?? []).enumerated() {
            for (fi, filter) in (chain["filters"]?.arrayValue ?? []).enumerated() {
                guard let config = filter["typed_config"], config["@type"]?.stringValue == Self.hcmType,
                    let table = config["route_config"]
                else { continue }
                let p = "\(path.isEmpty ? "" : path + ".")filter_chains[\(ci)].filters[\(fi)].typed_config.route_config"
                out.append(LocatedRouteConfiguration(listener: name, path: p, routeConfiguration: try routeConfiguration(table, path: p)))
            }
        }
        return out
    }

    /// Decodes a `RouteConfiguration` found at `path` of a larger document, so error paths
    /// point into that document.
    public mutating func routeConfiguration(_ json: JSON, path: String) throws(EnvoyDecodingError) -> RouteConfiguration {
        do {
            return try routeConfiguration(json)
        } catch {
            var e = error
            if !path.isEmpty { e.path = e.path.isEmpty ? path : path + "." + e.path }
            throw e
        }
    }
}
