import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCSyntax

/// Reads route tables (`RouteConfiguration` and below) into the model, with spans.
struct RouteReader {
    let ctx: ReadContext

    func routeConfiguration(_ node: YAMLNode) -> RouteConfiguration? {
        guard let m = Message(node, Tables.routeConfiguration, ctx, any: true) else { return nil }
        let bodiesBefore = ctx.directResponseBodies.count
        let hosts = m.messages("virtual_hosts", Tables.virtualHost).map(virtualHost)
        var config = RouteConfiguration(
            name: m.string("name") ?? "", virtualHosts: hosts, validateClusters: m.bool("validate_clusters"), source: m.span)
        config.requestHeadersToAdd = headerOptions(m, "request_headers_to_add")
        config.requestHeadersToRemove = m.strings("request_headers_to_remove")
        config.responseHeadersToAdd = headerOptions(m, "response_headers_to_add")
        config.responseHeadersToRemove = m.strings("response_headers_to_remove")
        config.mostSpecificHeaderMutationsWins = m.bool("most_specific_header_mutations_wins") ?? false
        config.ignorePortInHostMatching = m.bool("ignore_port_in_host_matching") ?? false
        config.vhostHeader = m.string("vhost_header")?.asciiLowercased
        config.internalOnlyHeaders = m.strings("internal_only_headers")
        config.maxDirectResponseBodySizeBytes = m.int("max_direct_response_body_size_bytes").map { UInt32($0) }
        config.requestMirrorPolicies = mirrorPolicies(m)
        config.typedPerFilterConfig = typedPerFilterConfig(m).map { FilterConfigEntry(name: $0.name, config: $0.config) }
        // `DirectResponseUtil` (source/common/router/config_impl.cc) checks body sizes at load.
        let limit = Int(config.maxDirectResponseBodySizeBytes ?? 4096)
        for body in ctx.directResponseBodies[bodiesBefore...] where body.size > limit {
            ctx.error(
                .invalidValue, "the direct response body is \(body.size) bytes; the maximum is \(limit)", at: body.span,
                label: "body too large", help: "raise `max_direct_response_body_size_bytes` or shorten the body")
        }
        return config
    }

    func virtualHost(_ m: Message) -> VirtualHost {
        // Numbered as written (`#N` in messages), even after a route dropped for an error.
        let routes = m.list("routes").enumerated().compactMap { i, node in
            Message(node, Tables.route, ctx).flatMap(route).map { r in
                var r = r
                r.position = i + 1
                return r
            }
        }
        let tls = m.enumeration("require_tls", EnumTables.tlsRequirement) ?? .none
        let domainNodes = m.list("domains").filter { Message.string($0, "domains", m) != nil }
        var vh = VirtualHost(
            name: m.string("name") ?? "", domains: domainNodes.compactMap { $0.scalar?.text }, routes: routes, requireTLS: tls,
            requestHeadersToAdd: headerOptions(m, "request_headers_to_add"),
            requestHeadersToRemove: m.strings("request_headers_to_remove"),
            responseHeadersToAdd: headerOptions(m, "response_headers_to_add"),
            responseHeadersToRemove: m.strings("response_headers_to_remove"),
            typedPerFilterConfig: typedPerFilterConfig(m), source: m.span)
        vh.domainSources = domainNodes.map(\.span)
        for c in m.messages("virtual_clusters", Tables.virtualCluster) {
            let headers = c.messages("headers", Tables.headerMatcher).compactMap(headerMatcher)
            // `VirtualHostImpl` (config_impl.cc) refuses header-less virtual clusters.
            if headers.isEmpty && c.list("headers").isEmpty {
                ctx.error(.missingField, "a virtual cluster needs `headers`", at: c.span, label: "no `headers`")
                continue
            }
            vh.virtualClusters.append(VirtualCluster(name: c.string("name") ?? "", headers: headers))
        }
        vh.retryPolicy = m.message("retry_policy", Tables.retryPolicy).map(retryPolicy)
        vh.requestMirrorPolicies = mirrorPolicies(m)
        vh.rateLimits = m.list("rate_limits").map(JSONValue.of)
        vh.cors = m.value("cors").map(JSONValue.of)
        vh.includeRequestAttemptCount = m.bool("include_request_attempt_count") ?? false
        vh.includeAttemptCountInResponse = m.bool("include_attempt_count_in_response") ?? false
        (vh.requestBodyBufferLimit, vh.perRequestBufferLimitBytes) = bufferLimits(m)
        return vh
    }

    /// A route, or nil when reading it reported an error: a route xdsc could not read
    /// exactly is left out of every check rather than guessed at.
    func route(_ m: Message) -> Route? {
        let before = ctx.sink.errorCount
        let r = readRoute(m)
        return ctx.sink.errorCount == before ? r : nil
    }

    func readRoute(_ m: Message) -> Route? {
        guard let matchMessage = m.message("match", Tables.routeMatch) else {
            if !m.has("match") {
                ctx.error(.missingField, "`Route` needs `match`", at: m.span, label: "missing `match`")
            }
            return nil
        }
        let match = routeMatch(matchMessage)
        var actions: [(String, Route.Action)] = []
        if let a = m.message("route", Tables.routeAction), let r = routeAction(a) { actions.append(("route", .route(r))) }
        if let a = m.message("redirect", Tables.redirectAction) { actions.append(("redirect", .redirect(redirect(a)))) }
        if let a = m.message("direct_response", Tables.directResponseAction), let d = directResponse(a) {
            actions.append(("direct_response", .directResponse(d)))
        }
        let unmodeledActions = ["filter_action", "non_forwarding_action"].filter(m.has)
        if actions.count > 1 {
            ctx.error(
                .conflictingFields, "`Route` sets more than one action: \(actions.map { "`\($0.0)`" }.joined(separator: ", "))",
                at: m.keySpan(actions[1].0), help: "keep one of `route`, `redirect` and `direct_response`")
            return nil
        }
        guard let action = actions.first?.1 else {
            // A route whose action failed to read was already reported; only a route with none is new.
            if unmodeledActions.isEmpty && !["route", "redirect", "direct_response"].contains(where: m.has) {
                ctx.error(
                    .missingField, "`Route` has no action: `route`, `redirect` or `direct_response`", at: m.span,
                    label: "no action")
            }
            return nil
        }
        var route = Route(
            name: m.string("name"), match: match, action: action, typedPerFilterConfig: typedPerFilterConfig(m),
            requestHeadersToAdd: headerOptions(m, "request_headers_to_add"),
            requestHeadersToRemove: m.strings("request_headers_to_remove"),
            responseHeadersToAdd: headerOptions(m, "response_headers_to_add"),
            responseHeadersToRemove: m.strings("response_headers_to_remove"), source: m.span)
        (route.requestBodyBufferLimit, route.perRequestBufferLimitBytes) = bufferLimits(m)
        return route
    }

    /// `request_body_buffer_limit` (a `UInt64Value`) and `per_request_buffer_limit_bytes` (a
    /// `UInt32Value`) of a route or a virtual host.
    func bufferLimits(_ m: Message) -> (UInt64?, UInt32?) {
        (
            m.int("request_body_buffer_limit", 0...Int64.max).map { UInt64($0) },
            m.int("per_request_buffer_limit_bytes").map { UInt32($0) }
        )
    }

    func routeMatch(_ m: Message) -> RouteMatch {
        var specifiers: [(String, RouteMatch.PathSpecifier)] = []
        if let p = m.string("prefix") { specifiers.append(("prefix", .prefix(p))) }
        if let p = m.string("path") { specifiers.append(("path", .path(p))) }
        if let re = m.message("safe_regex", Tables.regexMatcher), let r = regex(re) { specifiers.append(("safe_regex", .safeRegex(r))) }
        if let p = m.string("path_separated_prefix") { specifiers.append(("path_separated_prefix", .pathSeparatedPrefix(p))) }
        if m.message("connect_matcher", Tables.connectMatcher) != nil {
            specifiers.append(("connect_matcher", .connectMatcher))
        }
        let unmodeled = Tables.routeMatch.fields.filter { $0.value == .routing }.map(\.key).filter(m.has).sorted()
        if specifiers.count > 1 {
            ctx.error(
                .conflictingFields,
                "`RouteMatch` sets more than one path specifier: \(specifiers.map { "`\($0.0)`" }.joined(separator: ", "))",
                at: m.keySpan(specifiers[1].0),
                help: "`prefix`, `path`, `safe_regex`, `path_separated_prefix` and `connect_matcher` are one oneof")
        } else if specifiers.isEmpty && !m.has("path_match_policy") {
            ctx.error(
                .missingField, "`RouteMatch` has no path specifier (`prefix`, `path`, `safe_regex`...)", at: m.span,
                label: "no path specifier", help: "add `prefix: /` to match every path")
        }
        var headers: [HeaderMatcher] = []
        for h in m.messages("headers", Tables.headerMatcher) { if let x = headerMatcher(h) { headers.append(x) } }
        var query: [QueryParameterMatcher] = []
        for q in m.messages("query_parameters", Tables.queryParameterMatcher) {
            guard let name = q.requiredString("name") else { continue }
            // PGV on `QueryParameterMatcher.name`: min_len 1, max_bytes 1024.
            guard (1...1024).contains(name.utf8.count) else {
                ctx.error(.invalidValue, "a query parameter name must be 1 to 1024 bytes long", at: q.span("name"), label: "bad length")
                continue
            }
            let sm = q.message("string_match", Tables.stringMatcher).flatMap(stringMatcher)
            let present = q.bool("present_match")
            if sm != nil && present != nil {
                ctx.error(
                    .conflictingFields, "`string_match` and `present_match` are one oneof; set only one", at: q.keySpan("present_match"))
            }
            query.append(QueryParameterMatcher(name: name, stringMatch: sm, presentMatch: present))
        }
        var grpc = false
        if m.message("grpc", Tables.grpcRouteMatchOptions) != nil { grpc = true }
        var out = RouteMatch(
            specifiers.first?.1 ?? .prefix(""), caseSensitive: m.bool("case_sensitive"),
            runtimeFraction: m.message("runtime_fraction", Tables.runtimeFractionalPercent).map(runtimeFraction),
            headers: headers, queryParameters: query, grpc: grpc)
        out.unmodeledCriteria = unmodeled
        out.dynamicMetadata = m.messages("dynamic_metadata", Tables.metadataMatcher).compactMap(metadataMatcher)
        return out
    }

    func metadataMatcher(_ m: Message) -> MetadataMatcher? {
        guard let filter = m.requiredString("filter") else { return nil }
        let keys = m.messages("path", Tables.pathSegment).compactMap { $0.requiredString("key") }
        if keys.isEmpty {
            ctx.error(.missingField, "`MetadataMatcher` needs at least one `path` segment", at: m.span, label: "no `path`")
            return nil
        }
        guard let v = m.message("value", Tables.valueMatcher) else {
            if !m.has("value") { ctx.error(.missingField, "`MetadataMatcher` needs `value`", at: m.span, label: "missing `value`") }
            return nil
        }
        var values: [MetadataMatcher.Value] = []
        if let s = v.message("string_match", Tables.stringMatcher), let sm = stringMatcher(s) { values.append(.string(sm)) }
        if let p = v.bool("present_match") { values.append(.present(p)) }
        if let b = v.bool("bool_match") { values.append(.bool(b)) }
        if v.has("null_match") { values.append(.null) }
        if let d = v.message("double_match", Tables.doubleMatcher) {
            if let e = d.double("exact") {
                values.append(.doubleExact(e))
            } else if let r = d.message("range", Tables.doubleRange), let start = r.double("start"), let end = r.double("end") {
                values.append(.doubleRange(start: start, end: end))
            } else {
                ctx.error(.missingField, "`DoubleMatcher` needs `exact` or `range: {start, end}`", at: d.span, label: "no match")
            }
        }
        guard values.count == 1 else {
            if values.count > 1 {
                ctx.error(.conflictingFields, "`ValueMatcher` sets more than one match specifier", at: v.span)
            } else if !["list_match", "or_match"].contains(where: v.has) {
                ctx.error(.missingField, "`ValueMatcher` has no match specifier", at: v.span, label: "no match")
            }
            return nil
        }
        return MetadataMatcher(filter: filter, path: keys, value: values[0], invert: m.bool("invert") ?? false)
    }

    func regex(_ m: Message) -> String? { m.requiredString("regex") }

    func headerMatcher(_ m: Message) -> HeaderMatcher? {
        guard let name = m.requiredString("name") else { return nil }
        var specs: [(String, HeaderMatcher.Specifier)] = []
        if let s = m.message("string_match", Tables.stringMatcher), let sm = stringMatcher(s) {
            specs.append(("string_match", .string(sm)))
        }
        if let p = m.bool("present_match") { specs.append(("present_match", .present(p))) }
        if let e = m.string("exact_match") { specs.append(("exact_match", .deprecatedExact(e))) }
        for (key, make) in [
            ("prefix_match", StringMatcher.Pattern.prefix), ("suffix_match", StringMatcher.Pattern.suffix),
            ("contains_match", StringMatcher.Pattern.contains),
        ] {
            guard let p = m.string(key) else { continue }
            // PGV: the deprecated `prefix_match`, `suffix_match`, `contains_match` have min_len 1.
            if p.isEmpty {
                ctx.error(.invalidValue, "`\(key)` must not be empty", at: m.span(key), label: "empty")
                continue
            }
            specs.append((key, .string(StringMatcher(make(p)))))
        }
        if let re = m.message("safe_regex_match", Tables.regexMatcher), let r = regex(re) {
            specs.append(("safe_regex_match", .string(StringMatcher(.safeRegex(r)))))
        }
        if let r = m.message("range_match", Tables.int64Range) {
            let range = Int64.min...Int64.max
            specs.append(("range_match", .range(start: r.int("start", range) ?? 0, end: r.int("end", range) ?? 0)))
        }
        if specs.count > 1 {
            ctx.error(
                .conflictingFields, "`HeaderMatcher` sets more than one match specifier", at: m.keySpan(specs[1].0),
                help: "keep one of \(specs.map { "`\($0.0)`" }.joined(separator: ", "))")
        }
        return HeaderMatcher(
            name: name.asciiLowercased, specs.first?.1, invertMatch: m.bool("invert_match") ?? false,
            treatMissingHeaderAsEmpty: m.bool("treat_missing_header_as_empty") ?? false)
    }

    func stringMatcher(_ m: Message) -> StringMatcher? {
        var patterns: [(String, StringMatcher.Pattern)] = []
        for (key, make) in [
            ("exact", StringMatcher.Pattern.exact), ("prefix", StringMatcher.Pattern.prefix),
            ("suffix", StringMatcher.Pattern.suffix), ("contains", StringMatcher.Pattern.contains),
        ] {
            if let s = m.string(key) {
                // PGV on `StringMatcher`: prefix, suffix and contains have min_len 1.
                if s.isEmpty && key != "exact" {
                    ctx.error(.invalidValue, "`\(key)` must not be empty", at: m.span(key), label: "empty")
                    return nil
                }
                patterns.append((key, make(s)))
            }
        }
        if let re = m.message("safe_regex", Tables.regexMatcher), let r = regex(re) { patterns.append(("safe_regex", .safeRegex(r))) }
        if patterns.count > 1 {
            ctx.error(.conflictingFields, "`StringMatcher` sets more than one pattern", at: m.keySpan(patterns[1].0))
            return nil
        }
        guard let pattern = patterns.first else {
            if !m.has("custom") && !m.has("safe_regex") {
                ctx.error(
                    .missingField, "`StringMatcher` has no pattern (`exact`, `prefix`, `suffix`, `contains`, `safe_regex`)",
                    at: m.span, label: "no pattern")
            }
            return nil
        }
        let ignoreCase = m.bool("ignore_case") ?? false
        if case .safeRegex = pattern.1, ignoreCase {
            // `StringMatcherImpl`'s constructor (source/common/common/matchers.h) refuses it.
            ctx.error(
                .invalidValue, "`ignore_case` has no effect for `safe_regex`; Envoy rejects the matcher",
                at: m.keySpan("ignore_case"), help: "write `(?i)` in the regex instead")
            return nil
        }
        return StringMatcher(pattern.1, ignoreCase: ignoreCase)
    }

    func runtimeFraction(_ m: Message) -> RuntimeFractionalPercent {
        RuntimeFractionalPercent(
            defaultValue: m.message("default_value", Tables.fractionalPercent).map(fractionalPercent) ?? .percent(0),
            runtimeKey: m.string("runtime_key"))
    }

    func fractionalPercent(_ m: Message) -> FractionalPercent {
        let d = m.enumeration("denominator", EnumTables.denominator) ?? .hundred
        return FractionalPercent(numerator: UInt32(m.int("numerator") ?? 0), denominator: d)
    }

    func routeAction(_ m: Message) -> RouteAction? {
        var specifiers: [(String, RouteAction.ClusterSpecifier)] = []
        if let c = m.string("cluster") { specifiers.append(("cluster", .cluster(c))) }
        if let c = m.string("cluster_header") { specifiers.append(("cluster_header", .clusterHeader(c.asciiLowercased))) }
        if let w = m.message("weighted_clusters", Tables.weightedCluster) {
            var entries: [WeightedClusters.Entry] = []
            for c in w.messages("clusters", Tables.clusterWeight) {
                let name = c.string("name")
                let header = c.string("cluster_header")
                // `WeightedClusterSpecifierPlugin` (weighted_cluster_specifier.cc): exactly one of the two.
                if name == nil && header == nil {
                    ctx.error(
                        .missingField, "`ClusterWeight` needs `name` or `cluster_header`", at: c.span, label: "no cluster")
                    continue
                }
                if name != nil && header != nil {
                    ctx.error(
                        .conflictingFields, "`ClusterWeight` sets both `name` and `cluster_header`; set only one",
                        at: c.keySpan("cluster_header"))
                    continue
                }
                guard let weight = c.int("weight") else {
                    if !c.has("weight") {
                        ctx.error(.missingField, "`ClusterWeight` needs `weight`", at: c.span, label: "missing `weight`")
                    }
                    continue
                }
                var entry = WeightedClusters.Entry(name: name ?? "", weight: UInt32(weight), clusterHeader: header?.asciiLowercased)
                entry.requestHeadersToAdd = headerOptions(c, "request_headers_to_add")
                entry.requestHeadersToRemove = c.strings("request_headers_to_remove")
                entry.responseHeadersToAdd = headerOptions(c, "response_headers_to_add")
                entry.responseHeadersToRemove = c.strings("response_headers_to_remove")
                entry.hostRewriteLiteral = c.string("host_rewrite_literal")
                entry.typedPerFilterConfig = typedPerFilterConfig(c).map { FilterConfigEntry(name: $0.name, config: $0.config) }
                entries.append(entry)
            }
            let total = entries.reduce(UInt64(0)) { $0 + UInt64($1.weight) }
            if w.has("clusters") && total == 0 {
                ctx.error(
                    .invalidValue, "the weights of `weighted_clusters` must sum to more than 0", at: w.keySpan("clusters"),
                    label: "sum is 0")
            } else if total > UInt64(UInt32.max) {
                ctx.error(
                    .invalidValue, "the weights of `weighted_clusters` sum to more than 4294967295", at: w.keySpan("clusters"),
                    label: "sum too large")
            }
            var weighted = WeightedClusters(entries, runtimeKeyPrefix: w.string("runtime_key_prefix"))
            weighted.headerName = w.string("header_name")?.asciiLowercased
            weighted.totalWeight = w.int("total_weight").map { UInt32($0) }
            weighted.useHashPolicy = w.bool("use_hash_policy") ?? false
            specifiers.append(("weighted_clusters", .weightedClusters(weighted)))
        }
        let plugin = ["cluster_specifier_plugin", "inline_cluster_specifier_plugin"].contains(where: m.has)
        if specifiers.count > 1 {
            ctx.error(
                .conflictingFields, "`RouteAction` sets more than one cluster specifier", at: m.keySpan(specifiers[1].0),
                help: "`cluster`, `cluster_header` and `weighted_clusters` are one oneof")
            return nil
        }
        guard let specifier = specifiers.first?.1 else {
            if !plugin {
                ctx.error(
                    .missingField, "`RouteAction` names no cluster (`cluster`, `cluster_header` or `weighted_clusters`)",
                    at: m.span, label: "no cluster")
            }
            return nil
        }
        var rewrite: RouteAction.PathRewrite?
        if let p = m.string("prefix_rewrite") { rewrite = .prefix(p) }
        if let rr = m.message("regex_rewrite", Tables.regexMatchAndSubstitute) {
            if rewrite != nil {
                ctx.error(
                    .conflictingFields, "`prefix_rewrite` and `regex_rewrite` are one oneof; set only one", at: m.keySpan("regex_rewrite"))
            } else if let p = rr.message("pattern", Tables.regexMatcher), let pattern = regex(p) {
                rewrite = .regex(pattern: pattern, substitution: rr.string("substitution") ?? "")
            }
        }
        let retry = m.message("retry_policy", Tables.retryPolicy).map(retryPolicy)
        let mirrors = mirrorPolicies(m)
        var hashes: [HashPolicy] = []
        for h in m.messages("hash_policy", Tables.hashPolicy) {
            var policy: HashPolicy
            if let x = h.message("header", Tables.hashHeader), let n = x.requiredString("header_name") {
                policy = .header(n.asciiLowercased)
            } else if let x = h.message("cookie", Tables.hashCookie), let n = x.requiredString("name") {
                policy = .cookie(n)
            } else if let x = h.message("connection_properties", Tables.hashConnection), x.bool("source_ip") == true {
                policy = .sourceIP
            } else if let x = h.message("query_parameter", Tables.hashQueryParameter), let n = x.requiredString("name") {
                policy = .queryParameter(n)
            } else if let x = h.message("filter_state", Tables.hashFilterState), let k = x.requiredString("key") {
                policy = .filterState(k)
            } else {
                continue
            }
            if h.bool("terminal") == true { policy = .terminal(policy) }
            hashes.append(policy)
        }
        var upgrades: [String] = []
        var refused: [String] = []
        for u in m.messages("upgrade_configs", Tables.upgradeConfig) {
            guard let t = u.requiredString("upgrade_type") else { continue }
            if u.bool("enabled") != false { upgrades.append(t) } else { refused.append(t) }
        }
        var action = RouteAction(
            specifier, pathRewrite: rewrite, hostRewriteLiteral: m.string("host_rewrite_literal"), timeout: m.duration("timeout"),
            idleTimeout: m.duration("idle_timeout"), retryPolicy: retry, requestMirrorPolicies: mirrors, hashPolicy: hashes,
            upgradeTypes: upgrades)
        action.disabledUpgradeTypes = refused
        action.unsimulatedFields = Tables.routeAction.unsimulatedNames.filter(m.has)
        action.hostRewriteHeader = m.string("host_rewrite_header")?.asciiLowercased
        action.autoHostRewrite = m.bool("auto_host_rewrite") ?? false
        action.hostRewritePathRegex = m.message("host_rewrite_path_regex", Tables.regexMatchAndSubstitute).flatMap(regexRewrite)
        let hostKinds =
            ["host_rewrite_literal", "host_rewrite_header", "host_rewrite_path_regex"].filter(m.has)
            + (action.autoHostRewrite ? ["auto_host_rewrite"] : [])
        if hostKinds.count > 1 {
            ctx.error(
                .conflictingFields, "`RouteAction` sets more than one host rewrite: \(hostKinds.map { "`\($0)`" }.joined(separator: ", "))",
                at: m.keySpan(hostKinds[1]), help: "the host rewrites are one oneof; keep one")
        }
        action.appendXForwardedHost = m.bool("append_x_forwarded_host") ?? false
        action.clusterNotFoundResponseCode = m.enumeration("cluster_not_found_response_code", EnumTables.clusterNotFoundResponseCode)
        action.rateLimits = m.list("rate_limits").map(JSONValue.of)
        action.includeVirtualHostRateLimits = m.bool("include_vh_rate_limits") ?? false
        action.cors = m.value("cors").map(JSONValue.of)
        action.maxGrpcTimeout = m.duration("max_grpc_timeout")
        action.grpcTimeoutOffset = m.duration("grpc_timeout_offset")
        action.priority = m.enumeration("priority", EnumTables.routingPriority) ?? .default
        if let d = m.message("max_stream_duration", Tables.maxStreamDuration) {
            action.maxStreamDuration = MaxStreamDuration(
                maxStreamDuration: d.duration("max_stream_duration"), grpcTimeoutHeaderMax: d.duration("grpc_timeout_header_max"),
                grpcTimeoutHeaderOffset: d.duration("grpc_timeout_header_offset"))
        }
        return action
    }

    func regexRewrite(_ m: Message) -> RegexRewrite? {
        guard let p = m.message("pattern", Tables.regexMatcher), let pattern = regex(p) else {
            if !m.has("pattern") {
                ctx.error(.missingField, "`RegexMatchAndSubstitute` needs `pattern`", at: m.span, label: "missing `pattern`")
            }
            return nil
        }
        return RegexRewrite(pattern: pattern, substitution: m.string("substitution") ?? "")
    }

    func retryPolicy(_ rp: Message) -> RetryPolicy {
        let on = (rp.string("retry_on") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var p = RetryPolicy(
            retryOn: on, numRetries: rp.int("num_retries").map { UInt32($0) }, perTryTimeout: rp.duration("per_try_timeout"),
            retriableStatusCodes: rp.list("retriable_status_codes").compactMap { $0.scalar?.int }.map { UInt32(clamping: $0) },
            perTryTimeoutSource: rp.has("per_try_timeout") ? rp.span("per_try_timeout") : nil)
        p.retriableHeaders = rp.messages("retriable_headers", Tables.headerMatcher).compactMap(headerMatcher)
        p.retriableRequestHeaders = rp.messages("retriable_request_headers", Tables.headerMatcher).compactMap(headerMatcher)
        if let b = rp.message("retry_back_off", Tables.retryBackOff) { p.backOff = retryBackOff(b) }
        if let r = rp.message("rate_limited_retry_back_off", Tables.rateLimitedRetryBackOff) {
            p.rateLimitedBackOff = rateLimitedBackOff(r)
        }
        p.perTryIdleTimeout = rp.duration("per_try_idle_timeout")
        p.retryHostPredicates = rp.messages("retry_host_predicate", Tables.retryHostPredicate).compactMap(retryHostPredicate)
        // An int64; `RetryPolicyImpl` keeps it as a uint32 when it is not 0.
        p.hostSelectionRetryMaxAttempts = rp.int("host_selection_retry_max_attempts", Int64.min...Int64.max)
        p.unsimulatedFields = Tables.retryPolicy.unsimulatedNames.filter(rp.has)
        for h in p.retryHostPredicates where h != .previousHosts {
            p.unsimulatedFields.append("retry_host_predicate \(h.name.isEmpty ? h.typeURL ?? "" : h.name)")
        }
        return p
    }

    /// `RetryPolicy.RetryHostPredicate`: the extension Envoy finds for it
    /// (`Config::Utility::getAndCheckFactory`): by the `typed_config` type, else by `name`;
    /// one with neither is refused ("Provided name for static registration lookup was empty").
    func retryHostPredicate(_ m: Message) -> RetryHostPredicate? {
        let known: [RetryHostPredicate] = [.previousHosts, .omitCanaryHosts, .omitHostMetadata]
        let name = m.string("name") ?? ""
        if m.has("typed_config") {
            guard let (t, _) = m.any("typed_config") else { return nil }
            if let k = known.first(where: { $0.typeURL == t }) { return k }
            ctx.opaque.append(OpaqueExtension(name: name, typeURL: t, source: m.span))
            return .other(name: name, typeURL: t)
        }
        guard !name.isEmpty else {
            ctx.error(
                .missingField, "a retry host predicate needs `typed_config` (or `name`): Envoy finds no extension for it",
                at: m.span, label: "no extension",
                help:
                    "add `typed_config: {\"@type\": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}`"
            )
            return nil
        }
        if let k = known.first(where: { $0.name == name }) { return k }
        ctx.opaque.append(OpaqueExtension(name: name, typeURL: nil, source: m.span))
        return .other(name: name, typeURL: nil)
    }

    /// `RetryPolicy.RetryBackOff`: `base_interval` is required and above 0, `max_interval`
    /// above 0 (PGV) and, both rounded up to 1 ms, not below the base (`RetryPolicyImpl`,
    /// config_impl.cc, refuses the policy).
    func retryBackOff(_ b: Message) -> RetryBackOff? {
        guard b.has("base_interval") else {
            ctx.error(.missingField, "`RetryBackOff` needs `base_interval`", at: b.span, label: "missing `base_interval`")
            return nil
        }
        guard let base = b.duration("base_interval") else { return nil }
        guard positive(base, "base_interval", b) else { return nil }
        let maxInterval = b.duration("max_interval")
        if let m = maxInterval {
            guard positive(m, "max_interval", b) else { return nil }
            if max(m.milliseconds, 1) < max(base.milliseconds, 1) {
                ctx.error(
                    .invalidValue, "`max_interval` (\(m)) is below `base_interval` (\(base)); Envoy refuses the retry policy",
                    at: b.span("max_interval"), label: "below the base")
                return nil
            }
        }
        return RetryBackOff(baseInterval: base, maxInterval: maxInterval)
    }

    /// `RetryPolicy.RateLimitedRetryBackOff`: at least one reset header, each with a name;
    /// `max_interval` above 0.
    func rateLimitedBackOff(_ r: Message) -> RateLimitedRetryBackOff? {
        var headers: [RateLimitedRetryBackOff.ResetHeader] = []
        for h in r.messages("reset_headers", Tables.resetHeader) {
            guard let name = h.requiredString("name") else { continue }
            guard !name.isEmpty else {
                ctx.error(.invalidValue, "a reset header's `name` must not be empty", at: h.span("name"), label: "empty")
                continue
            }
            headers.append(.init(name: name.lowercased(), format: h.enumeration("format", EnumTables.resetHeaderFormat) ?? .seconds))
        }
        guard !headers.isEmpty else {
            if r.list("reset_headers").isEmpty {
                ctx.error(
                    .missingField, "`RateLimitedRetryBackOff` needs at least one of `reset_headers`", at: r.span,
                    label: "no reset headers")
            }
            return nil
        }
        let maxInterval = r.duration("max_interval")
        if let m = maxInterval, !positive(m, "max_interval", r) { return nil }
        return RateLimitedRetryBackOff(resetHeaders: headers, maxInterval: maxInterval)
    }

    /// PGV's `duration.gt: {}`: `field` must be above 0.
    func positive(_ d: EnvoyDuration, _ field: String, _ m: Message) -> Bool {
        guard d.nanoseconds > 0 else {
            ctx.error(.invalidValue, "`\(field)` must be above 0", at: m.span(field), label: "not above 0")
            return false
        }
        return true
    }

    /// `request_mirror_policies` of `m`: each names exactly one of `cluster` and
    /// `cluster_header` (`ShadowPolicyImpl`, config_impl.cc).
    func mirrorPolicies(_ m: Message) -> [RequestMirrorPolicy] {
        m.messages("request_mirror_policies", Tables.requestMirrorPolicy).compactMap { x -> RequestMirrorPolicy? in
            let c = x.string("cluster")
            let h = x.string("cluster_header")
            if c != nil && h != nil {
                ctx.error(
                    .conflictingFields, "a request mirror policy sets both `cluster` and `cluster_header`; set only one",
                    at: x.keySpan("cluster_header"))
                return nil
            }
            if c == nil && h == nil {
                ctx.error(
                    .missingField, "a request mirror policy needs `cluster` or `cluster_header`", at: x.span, label: "no cluster")
                return nil
            }
            var policy = RequestMirrorPolicy(
                cluster: c ?? "", runtimeFraction: x.message("runtime_fraction", Tables.runtimeFractionalPercent).map(runtimeFraction))
            policy.clusterHeader = h?.asciiLowercased
            policy.disableShadowHostSuffixAppend = x.bool("disable_shadow_host_suffix_append") ?? false
            return policy
        }
    }

    func redirect(_ m: Message) -> RedirectAction {
        var out = RedirectAction()
        if m.bool("https_redirect") == true { out.scheme = "https" }
        if let s = m.string("scheme_redirect") {
            if m.has("https_redirect") {
                ctx.error(
                    .conflictingFields, "`https_redirect` and `scheme_redirect` are one oneof; set only one",
                    at: m.keySpan("scheme_redirect"))
            }
            out.scheme = s
        }
        out.host = m.string("host_redirect")
        out.port = m.int("port_redirect").map { Int($0) }
        if let p = m.string("path_redirect") { out.path = .path(p) }
        if let p = m.string("prefix_rewrite") {
            if m.has("path_redirect") {
                ctx.error(
                    .conflictingFields, "`path_redirect` and `prefix_rewrite` are one oneof; set only one", at: m.keySpan("prefix_rewrite"))
            }
            out.path = .prefixRewrite(p)
        }
        if let rr = m.message("regex_rewrite", Tables.regexMatchAndSubstitute) {
            if out.path != nil {
                ctx.error(
                    .conflictingFields, "`path_redirect`, `prefix_rewrite` and `regex_rewrite` are one oneof; set only one",
                    at: m.keySpan("regex_rewrite"))
            }
            if let r = regexRewrite(rr) { out.path = .regexRewrite(r) }
        }
        out.responseCode = m.enumeration("response_code", EnumTables.redirectResponseCode) ?? .movedPermanently
        out.stripQuery = m.bool("strip_query") ?? false
        return out
    }

    func directResponse(_ m: Message) -> DirectResponseAction? {
        guard has(m, "status") else { return nil }
        guard let status = m.int("status", 200...599) else { return nil }
        var body: String?
        var isBytes = false
        if let b = m.message("body", Tables.dataSource) {
            body = b.string("inline_string")
            // Proto JSON writes `bytes` fields in base64; `bytes` decodes it.
            if body == nil, let raw = b.bytes("inline_bytes") {
                body = raw
                isBytes = true
            }
            if b.has("filename") {
                ctx.error(
                    .unmodeledField, "a direct response body read from a file is not modelled", at: b.keySpan("filename"),
                    label: "not modelled", help: "xdsc checks the route, not the body it sends")
            }
        }
        if let body { ctx.directResponseBodies.append((body.utf8.count, m.span("body"))) }
        var out = DirectResponseAction(status: Int(status), body: body)
        out.bodyIsBytes = isBytes
        return out
    }

    func has(_ m: Message, _ field: String) -> Bool {
        if m.has(field) { return true }
        ctx.error(.missingField, "`\(m.table.name)` needs `\(field)`", at: m.span, label: "missing `\(field)`")
        return false
    }

    /// `typed_per_filter_config`: filter name -> typed message (kept as its `@type`), in key
    /// order.
    func typedPerFilterConfig(_ m: Message) -> [(name: String, config: TypedMessage)] {
        guard let v = m.value("typed_per_filter_config") else { return [] }
        guard let pairs = v.mapping else {
            m.mismatch("typed_per_filter_config", v, "a map of filter name to typed config")
            return []
        }
        var out: [(name: String, config: TypedMessage)] = []
        for p in pairs {
            guard let name = p.key.scalar?.text else { continue }
            guard let t = p.value["@type"]?.scalar?.text else {
                ctx.error(
                    .missingField, "the per-filter config of `\(name)` needs `@type`", at: p.value.span, label: "no `@type`",
                    help: "add `\"@type\": type.googleapis.com/<message>`")
                continue
            }
            var msg = TypedMessage("", JSONValue.object(of: p.value))
            msg.typeURL = t
            out.append((name, msg))
        }
        return out
    }

    func headerOptions(_ m: Message, _ field: String) -> [HeaderValueOption] {
        m.messages(field, Tables.headerValueOption).compactMap { x -> HeaderValueOption? in
            guard let h = x.message("header", Tables.headerValue) else {
                if !x.has("header") {
                    ctx.error(.missingField, "`HeaderValueOption` needs `header`", at: x.span, label: "missing `header`")
                }
                return nil
            }
            guard let key = h.requiredString("key") else { return nil }
            let value = h.string("value") ?? h.bytes("raw_value") ?? ""
            var action = HeaderValueOption.AppendAction.appendIfExistsOrAdd
            if x.bool("append") == false { action = .overwriteIfExistsOrAdd }
            if let a = x.enumeration("append_action", EnumTables.headerAppendAction) {
                if x.has("append") {
                    ctx.error(
                        .conflictingFields, "`append` and `append_action` cannot both be set; Envoy rejects the header option",
                        at: x.keySpan("append_action"), help: "keep `append_action`")
                }
                action = a
            }
            var option = HeaderValueOption(key: key, value: value, appendAction: action)
            option.keepEmptyValue = x.bool("keep_empty_value") ?? false
            return option
        }
    }
}

extension EnvoyReader {
    /// Reads one `HeaderMatcher` (as written in a route-check test file), or nil when it is
    /// not a valid one; problems go to `sink` at their positions.
    public static func headerMatcher(_ node: YAMLNode, into sink: DiagnosticSink) -> HeaderMatcher? {
        let ctx = ReadContext(sink: sink)
        guard let m = Message(node, Tables.headerMatcher, ctx) else { return nil }
        return RouteReader(ctx: ctx).headerMatcher(m)
    }
}
