import XDSCDiagnostics
import XDSCEnvoy
import XDSCJSON
import XDSCSyntax

/// Type URLs the reader recognises.
enum TypeURL {
    static let prefix = "type.googleapis.com/"
    static let hcm = prefix + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    static let downstreamTLS = prefix + "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
    static let upstreamTLS = prefix + "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
    static let tlsInspector = prefix + "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"
    static let httpProtocolOptions = prefix + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    static let stdoutLog = prefix + "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"
    static let stderrLog = prefix + "envoy.extensions.access_loggers.stream.v3.StderrAccessLog"
    static let fileLog = prefix + "envoy.extensions.access_loggers.file.v3.FileAccessLog"
    static let localRateLimit = prefix + "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"

    /// Whether `url` names a message of Envoy's v2 API, which v3 no longer loads.
    static func isV2(_ url: String) -> Bool {
        let name = url.hasPrefix(prefix) ? String(url.dropFirst(prefix.count)) : url
        return name.hasPrefix("envoy.api.v2.") || name.hasPrefix("envoy.config.filter.") && name.contains(".v2.")
            || name.contains(".v2.") && name.hasPrefix("envoy.")
    }
}

/// A file another document names (`path_config_source`), to be read next.
struct PendingFile {
    var path: String
    /// The file that named it (relative paths resolve against its directory).
    var from: String
    var span: SourceSpan
}

/// Reads listeners, connection managers, clusters and endpoints into the model.
struct ResourceReader {
    let ctx: ReadContext
    var routes: RouteReader { RouteReader(ctx: ctx) }

    // MARK: Typed configs

    /// Checks a `typed_config`'s `@type`: v2 types are errors.
    func checkType(_ t: String, at span: SourceSpan) -> Bool {
        if TypeURL.isV2(t) {
            ctx.error(
                .invalidValue, "`\(t)` is a v2 API type; Envoy v3 does not load it", at: span, label: "v2 type",
                help: "use the v3 message (`envoy.extensions.*.v3.*` or `envoy.config.*.v3.*`)")
            return false
        }
        return true
    }

    func typeSpan(_ node: YAMLNode) -> SourceSpan {
        node.mapping?.first { $0.key.scalar?.text == "@type" }?.value.span ?? node.span
    }

    /// A filter without `typed_config` (nor `config_discovery`): Envoy finds extensions by
    /// the config's type URL only (since 1.22: "Didn't find a registered implementation for
    /// '<name>' with type URL: ''").
    func requireTypedConfig(_ f: Message, _ name: String) {
        guard !f.has("typed_config"), !f.has("config_discovery") else { return }
        ctx.error(
            .missingField, "filter `\(name)` needs `typed_config`: Envoy finds a filter by its config's `@type`, not by its name",
            at: f.span, label: "no `typed_config`",
            help: "add `typed_config: {\"@type\": type.googleapis.com/<the filter's v3 message>}`")
    }

    // MARK: Listeners

    func listener(_ node: YAMLNode, pending: inout [PendingFile]) -> Listener? {
        guard let m = Message(node, Tables.listener, ctx, any: true) else { return nil }
        let name = m.string("name") ?? ""
        let address = m.message("address", Tables.address).flatMap(address) ?? SocketAddress(address: "", portValue: 0)
        let chains = m.messages("filter_chains", Tables.filterChain).map { filterChain($0, pending: &pending) }
        let defaultChain = m.message("default_filter_chain", Tables.filterChain).map { filterChain($0, pending: &pending) }
        var l = Listener(name: name, address: address, filterChains: chains, defaultFilterChain: defaultChain, source: m.span)
        l.tlsInspector = m.messages("listener_filters", Tables.listenerFilter).contains { f in
            f.string("name") == "envoy.filters.listener.tls_inspector" || f.any("typed_config")?.typeURL == TypeURL.tlsInspector
        }
        l.perConnectionBufferLimitBytes = m.int("per_connection_buffer_limit_bytes").map { UInt32($0) }
        return l
    }

    func address(_ m: Message) -> SocketAddress? {
        if let s = m.message("socket_address", Tables.socketAddress) {
            if s.has("named_port") {
                ctx.error(.invalidValue, "`named_port` is not supported by Envoy; use `port_value`", at: s.keySpan("named_port"))
            }
            return SocketAddress(address: s.string("address") ?? "", portValue: Int(s.int("port_value", 0...65535) ?? 0))
        }
        // Pipes and internal listeners have no IP and port; the model keeps their names.
        if let p = m.message("pipe", Tables.pipe) { return SocketAddress(address: "unix:" + (p.string("path") ?? ""), portValue: 0) }
        if let i = m.message("envoy_internal_address", Tables.internalAddress) {
            return SocketAddress(address: "envoy-internal:" + (i.string("server_listener_name") ?? ""), portValue: 0)
        }
        ctx.error(.missingField, "`Address` needs `socket_address`, `pipe` or `envoy_internal_address`", at: m.span)
        return nil
    }

    func filterChain(_ m: Message, pending: inout [PendingFile]) -> FilterChain {
        var chain = FilterChain(name: m.string("name"), source: m.span)
        if let match = m.message("filter_chain_match", Tables.filterChainMatch) {
            chain.serverNames = match.strings("server_names")
            chain.transportProtocol = match.string("transport_protocol")
            chain.otherMatchFields = Tables.filterChainMatch.names.filter { $0 != "server_names" && match.has($0) }
        }
        for f in m.messages("filters", Tables.filter) {
            let name = f.string("name") ?? ""
            guard let (t, node) = f.any("typed_config") else {
                requireTypedConfig(f, name)
                continue
            }
            guard checkType(t, at: typeSpan(node)) else { continue }
            if t == TypeURL.hcm {
                if chain.connectionManager != nil {
                    ctx.error(
                        .invalidValue, "a filter chain has a second HTTP connection manager; only the first one sees requests",
                        at: f.span, label: "second connection manager")
                    continue
                }
                chain.connectionManager = connectionManager(node, pending: &pending)
            } else {
                let ext = OpaqueExtension(name: name, typeURL: t, source: f.span)
                chain.otherFilters.append(ext)
                ctx.opaque.append(ext)
            }
        }
        chain.tls = transportSocket(m, tls: TypeURL.downstreamTLS, downstreamTLS)
        return chain
    }

    func connectionManager(_ node: YAMLNode, pending: inout [PendingFile]) -> HttpConnectionManager? {
        guard let m = Message(node, Tables.httpConnectionManager, ctx, any: true) else { return nil }
        let routesValue: HttpConnectionManager.Routes
        if let rc = m.value("route_config"), let table = routes.routeConfiguration(rc) {
            if m.has("rds") {
                ctx.error(.conflictingFields, "`route_config` and `rds` are one oneof; set only one", at: m.keySpan("rds"))
            }
            routesValue = .inline(table)
        } else if let rds = m.message("rds", Tables.rds) {
            let name = rds.requiredString("route_config_name") ?? ""
            ctx.rdsReferences.append((name, rds.span("route_config_name")))
            let source = rds.message("config_source", Tables.configSource).map { configSource($0, pending: &pending) }
            routesValue = .rds(source ?? PathConfigSource(path: ""), routeConfigName: name)
        } else {
            if !m.has("scoped_routes") && !m.has("route_config") {
                ctx.error(
                    .missingField, "`HttpConnectionManager` needs `route_config` or `rds`", at: m.span, label: "no routes")
            }
            routesValue = .inline(RouteConfiguration(name: "", source: m.span))
        }
        var kinds: [HTTPFilterKind] = []
        var filters: [HTTPFilter] = []
        var rateLimit: LocalRateLimit?
        var router = HttpConnectionManager.RouterFilterConfig()
        for f in m.messages("http_filters", Tables.httpFilter) {
            let name = f.string("name") ?? ""
            guard let (t, node) = f.any("typed_config") else {
                requireTypedConfig(f, name)
                continue
            }
            guard checkType(t, at: typeSpan(node)) else { continue }
            let kind = HTTPFilterKind.allCases.first { $0.listenerConfig.typeURL == t }
            if let kind {
                kinds.append(kind)
                if kind == .localRateLimit { rateLimit = localRateLimit(node) }
                if kind == .router, let r = Message(node, Tables.router, ctx, any: true) { router = routerConfig(r) }
            } else {
                ctx.opaque.append(OpaqueExtension(name: name, typeURL: t, source: f.span))
            }
            filters.append(HTTPFilter(name: name, typeURL: t, kind: kind, source: f.span))
        }
        var logs: [HttpConnectionManager.AccessLog] = []
        for a in m.messages("access_log", Tables.accessLog) {
            guard let (t, node) = a.any("typed_config") else { continue }
            switch t {
            case TypeURL.stdoutLog: logs.append(.stdout)
            case TypeURL.stderrLog: logs.append(.stderr)
            case TypeURL.fileLog:
                if let fm = Message(node, Tables.fileAccessLog, ctx, any: true), let p = fm.string("path") { logs.append(.file(p)) }
            default: ctx.opaque.append(OpaqueExtension(name: a.string("name") ?? "", typeURL: t, source: a.span))
            }
        }
        var manager = HttpConnectionManager(
            statPrefix: m.string("stat_prefix") ?? "", routes: routesValue, httpFilters: kinds, accessLog: logs,
            rateLimit: rateLimit, filters: filters)
        manager.router = router
        manager.upgradeTypes = m.messages("upgrade_configs", Tables.managerUpgradeConfig).compactMap { u in
            u.bool("enabled") == false ? nil : u.requiredString("upgrade_type")
        }
        if let codec = m.enumeration("codec_type", EnumTables.codecType) { manager.codecType = codec }
        var h2Unkept: [String] = []
        if let h2 = m.message("http2_protocol_options", Tables.http2ProtocolOptions) {
            manager.http2MaxConcurrentStreams = maxConcurrentStreams(h2)
            // Every other HTTP/2 option (windows, flood limits, keepalive) changes traffic.
            h2Unkept = Tables.http2ProtocolOptions.ignoredNames.filter(h2.has).map { "http2_protocol_options." + $0 }
        }
        var h1Unkept: [String] = []
        if let h1 = m.message("http_protocol_options", Tables.http1ProtocolOptions) {
            manager.acceptHTTP10 = h1.bool("accept_http_10") ?? false
            h1Unkept = Tables.http1ProtocolOptions.ignoredNames.filter(h1.has).map { "http_protocol_options." + $0 }
        }
        manager.useRemoteAddress = m.bool("use_remote_address") ?? false
        manager.xffNumTrustedHops = m.int("xff_num_trusted_hops").map { UInt32($0) } ?? 0
        addressing(m, into: &manager)
        manager.unkeptTrafficFields = Tables.managerTrafficFields.filter(m.has) + h1Unkept + h2Unkept
        return manager
    }

    /// The settings of the trusted client address and of internal requests
    /// (`ConnectionManagerUtility::mutateRequestHeaders`).
    func addressing(_ m: Message, into manager: inout HttpConnectionManager) {
        manager.skipXffAppend = m.bool("skip_xff_append") ?? false
        manager.generateRequestId = m.bool("generate_request_id") ?? true
        manager.preserveExternalRequestId = m.bool("preserve_external_request_id") ?? false
        manager.via = m.string("via") ?? ""
        if let c = m.message("internal_address_config", Tables.internalAddressConfig) {
            var config = HttpConnectionManager.InternalAddressConfig(unixSockets: c.bool("unix_sockets") ?? false)
            for r in c.messages("cidr_ranges", Tables.cidrRange) {
                let text = r.requiredString("address_prefix") ?? ""
                guard let prefix = IPAddress(text) else {
                    // `IpList::create` (network/cidr_range.cc).
                    ctx.error(.invalidValue, "`\(text)` is not an IP address", at: r.span("address_prefix"), label: "malformed IP address")
                    continue
                }
                let length = Int(r.int("prefix_len") ?? 0)
                guard length <= (prefix.isIPv4 ? 32 : 128) else {
                    ctx.error(
                        .invalidValue, "prefix length \(length) is longer than the address `\(text)`", at: r.span("prefix_len"),
                        label: "invalid ip/mask combo")
                    continue
                }
                config.cidrRanges.append(CidrRange(addressPrefix: prefix, prefixLength: length))
            }
            manager.internalAddressConfig = config
        }
        for e in m.messages("original_ip_detection_extensions", Tables.typedExtensionConfig) {
            let t = e.any("typed_config")?.typeURL
            let ext = OpaqueExtension(name: e.string("name") ?? "", typeURL: t, source: e.span)
            manager.originalIPDetectionExtensions.append(ext)
            ctx.opaque.append(ext)
        }
        if let first = manager.originalIPDetectionExtensions.first {
            // http_connection_manager/config.cc refuses these mixes.
            let span = first.source ?? m.span
            if manager.useRemoteAddress {
                ctx.error(
                    .conflictingFields, "original IP detection extensions and `use_remote_address` may not be mixed", at: span,
                    help: "remove `use_remote_address` or the extensions")
            }
            if manager.xffNumTrustedHops > 0 {
                ctx.error(
                    .conflictingFields, "original IP detection extensions and `xff_num_trusted_hops` may not be mixed", at: span,
                    help: "remove `xff_num_trusted_hops` or the extensions")
            }
        }
    }

    /// `Http2ProtocolOptions.max_concurrent_streams` (1 to 2147483647), of a connection manager
    /// or a cluster.
    func maxConcurrentStreams(_ h2: Message) -> UInt32? {
        h2.int("max_concurrent_streams", 1...2_147_483_647).map { UInt32($0) }
    }

    /// The router filter's settings: those the proxy acts on, and the names of the others
    /// that change traffic (`Tables.routerTrafficFields`).
    func routerConfig(_ m: Message) -> HttpConnectionManager.RouterFilterConfig {
        var r = HttpConnectionManager.RouterFilterConfig(
            suppressEnvoyHeaders: m.bool("suppress_envoy_headers") ?? false,
            respectExpectedRqTimeout: m.bool("respect_expected_rq_timeout") ?? false)
        r.unkeptTrafficFields = Tables.routerTrafficFields.filter(m.has)
        return r
    }

    /// The filter-level bucket of a local rate limit filter, when it is enabled and enforced
    /// (xdsc writes no other kind); nil otherwise.
    func localRateLimit(_ node: YAMLNode) -> LocalRateLimit? {
        guard let m = Message(node, Tables.localRateLimit, ctx, any: true),
            let b = m.message("token_bucket", Tables.tokenBucket), let max = b.int("max_tokens"),
            let fill = b.duration("fill_interval")
        else { return nil }
        return LocalRateLimit(maxTokens: UInt32(max), fillInterval: fill, statPrefix: m.string("stat_prefix") ?? "")
    }

    /// A `ConfigSource`: a file (queued to be read) or a management server.
    func configSource(_ m: Message, pending: inout [PendingFile]) -> PathConfigSource {
        var path: String?
        var at = m.span
        if let p = m.message("path_config_source", Tables.pathConfigSource) {
            path = p.requiredString("path")
            at = p.span("path")
        } else if let p = m.string("path") {
            path = p
            at = m.span("path")
        }
        guard let path else { return PathConfigSource(path: "") }
        pending.append(PendingFile(path: path, from: m.span.file, span: at))
        return PathConfigSource(path: path)
    }

    // MARK: TLS

    /// `m`'s `transport_socket`: its TLS context when the type is `tlsType` (read by `read`);
    /// any other socket is kept opaque (named in `--verbose`), and gives nil.
    func transportSocket<TLS>(_ m: Message, tls tlsType: String, _ read: (YAMLNode) -> TLS?) -> TLS? {
        guard let ts = m.message("transport_socket", Tables.transportSocket), let (t, node) = ts.any("typed_config"),
            checkType(t, at: typeSpan(node))
        else { return nil }
        if t == tlsType { return read(node) }
        ctx.opaque.append(OpaqueExtension(name: ts.string("name") ?? "", typeURL: t, source: ts.span))
        return nil
    }

    func downstreamTLS(_ node: YAMLNode) -> DownstreamTLSContext? {
        guard let m = Message(node, Tables.downstreamTlsContext, ctx, any: true) else { return nil }
        let common = m.message("common_tls_context", Tables.commonTlsContext)
        let cert = common?.messages("tls_certificates", Tables.tlsCertificate).first
        secretReferences(common)
        return DownstreamTLSContext(
            chain: cert.flatMap { dataSource($0, "certificate_chain") }, key: cert.flatMap { dataSource($0, "private_key") },
            alpnProtocols: common?.strings("alpn_protocols") ?? [], requireClientCertificate: m.bool("require_client_certificate") ?? false,
            trustedCA: validationContext(common).flatMap { dataSource($0, "trusted_ca") }, parameters: tlsParameters(common),
            source: m.span)
    }

    func upstreamTLS(_ node: YAMLNode) -> UpstreamTLSContext? {
        guard let m = Message(node, Tables.upstreamTlsContext, ctx, any: true) else { return nil }
        let common = m.message("common_tls_context", Tables.commonTlsContext)
        let cert = common?.messages("tls_certificates", Tables.tlsCertificate).first
        secretReferences(common)
        let validation = validationContext(common)
        let sans = validation?.messages("match_typed_subject_alt_names", Tables.sanMatcher).compactMap(subjectAltNameMatcher) ?? []
        let deprecated =
            validation?.messages("match_subject_alt_names", Tables.stringMatcher).compactMap { routes.stringMatcher($0) } ?? []
        if let validation, validation.has("match_typed_subject_alt_names") && validation.has("match_subject_alt_names") {
            // `getSubjectAltNameMatchers` (certificate_validation_context_config_impl.cc).
            ctx.error(
                .conflictingFields,
                "SAN-based verification using both `match_typed_subject_alt_names` and the deprecated `match_subject_alt_names` is not allowed",
                at: validation.keySpan("match_subject_alt_names"))
        }
        return UpstreamTLSContext(
            sni: m.string("sni"), trustedCA: validation.flatMap { dataSource($0, "trusted_ca") }, subjectAltNameMatchers: sans,
            deprecatedSubjectAltNames: deprecated, alpnProtocols: common?.strings("alpn_protocols") ?? [],
            chain: cert.flatMap { dataSource($0, "certificate_chain") },
            key: cert.flatMap { dataSource($0, "private_key") }, parameters: tlsParameters(common), source: m.span)
    }

    /// `UpstreamHttpProtocolOptions`.
    func upstreamHTTPProtocolOptions(_ m: Message) -> UpstreamHTTPProtocolOptions {
        UpstreamHTTPProtocolOptions(
            autoSNI: m.bool("auto_sni") ?? false, autoSANValidation: m.bool("auto_san_validation") ?? false,
            overrideAutoSNIHeader: m.string("override_auto_sni_header").flatMap { $0.isEmpty ? nil : $0.lowercased() })
    }

    /// A `SubjectAltNameMatcher`: `san_type` and `matcher` are required (PGV).
    func subjectAltNameMatcher(_ m: Message) -> SubjectAltNameMatcher? {
        let type = m.enumeration("san_type", EnumTables.sanType)
        if !m.has("san_type") {
            ctx.error(.missingField, "`SubjectAltNameMatcher` needs `san_type`", at: m.span, label: "no `san_type`")
        }
        guard let sm = m.message("matcher", Tables.stringMatcher) else {
            ctx.error(.missingField, "`SubjectAltNameMatcher` needs `matcher`", at: m.span, label: "no `matcher`")
            return nil
        }
        guard let type, let matcher = routes.stringMatcher(sm) else { return nil }
        return SubjectAltNameMatcher(type, matcher, oid: m.string("oid"))
    }

    /// `validation_context`, or the default one of `combined_validation_context`.
    func validationContext(_ common: Message?) -> Message? {
        if let v = common?.message("validation_context", Tables.validationContext) { return v }
        return common?.message("combined_validation_context", Tables.combinedValidationContext)?
            .message("default_validation_context", Tables.validationContext)
    }

    /// `tls_params`: the protocol versions (`TLS_AUTO` is kept as unset).
    func tlsParameters(_ common: Message?) -> TLSParameters {
        guard let p = common?.message("tls_params", Tables.tlsParameters) else { return TLSParameters() }
        func version(_ field: String) -> String? {
            p.enumeration(field, EnumTables.tlsProtocol).flatMap { $0 == "TLS_AUTO" ? nil : $0 }
        }
        return TLSParameters(
            minimumProtocolVersion: version("tls_minimum_protocol_version"), maximumProtocolVersion: version("tls_maximum_protocol_version")
        )
    }

    /// Records the SDS secrets a TLS context names.
    func secretReferences(_ common: Message?) {
        guard let common else { return }
        var configs = common.messages("tls_certificate_sds_secret_configs", Tables.sdsSecretConfig)
        if let v = common.message("validation_context_sds_secret_config", Tables.sdsSecretConfig) { configs.append(v) }
        if let c = common.message("combined_validation_context", Tables.combinedValidationContext),
            let v = c.message("validation_context_sds_secret_config", Tables.sdsSecretConfig)
        {
            configs.append(v)
        }
        for c in configs {
            if let name = c.string("name") { ctx.secrets.append(SecretReference(name: name, defined: false, source: c.span)) }
        }
    }

    /// A TLS `DataSource` with the span of its value; `inline_bytes` is decoded.
    func dataSource(_ m: Message, _ field: String) -> TLSSource? {
        guard let d = m.message(field, Tables.dataSource) else { return nil }
        if let f = d.string("filename") { return TLSSource(.filename(f), span: d.span("filename")) }
        if let s = d.string("inline_string") { return TLSSource(.inlineString(s), span: d.span("inline_string")) }
        if let b = d.bytes("inline_bytes") { return TLSSource(.inlineString(b), span: d.span("inline_bytes")) }
        return nil
    }

    // MARK: Clusters

    func cluster(_ node: YAMLNode, pending: inout [PendingFile]) -> Cluster? {
        guard let m = Message(node, Tables.cluster, ctx, any: true) else { return nil }
        var c = Cluster(name: m.requiredString("name") ?? "", source: m.span)
        c.type = m.enumeration("type", EnumTables.discoveryType) ?? .static
        if let eds = m.message("eds_cluster_config", Tables.edsClusterConfig),
            let source = eds.message("eds_config", Tables.configSource)
        {
            let s = configSource(source, pending: &pending)
            if !s.path.isEmpty { c.edsConfig = s }
        }
        c.connectTimeout = m.duration("connect_timeout")
        if let p = m.enumeration("lb_policy", EnumTables.lbPolicy) {
            // CLUSTER_PROVIDED and LOAD_BALANCING_POLICY_CONFIG have no model value; they do
            // not change routing, so the default stands for them.
            c.lbPolicy = p ?? .roundRobin
        }
        if let la = m.value("load_assignment") { c.loadAssignment = loadAssignment(la) }
        c.healthChecks = m.messages("health_checks", Tables.healthCheck).compactMap(healthCheck)
        if let cb = m.message("circuit_breakers", Tables.circuitBreakers) {
            // Each priority takes the first thresholds naming it (`ResourceManagers::load`,
            // upstream_impl.cc, finds the first match); a priority with none keeps the defaults.
            let all = cb.messages("thresholds", Tables.thresholds).map {
                (priority: $0.enumeration("priority", EnumTables.routingPriority) ?? .default, message: $0)
            }
            func thresholds(_ p: RoutingPriority) -> CircuitBreakerThresholds? {
                guard let t = all.first(where: { $0.priority == p })?.message else { return nil }
                return CircuitBreakerThresholds(
                    maxConnections: t.int("max_connections").map { UInt32($0) },
                    maxPendingRequests: t.int("max_pending_requests").map { UInt32($0) },
                    maxRequests: t.int("max_requests").map { UInt32($0) }, maxRetries: t.int("max_retries").map { UInt32($0) })
            }
            c.circuitBreakers = thresholds(.default)
            c.highPriorityCircuitBreakers = thresholds(.high)
        }
        // The deprecated cluster field; `typed_extension_protocol_options` below wins.
        if let h2 = m.message("http2_protocol_options", Tables.http2ProtocolOptions) {
            c.upstreamProtocol = .http2
            c.http2MaxConcurrentStreams = maxConcurrentStreams(h2)
        }
        // The deprecated cluster field; `typed_extension_protocol_options` below wins.
        if let u = m.message("upstream_http_protocol_options", Tables.upstreamHttpProtocolOptions) {
            c.upstreamHTTPProtocolOptions = upstreamHTTPProtocolOptions(u)
        }
        // The typed `HttpProtocolOptions`' `common_http_protocol_options`, when it has one, else
        // the deprecated cluster field (upstream_impl.cc `createOptions` takes the typed
        // options whole when they are set).
        var httpCommon: Message?
        if let opts = m.value("typed_extension_protocol_options"), let pairs = opts.mapping {
            for p in pairs {
                guard let t = p.value["@type"]?.scalar?.text else {
                    ctx.error(.missingField, "protocol options need `@type`", at: p.value.span, label: "no `@type`")
                    continue
                }
                guard t == TypeURL.httpProtocolOptions else {
                    ctx.opaque.append(OpaqueExtension(name: p.key.scalar?.text ?? "", typeURL: t, source: p.value.span))
                    continue
                }
                if let o = Message(p.value, Tables.httpProtocolOptions, ctx, any: true) {
                    if let e = o.message("explicit_http_config", Tables.explicitHttpConfig),
                        let h2 = e.message("http2_protocol_options", Tables.http2ProtocolOptions)
                    {
                        c.upstreamProtocol = .http2
                        c.http2MaxConcurrentStreams = maxConcurrentStreams(h2)
                    }
                    if o.has("auto_config") { c.autoHTTPConfig = true }
                    httpCommon = o.message("common_http_protocol_options", Tables.commonHttpProtocolOptions)
                    if let u = o.message("upstream_http_protocol_options", Tables.upstreamHttpProtocolOptions) {
                        c.upstreamHTTPProtocolOptions = upstreamHTTPProtocolOptions(u)
                    }
                }
            }
        }
        if httpCommon == nil { httpCommon = m.message("common_http_protocol_options", Tables.commonHttpProtocolOptions) }
        commonHTTPProtocolOptions(httpCommon, cluster: m, into: &c)
        if let od = m.message("outlier_detection", Tables.outlierDetection) { c.outlierDetection = outlierDetection(od) }
        if let rh = m.message("ring_hash_lb_config", Tables.ringHashLbConfig) {
            let max = Int64(8_388_608)
            c.ringHashConfig = RingHashLbConfig(
                minimumRingSize: rh.int("minimum_ring_size", 0...max).map { UInt64($0) },
                maximumRingSize: rh.int("maximum_ring_size", 0...max).map { UInt64($0) },
                hashFunction: rh.enumeration("hash_function", EnumTables.hashFunction) ?? .xxHash)
        }
        c.unkeptTrafficFields = Tables.clusterTrafficFields.filter(m.has) + c.unkeptTrafficFields
        let common = m.message("common_lb_config", Tables.commonLbConfig)
        if let common {
            c.unkeptTrafficFields += Tables.commonLbTrafficFields.filter(common.has).map { "common_lb_config." + $0 }
        }
        if let ch = common?.message("consistent_hashing_lb_config", Tables.consistentHashingLbConfig) {
            c.useHostnameForHashing = ch.bool("use_hostname_for_hashing") ?? false
            // `hash_balance_factor` is a UInt32Value of at least 100 (cluster.proto).
            c.hashBalanceFactor = ch.int("hash_balance_factor", 100...Int64(UInt32.max)).map { UInt32($0) }
        }
        if let mg = m.message("maglev_lb_config", Tables.maglevLbConfig) {
            c.maglevTableSize = mg.int("table_size", 0...5_000_011).map { UInt64($0) }
        }
        c.tls = transportSocket(m, tls: TypeURL.upstreamTLS, upstreamTLS)
        return c
    }

    /// `max_requests_per_connection` and `idle_timeout` of the cluster's HTTP protocol options
    /// (`ClusterInfoImpl`, upstream_impl.cc): the options' `max_requests_per_connection`, else
    /// the deprecated cluster field; Envoy refuses a cluster that sets both. The other
    /// fields of the options are warned as not simulated.
    func commonHTTPProtocolOptions(_ common: Message?, cluster m: Message, into c: inout Cluster) {
        let legacy = m.int("max_requests_per_connection").map { UInt32($0) }
        if let common {
            if common.has("max_requests_per_connection") && m.has("max_requests_per_connection") {
                ctx.error(
                    .invalidValue,
                    "Envoy refuses a cluster with both `max_requests_per_connection` and `common_http_protocol_options.max_requests_per_connection`",
                    at: m.span("max_requests_per_connection"), label: "set twice",
                    help: "keep `common_http_protocol_options.max_requests_per_connection` (the cluster field is deprecated)")
            }
            c.maxRequestsPerConnection = common.int("max_requests_per_connection").map { UInt32($0) } ?? legacy
            c.upstreamIdleTimeout = common.duration("idle_timeout")
            c.unkeptTrafficFields += Tables.commonHttpTrafficFields.filter(common.has).map { "common_http_protocol_options." + $0 }
        } else {
            c.maxRequestsPerConnection = legacy
        }
    }

    /// `OutlierDetection`: every field the proxy simulates or warns about.
    func outlierDetection(_ od: Message) -> OutlierDetection {
        func u(_ f: String) -> UInt32? { od.int(f).map { UInt32($0) } }
        var o = OutlierDetection(
            consecutive5xx: u("consecutive_5xx"), interval: od.duration("interval"), baseEjectionTime: od.duration("base_ejection_time"),
            maxEjectionPercent: u("max_ejection_percent"))
        o.enforcingConsecutive5xx = u("enforcing_consecutive_5xx")
        o.consecutiveGatewayFailure = u("consecutive_gateway_failure")
        o.enforcingConsecutiveGatewayFailure = u("enforcing_consecutive_gateway_failure")
        o.splitExternalLocalOriginErrors = od.bool("split_external_local_origin_errors")
        o.consecutiveLocalOriginFailure = u("consecutive_local_origin_failure")
        o.enforcingConsecutiveLocalOriginFailure = u("enforcing_consecutive_local_origin_failure")
        o.maxEjectionTime = od.duration("max_ejection_time")
        o.maxEjectionTimeJitter = od.duration("max_ejection_time_jitter")
        o.alwaysEjectOneHost = od.bool("always_eject_one_host")
        o.successfulActiveHealthCheckUnejectHost = od.bool("successful_active_health_check_uneject_host")
        o.enforcingSuccessRate = u("enforcing_success_rate")
        o.successRateMinimumHosts = u("success_rate_minimum_hosts")
        o.successRateRequestVolume = u("success_rate_request_volume")
        o.successRateStdevFactor = u("success_rate_stdev_factor")
        o.enforcingLocalOriginSuccessRate = u("enforcing_local_origin_success_rate")
        o.failurePercentageThreshold = u("failure_percentage_threshold")
        o.enforcingFailurePercentage = u("enforcing_failure_percentage")
        o.enforcingFailurePercentageLocalOrigin = u("enforcing_failure_percentage_local_origin")
        o.failurePercentageMinimumHosts = u("failure_percentage_minimum_hosts")
        o.failurePercentageRequestVolume = u("failure_percentage_request_volume")
        return o
    }

    func loadAssignment(_ node: YAMLNode) -> ClusterLoadAssignment? {
        guard let m = Message(node, Tables.clusterLoadAssignment, ctx, any: true) else { return nil }
        var endpoints: [ClusterLoadAssignment.Endpoint] = []
        for locality in m.messages("endpoints", Tables.localityLbEndpoints) {
            for lb in locality.messages("lb_endpoints", Tables.lbEndpoint) {
                guard let e = lb.message("endpoint", Tables.endpoint), let a = e.message("address", Tables.address),
                    let address = address(a)
                else { continue }
                endpoints.append(
                    .init(
                        address: address, weight: lb.int("load_balancing_weight").map { UInt32($0) },
                        hostname: e.string("hostname").flatMap { $0.isEmpty ? nil : $0 }))
            }
        }
        return ClusterLoadAssignment(clusterName: m.requiredString("cluster_name") ?? "", endpoints: endpoints, source: m.span)
    }

    /// A `HealthCheck.Payload`: `text` (hex; Envoy refuses other text) or `binary`.
    func healthCheckPayload(_ m: Message) -> HealthCheckPayload? {
        if let text = m.string("text") {
            let p = HealthCheckPayload.text(text)
            if p.bytes == nil {
                ctx.error(.invalidValue, "invalid hex string '\(text)'", at: m.span("text"), label: "not hex")
                return nil
            }
            return p
        }
        if let b = m.rawBytes("binary") { return .binary(b) }
        if !m.has("binary") { ctx.error(.missingField, "`Payload` needs `text` or `binary`", at: m.span, label: "empty payload") }
        return nil
    }

    func healthCheck(_ m: Message) -> HealthCheck? {
        let kind: HealthCheck.Kind
        var tcpSend: HealthCheckPayload?
        var tcpReceive: [HealthCheckPayload] = []
        var http: Message?
        var grpcAuthority: String?
        if let h = m.message("http_health_check", Tables.httpHealthCheck) {
            http = h
            let codec = h.enumeration("codec_client_type", EnumTables.codecClientType)
            kind = .http(path: h.requiredString("path") ?? "", codec: codec ?? .http1)
        } else if let t = m.message("tcp_health_check", Tables.tcpHealthCheck) {
            tcpSend = t.message("send", Tables.healthCheckPayload).flatMap(healthCheckPayload)
            tcpReceive = t.messages("receive", Tables.healthCheckPayload).compactMap(healthCheckPayload)
            kind = .tcp
        } else if m.has("tcp_health_check") {
            kind = .tcp
        } else if let g = m.message("grpc_health_check", Tables.grpcHealthCheck) {
            kind = .grpc(serviceName: g.string("service_name"))
            grpcAuthority = g.string("authority").flatMap { $0.isEmpty ? nil : $0 }
        } else {
            if m.has("custom_health_check") {
                ctx.opaque.append(OpaqueExtension(name: "custom_health_check", typeURL: nil, source: m.span("custom_health_check")))
            } else {
                ctx.error(.missingField, "`HealthCheck` needs a health checker (`http_health_check`, `tcp_health_check`...)", at: m.span)
            }
            return nil
        }
        var required: [String] = []
        for f in ["timeout", "interval", "unhealthy_threshold", "healthy_threshold"] where !m.has(f) { required.append(f) }
        if !required.isEmpty {
            ctx.error(
                .missingField, "`HealthCheck` needs \(required.map { "`\($0)`" }.joined(separator: ", "))", at: m.span,
                label: "missing fields")
            return nil
        }
        var check = HealthCheck(
            timeout: m.duration("timeout") ?? .zero, interval: m.duration("interval") ?? .zero,
            unhealthyThreshold: UInt32(m.int("unhealthy_threshold") ?? 0), healthyThreshold: UInt32(m.int("healthy_threshold") ?? 0),
            kind: kind)
        check.tcpSend = tcpSend
        check.tcpReceive = tcpReceive
        check.grpcAuthority = grpcAuthority
        check.reuseConnection = m.bool("reuse_connection") ?? true
        if let h = http {
            check.httpHost = h.string("host").flatMap { $0.isEmpty ? nil : $0 }
            check.expectedStatuses = statusRanges(h, "expected_statuses")
            check.retriableStatuses = statusRanges(h, "retriable_statuses")
        }
        return check
    }

    /// `Int64Range`s of HTTP statuses, `[start, end)`, checked as Envoy's `HttpStatusChecker`
    /// does (`validateRange`, health_checker_impl.cc): start below end, start at least 100,
    /// end at most 600; Envoy rejects the configuration otherwise.
    func statusRanges(_ m: Message, _ field: String) -> [Range<Int>] {
        m.messages(field, Tables.int64Range).compactMap { r in
            let start = r.int("start", Int64.min...Int64.max) ?? 0
            let end = r.int("end", Int64.min...Int64.max) ?? 0
            let problem =
                start >= end
                ? "expecting start < end, but found start=\(start) and end=\(end)"
                : start < 100
                    ? "expecting start >= 100, but found start=\(start)"
                    : end > 600 ? "expecting end <= 600, but found end=\(end)" : nil
            if let problem {
                ctx.error(
                    .invalidValue, "invalid http \(field == "expected_statuses" ? "expected" : "retriable") status range: \(problem)",
                    at: r.span, label: "invalid range")
                return nil
            }
            return Int(start)..<Int(end)
        }
    }
}
