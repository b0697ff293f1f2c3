import XDSCDiagnostics
import XDSCJSON

/// `envoy.config.listener.v3.Listener`. xdsc writes one filter chain holding an HTTP
/// connection manager; a user's listener may have several (`filter_chain_match` on server
/// names, transport protocol...) and a `default_filter_chain`.
public struct Listener: Equatable, Sendable, EnvoyMessage {
    /// `name`.
    public var name: String
    /// `address`.
    public var address: SocketAddress
    /// `filter_chains`, in order.
    public var filterChains: [FilterChain]
    /// `default_filter_chain`.
    public var defaultFilterChain: FilterChain?
    /// `listener_filters` has the `envoy.filters.listener.tls_inspector`: the ClientHello's
    /// SNI and the transport protocol (`tls` or `raw_buffer`) select the filter chain. Other
    /// listener filters are not modelled.
    public var tlsInspector = false
    /// `per_connection_buffer_limit_bytes` (nil: Envoy's 1 MiB; 0: no limit). The router keeps
    /// a request body for retries only up to it.
    public var perConnectionBufferLimitBytes: UInt32?
    /// Where this listener came from: a policy token or a position in an Envoy file (not
    /// serialised).
    public var source: SourceSpan?

    /// A listener with one filter chain, the shape xdsc writes.
    public init(
        name: String, address: SocketAddress, connectionManager: HttpConnectionManager,
        tls: DownstreamTLSContext? = nil, source: SourceSpan? = nil
    ) {
        self.init(
            name: name, address: address, filterChains: [FilterChain(connectionManager: connectionManager, tls: tls)],
            source: source)
    }

    /// A listener with any filter chains.
    public init(
        name: String, address: SocketAddress, filterChains: [FilterChain], defaultFilterChain: FilterChain? = nil,
        source: SourceSpan? = nil
    ) {
        self.name = name
        self.address = address
        self.filterChains = filterChains
        self.defaultFilterChain = defaultFilterChain
        self.source = source
    }

    /// The connection manager of the first filter chain that has one, as xdsc writes
    /// listeners; an empty one (no routes) for a listener without any. Setting it replaces
    /// the first chain's.
    public var connectionManager: HttpConnectionManager {
        get {
            connectionManagers.first ?? HttpConnectionManager(statPrefix: "", routes: .inline(RouteConfiguration(name: "")))
        }
        set {
            if filterChains.isEmpty { filterChains.append(FilterChain()) }
            filterChains[0].connectionManager = newValue
        }
    }

    /// The first filter chain's downstream TLS.
    public var tls: DownstreamTLSContext? {
        get { filterChains.first?.tls }
        set {
            if filterChains.isEmpty { filterChains.append(FilterChain()) }
            filterChains[0].tls = newValue
        }
    }

    /// Every HTTP connection manager of the listener, in chain order, the default chain's last.
    public var connectionManagers: [HttpConnectionManager] {
        (filterChains + (defaultFilterChain.map { [$0] } ?? [])).compactMap(\.connectionManager)
    }

    /// The members of the Envoy v3 JSON form of this value.
    public func encodeFields<F: EnvoyFields>(into o: inout F) {
        o.put("name", .string(name))
        o.put("address", message: address)
        if tlsInspector {
            o.put(
                "listener_filters",
                .array([
                    .object([
                        "name": .string("envoy.filters.listener.tls_inspector"),
                        "typed_config": .object([
                            "@type": .string("type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector")
                        ]),
                    ])
                ]))
        }
        o.putList("filter_chains", filterChains)
        o.set("default_filter_chain", defaultFilterChain)
        if let b = perConnectionBufferLimitBytes { o.put("per_connection_buffer_limit_bytes", .int(Int64(b))) }
    }
}

/// `envoy.config.listener.v3.FilterChain`: the match that selects it, its network filters
/// (an HTTP connection manager, or others xdsc keeps by name) and its TLS.
public struct FilterChain: Equatable, Sendable, EnvoyMessage {
    /// `name`.
    public var name: String?
    /// `filter_chain_match.server_names` (SNI).
    public var serverNames: [String]
    /// `filter_chain_match.transport_protocol` (`tls`, `raw_buffer`), nil when unset.
    public var transportProtocol: String?
    /// `filter_chain_match` fields other than `server_names` that are set, by proto name
    /// (xdsc keeps them only to say the chain is selected by more than SNI).
    public var otherMatchFields: [String]
    /// The `envoy.filters.network.http_connection_manager` filter, if any.
    public var connectionManager: HttpConnectionManager?
    /// Network filters other than the connection manager, as `(name, type URL)`, in order.
    public var otherFilters: [OpaqueExtension]
    /// `transport_socket` with a `DownstreamTlsContext`.
    public var tls: DownstreamTLSContext?
    /// Where the chain came from (not serialised).
    public var source: SourceSpan?

    /// A filter chain.
    public init(
        name: String? = nil, serverNames: [String] = [], otherMatchFields: [String] = [],
        connectionManager: HttpConnectionManager? = nil, otherFilters: [OpaqueExtension] = [],
        tls: DownstreamTLSContext? = nil, source: SourceSpan? = nil
    ) {
        self.name = name
        self.serverNames = serverNames
        self.transportProtocol = nil
        self.otherMatchFields = otherMatchFields
        self.connectionManager = connectionManager
        self.otherFilters = otherFilters
        self.tls = tls
        self.source = source
    }

    /// The members of the Envoy v3 JSON form of this value.
    public func encodeFields<F: EnvoyFields>(into chain: inout F) {
        chain.set("name", name.map(JSON.string))
        var match = JSONObject()
        match.setStrings("server_names", serverNames)
        match.set("transport_protocol", transportProtocol.map(JSON.string))
        if !match.isEmpty { chain.put("filter_chain_match", .object(match)) }
        var filters: [any EnvoyEncodable] = []
        if let connectionManager { filters.append(ConnectionManagerFilter(manager: connectionManager)) }
        filters += otherFilters
        chain.putList("filters", mixed: filters)
        chain.set("transport_socket", tls.map { $0.transportSocket })
    }
}

/// An extension xdsc does not model (a network or HTTP filter, a transport socket...): kept
/// by name and type so nothing is dropped silently, written back as an empty typed config.
public struct OpaqueExtension: Equatable, Sendable, EnvoyEncodable {
    /// The instance name.
    public var name: String
    /// The `typed_config` `@type`, if any.
    public var typeURL: String?
    /// Where it was found (not serialised).
    public var source: SourceSpan?

    /// An opaque extension.
    public init(name: String, typeURL: String?, source: SourceSpan? = nil) {
        self.name = name
        self.typeURL = typeURL
        self.source = source
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        if let typeURL { o["typed_config"] = .object(["@type": .string(typeURL)]) }
        return .object(o)
    }
}

/// `envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`.
public struct HttpConnectionManager: Equatable, Sendable {
    /// Where the route table comes from.
    public enum Routes: Equatable, Sendable {
        /// `route_config`: the table inline.
        case inline(RouteConfiguration)
        /// `rds`: a file in the DiscoveryResponse shape, and the route configuration name.
        case rds(PathConfigSource, routeConfigName: String)
    }

    /// `access_log` destinations.
    public enum AccessLog: Equatable, Sendable {
        case stdout, stderr
        case file(String)

        /// The `AccessLog` entry.
        public var entry: TypedExtension {
            switch self {
            case .stdout:
                TypedExtension(
                    name: "envoy.access_loggers.stdout",
                    typedConfig: TypedMessage("envoy.extensions.access_loggers.stream.v3.StdoutAccessLog"))
            case .stderr:
                TypedExtension(
                    name: "envoy.access_loggers.stderr",
                    typedConfig: TypedMessage("envoy.extensions.access_loggers.stream.v3.StderrAccessLog"))
            case .file(let path):
                TypedExtension(
                    name: "envoy.access_loggers.file",
                    typedConfig: TypedMessage("envoy.extensions.access_loggers.file.v3.FileAccessLog", ["path": .string(path)]))
            }
        }
    }

    /// `stat_prefix`.
    public var statPrefix: String
    /// `route_config` or `rds`.
    public var routes: Routes
    /// The `http_filters` xdsc models, in order; the router must be last.
    public var httpFilters: [HTTPFilterKind]
    /// Every `http_filters` entry as written, in order, those xdsc does not model included
    /// (by name and type). For a connection manager xdsc lowered, the same as `httpFilters`.
    public var filters: [HTTPFilter]
    /// `access_log`.
    public var accessLog: [AccessLog]
    /// The filter-level token bucket of `envoy.filters.http.local_ratelimit`, shared by every
    /// request of this connection manager that no virtual host or route configures for
    /// itself; nil leaves the filter inactive outside such hosts and routes.
    public var rateLimit: LocalRateLimit?
    /// `upgrade_configs` that are enabled (upgrade types such as `websocket`).
    public var upgradeTypes: [String] = []
    /// `codec_type`: which HTTP versions the connections speak.
    public var codecType: CodecType = .auto
    /// `http2_protocol_options.max_concurrent_streams`; nil is Envoy's default (2147483647).
    public var http2MaxConcurrentStreams: UInt32?
    /// `http_protocol_options.accept_http_10`: HTTP/1.0 (and 0.9) requests are served; without
    /// it Envoy's HTTP/1 codec answers them 426 (codec_impl.cc `checkProtocolVersion`).
    public var acceptHTTP10 = false
    /// `use_remote_address`: the connection's peer is the client (an edge proxy).
    public var useRemoteAddress = false
    /// `xff_num_trusted_hops`: the proxies in front whose `x-forwarded-*` headers are trusted.
    public var xffNumTrustedHops: UInt32 = 0
    /// `skip_xff_append`: with `use_remote_address`, the peer is not appended to `x-forwarded-for`.
    public var skipXffAppend = false
    /// `internal_address_config`; nil (the default) treats no address as internal (Envoy
    /// 1.33 on; the runtime guard that trusted RFC 1918 addresses is gone since 1.36).
    public var internalAddressConfig: InternalAddressConfig?
    /// `original_ip_detection_extensions`, by name and type (not simulated).
    public var originalIPDetectionExtensions: [OpaqueExtension] = []
    /// `generate_request_id` (default true).
    public var generateRequestId = true
    /// `preserve_external_request_id`: an edge request keeps its `x-request-id`.
    public var preserveExternalRequestId = false
    /// `via`: appended to the `via` header of requests and responses; empty is none.
    public var via = ""
    /// The fields the Envoy reader accepts but the model does not keep, that change how
    /// Envoy serves traffic, as set in the file (`stream_idle_timeout`, `local_reply_config`,
    /// ...): the proxy warns about each.
    public var unkeptTrafficFields: [String] = []
    /// The router filter's `typed_config` (`envoy.extensions.filters.http.router.v3.Router`).
    public var router = RouterFilterConfig()

    /// `envoy.extensions.filters.http.router.v3.Router`: what of it changes traffic.
    public struct RouterFilterConfig: Equatable, Sendable {
        /// `suppress_envoy_headers`: the router adds none of its `x-envoy-*` headers
        /// (`x-envoy-expected-rq-timeout-ms`, `x-envoy-original-path` upstream;
        /// `x-envoy-upstream-service-time`, `x-envoy-overloaded` downstream).
        public var suppressEnvoyHeaders = false
        /// `respect_expected_rq_timeout`: an `x-envoy-expected-rq-timeout-ms` the request
        /// carries (an internal request, from an egress Envoy) is the route timeout.
        public var respectExpectedRqTimeout = false
        /// The fields set that change traffic but are not kept (`strict_check_headers`,
        /// `upstream_http_filters`): the proxy warns about each.
        public var unkeptTrafficFields: [String] = []

        /// The defaults.
        public init(suppressEnvoyHeaders: Bool = false, respectExpectedRqTimeout: Bool = false) {
            self.suppressEnvoyHeaders = suppressEnvoyHeaders
            self.respectExpectedRqTimeout = respectExpectedRqTimeout
        }

        /// The router's `typed_config` with these settings.
        public var typedConfig: TypedMessage {
            var o = JSONObject()
            if suppressEnvoyHeaders { o["suppress_envoy_headers"] = .bool(true) }
            if respectExpectedRqTimeout { o["respect_expected_rq_timeout"] = .bool(true) }
            return TypedMessage(HTTPFilterKind.router.listenerConfig.typeName, o)
        }
    }

    /// `HttpConnectionManager.InternalAddressConfig`: which trusted client addresses make a
    /// request internal (`x-envoy-internal`, no sanitising of control headers).
    public struct InternalAddressConfig: Equatable, Sendable {
        /// `unix_sockets`: a pipe peer is internal.
        public var unixSockets = false
        /// `cidr_ranges`; empty means the RFC 1918 / RFC 4193 addresses (and loopback).
        public var cidrRanges: [CidrRange] = []

        /// A configuration.
        public init(unixSockets: Bool = false, cidrRanges: [CidrRange] = []) {
            self.unixSockets = unixSockets
            self.cidrRanges = cidrRanges
        }

        /// Whether `address` is internal (`InternalAddressConfig::isInternalAddress`).
        public func isInternal(_ address: IPAddress) -> Bool {
            cidrRanges.isEmpty ? address.isRFC1918OrRFC4193 : cidrRanges.contains { $0.contains(address) }
        }

        /// The Envoy v3 JSON form.
        public var json: JSON {
            var o = JSONObject()
            if unixSockets { o["unix_sockets"] = .bool(true) }
            if !cidrRanges.isEmpty { o["cidr_ranges"] = .array(cidrRanges.map(\.json)) }
            return .object(o)
        }
    }

    /// Whether a client's `x-forwarded-proto` is replaced by the connection's scheme
    /// (`ConnectionManagerUtility::mutateRequestHeaders`: with `use_remote_address` and no
    /// trusted hops the previous hop is not trusted); otherwise it is kept, and set only when
    /// absent.
    public var overwritesForwardedProto: Bool { useRemoteAddress && xffNumTrustedHops == 0 }

    /// `HttpConnectionManager.CodecType`.
    public enum CodecType: String, Sendable, CaseIterable {
        /// HTTP/2 when the connection starts with its preface (or ALPN says `h2`), else HTTP/1.1.
        case auto = "AUTO"
        /// HTTP/1.1 only.
        case http1 = "HTTP1"
        /// HTTP/2 only.
        case http2 = "HTTP2"
        /// HTTP/3 (QUIC listeners).
        case http3 = "HTTP3"
    }

    /// A connection manager.
    public init(
        statPrefix: String, routes: Routes, httpFilters: [HTTPFilterKind] = [.router], accessLog: [AccessLog] = [],
        rateLimit: LocalRateLimit? = nil, filters: [HTTPFilter]? = nil
    ) {
        self.statPrefix = statPrefix
        self.routes = routes
        self.httpFilters = httpFilters
        self.filters = filters ?? httpFilters.map { HTTPFilter(name: $0.filterName, typeURL: $0.listenerConfig.typeURL, kind: $0) }
        self.accessLog = accessLog
        self.rateLimit = rateLimit
    }

    /// The inline route table, if any.
    public var routeConfiguration: RouteConfiguration? {
        if case .inline(let rc) = routes { return rc }
        return nil
    }

    /// The message name of the network filter's `typed_config`.
    static let typeName = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

    /// The `typed_config` of the network filter.
    public var typedConfig: TypedMessage {
        var o = JSONObject()
        encodeConfigFields(into: &o)
        return TypedMessage(Self.typeName, o)
    }

    /// The members of `typedConfig` after its `@type`.
    func encodeConfigFields<F: EnvoyFields>(into o: inout F) {
        o.put("stat_prefix", .string(statPrefix))
        switch routes {
        case .inline(let rc): o.put("route_config", message: rc)
        case .rds(let source, let name):
            o.put("rds", .object(["config_source": source.json, "route_config_name": .string(name)]))
        }
        o.put(
            "http_filters",
            .array(
                httpFilters.map { kind in
                    if kind == .localRateLimit, let rateLimit {
                        return TypedExtension(name: kind.filterName, typedConfig: rateLimit.typedConfig).json
                    }
                    if kind == .router, router != RouterFilterConfig() {
                        return TypedExtension(name: kind.filterName, typedConfig: router.typedConfig).json
                    }
                    return kind.httpFilter.json
                }))
        if !accessLog.isEmpty { o.put("access_log", .array(accessLog.map(\.entry.json))) }
        if !upgradeTypes.isEmpty { o.put("upgrade_configs", .array(upgradeTypes.map { .object(["upgrade_type": .string($0)]) })) }
        if codecType != .auto { o.put("codec_type", .string(codecType.rawValue)) }
        if let http2MaxConcurrentStreams {
            o.put("http2_protocol_options", .object(["max_concurrent_streams": .int(Int64(http2MaxConcurrentStreams))]))
        }
        if acceptHTTP10 { o.put("http_protocol_options", .object(["accept_http_10": .bool(true)])) }
        if useRemoteAddress { o.put("use_remote_address", .bool(true)) }
        if xffNumTrustedHops > 0 { o.put("xff_num_trusted_hops", .int(Int64(xffNumTrustedHops))) }
        if skipXffAppend { o.put("skip_xff_append", .bool(true)) }
        if let internalAddressConfig { o.put("internal_address_config", internalAddressConfig.json) }
        if !originalIPDetectionExtensions.isEmpty {
            o.put("original_ip_detection_extensions", .array(originalIPDetectionExtensions.map(\.json)))
        }
        if !generateRequestId { o.put("generate_request_id", .bool(false)) }
        if preserveExternalRequestId { o.put("preserve_external_request_id", .bool(true)) }
        if !via.isEmpty { o.put("via", .string(via)) }
    }
}

/// The network filter entry of a connection manager,
/// `{"name": ..., "typed_config": {"@type": ..., ...}}`, as a message so that its route
/// table is streamed.
struct ConnectionManagerFilter: EnvoyMessage {
    /// The connection manager.
    var manager: HttpConnectionManager

    /// The filter name, then the typed config.
    func encodeFields<F: EnvoyFields>(into o: inout F) {
        o.put("name", .string("envoy.filters.network.http_connection_manager"))
        o.putObject("typed_config") { config in
            config.put("@type", .string("type.googleapis.com/" + HttpConnectionManager.typeName))
            manager.encodeConfigFields(into: &config)
        }
    }
}

/// One `http_filters` entry as written: its instance name, its `typed_config` type and the
/// kind xdsc models it as, if any.
public struct HTTPFilter: Equatable, Sendable {
    /// `name` (free-form in Envoy; the type decides what the filter is).
    public var name: String
    /// `typed_config.@type`; nil when the filter has no `typed_config`.
    public var typeURL: String?
    /// The filter xdsc models, nil for an extension it keeps opaque.
    public var kind: HTTPFilterKind?
    /// Where it was written (nil when lowered from a policy).
    public var source: SourceSpan?

    /// An HTTP filter entry.
    public init(name: String, typeURL: String?, kind: HTTPFilterKind?, source: SourceSpan? = nil) {
        self.name = name
        self.typeURL = typeURL
        self.kind = kind
        self.source = source
    }
}
