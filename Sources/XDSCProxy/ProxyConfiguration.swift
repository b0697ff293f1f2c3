import NIOConcurrencyHelpers
import NIOSSL
import XDSCDiagnostics
import XDSCEnvoy
import XDSCRouteEngine

/// One filter chain of a listener as the proxy serves it: what selects it, its connection
/// manager and its TLS.
public struct ProxyFilterChain: Sendable {
    /// `name` (may be empty).
    public var name: String
    /// `filter_chain_match.server_names`, lower-cased as Envoy keeps them.
    public var serverNames: [String]
    /// `filter_chain_match.transport_protocol`.
    public var transportProtocol: String?
    /// The chain's router; nil when the connection manager has no inline table (RDS).
    public var engine: RouteEngine?
    /// The connection manager's HTTP filters; the CORS filter acts only when listed.
    public var httpFilters: Set<HTTPFilterKind>
    /// The connection manager's enabled `upgrade_configs` (`websocket`, ...).
    public var upgradeTypes: [String]
    /// The chain's downstream TLS (`transport_socket`), if any.
    public var tls: DownstreamTLSContext?
    /// The connection manager's `codec_type` (AUTO detects the HTTP/2 preface).
    public var codecType: HttpConnectionManager.CodecType
    /// `http2_protocol_options.max_concurrent_streams`, advertised in SETTINGS; nil is Envoy's default.
    public var http2MaxConcurrentStreams: UInt32? = nil
    /// `http_protocol_options.accept_http_10`: HTTP/1.0 requests are served, not answered 426.
    public var acceptHTTP10 = false
    /// The connection manager's `x-forwarded-*` settings and internal addresses.
    var addressing = ClientAddressing()
    /// A client's `x-forwarded-proto` is replaced by the connection's scheme
    /// (`HttpConnectionManager.overwritesForwardedProto`).
    public var overwritesForwardedProto: Bool { addressing.overwritesForwardedProto }
    /// Where the chain was written.
    public var source: SourceSpan?
    /// The server context built from `tls` (`ProxyConfiguration.loadTLS`).
    var serverContext: NIOSSLContext?

    /// A filter chain; by default with every HTTP filter xdsc knows and no TLS.
    public init(
        name: String = "", serverNames: [String] = [], transportProtocol: String? = nil, engine: RouteEngine?,
        httpFilters: Set<HTTPFilterKind> = Set(HTTPFilterKind.allCases), upgradeTypes: [String] = [], tls: DownstreamTLSContext? = nil,
        codecType: HttpConnectionManager.CodecType = .auto, http2MaxConcurrentStreams: UInt32? = nil,
        source: SourceSpan? = nil
    ) {
        self.codecType = codecType
        self.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        self.name = name
        self.serverNames = serverNames.map { $0.lowercased() }
        self.transportProtocol = transportProtocol
        self.engine = engine
        self.httpFilters = httpFilters
        self.upgradeTypes = upgradeTypes
        self.tls = tls
        self.source = source
    }
}

/// One listener the proxy serves: its name, the port from the configuration and its filter
/// chains (one, without TLS, unless the configuration has more).
public struct ProxyListener: Sendable {
    /// `name`.
    public var name: String
    /// The configured port (`address.socket_address.port_value`).
    public var port: Int
    /// `filter_chains` that have an HTTP connection manager, in order (never empty).
    public var chains: [ProxyFilterChain]
    /// `default_filter_chain`.
    public var defaultChain: ProxyFilterChain?
    /// The listener has the `tls_inspector` listener filter: chains are selected by the
    /// ClientHello's SNI and the transport protocol.
    public var tlsInspector = false
    /// The listener's `per_connection_buffer_limit_bytes` (nil: Envoy's 1 MiB; 0: no limit).
    public var bufferLimit: UInt32?

    /// The first chain's router; nil when its connection manager has no inline table (RDS).
    public var engine: RouteEngine? {
        get { chains[0].engine }
        set { chains[0].engine = newValue }
    }
    /// The first chain's HTTP filters.
    public var httpFilters: Set<HTTPFilterKind> {
        get { chains[0].httpFilters }
        set { chains[0].httpFilters = newValue }
    }
    /// The first chain's enabled `upgrade_configs`.
    public var upgradeTypes: [String] {
        get { chains[0].upgradeTypes }
        set { chains[0].upgradeTypes = newValue }
    }
    /// The first chain's `codec_type`.
    public var codecType: HttpConnectionManager.CodecType {
        get { chains[0].codecType }
        set { chains[0].codecType = newValue }
    }
    /// The first chain's `http2_protocol_options.max_concurrent_streams`.
    public var http2MaxConcurrentStreams: UInt32? {
        get { chains[0].http2MaxConcurrentStreams }
        set { chains[0].http2MaxConcurrentStreams = newValue }
    }

    /// A listener with one plain-text chain; by default with every HTTP filter xdsc knows.
    public init(
        name: String, port: Int, engine: RouteEngine?, httpFilters: Set<HTTPFilterKind> = Set(HTTPFilterKind.allCases),
        upgradeTypes: [String] = [], codecType: HttpConnectionManager.CodecType = .auto, http2MaxConcurrentStreams: UInt32? = nil
    ) {
        self.init(
            name: name, port: port,
            chains: [
                ProxyFilterChain(
                    engine: engine, httpFilters: httpFilters, upgradeTypes: upgradeTypes, codecType: codecType,
                    http2MaxConcurrentStreams: http2MaxConcurrentStreams)
            ])
    }

    /// A listener with its filter chains. Without chains the default chain serves every
    /// connection, and without either one chain without routes answers 404.
    public init(name: String, port: Int, chains: [ProxyFilterChain], defaultChain: ProxyFilterChain? = nil, tlsInspector: Bool = false) {
        self.name = name
        self.port = port
        self.tlsInspector = tlsInspector
        if chains.isEmpty {
            var only = defaultChain ?? ProxyFilterChain(engine: nil)
            only.serverNames = []
            only.transportProtocol = nil
            self.chains = [only]
        } else {
            self.chains = chains
            self.defaultChain = defaultChain
        }
    }

    /// Whether any chain serves TLS.
    public var servesTLS: Bool { (chains + (defaultChain.map { [$0] } ?? [])).contains { $0.tls != nil } }
}

/// One upstream endpoint as the configuration names it.
public struct ProxyEndpoint: Sendable, Equatable {
    /// The configured address (an IP literal or a DNS name).
    public var host: String
    /// The configured port.
    public var port: Int
    /// `load_balancing_weight` (1 when unset).
    public var weight: UInt32
    /// The host's name as Envoy keeps it (`use_hostname_for_hashing`): the endpoint's
    /// `hostname`, else for a DNS cluster the name resolved (dns_cluster.cc `ResolveTarget`),
    /// else empty.
    public var hostname: String

    /// An endpoint.
    public init(host: String, port: Int, weight: UInt32 = 1, hostname: String = "") {
        self.host = host
        self.port = port
        self.weight = weight
        self.hostname = hostname
    }

    /// `host:port`, with brackets around an IPv6 literal.
    public var label: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What the proxy executes of a cluster besides its endpoints.
public struct ClusterSettings: Sendable, Equatable {
    /// Envoy's default `max_requests` (circuit_breakers.proto).
    public static let defaultMaxRequests: UInt32 = 1024
    /// Envoy's default `max_pending_requests`.
    public static let defaultMaxPendingRequests: UInt32 = 1024
    /// Envoy's default `max_retries`.
    public static let defaultMaxRetries: UInt32 = 3
    /// Envoy's default `max_connections`.
    public static let defaultMaxConnections: UInt32 = 1024
    /// Envoy's default upstream `http2_protocol_options.max_concurrent_streams` (protocol.proto).
    public static let defaultHTTP2MaxConcurrentStreams: UInt32 = 2_147_483_647

    /// `lb_policy`.
    public var lbPolicy: Cluster.LbPolicy
    /// `circuit_breakers.thresholds` (DEFAULT priority) `max_requests`; nil is Envoy's 1024.
    public var maxRequests: UInt32?
    /// `max_pending_requests` (DEFAULT priority); nil is Envoy's 1024.
    public var maxPendingRequests: UInt32?
    /// `max_retries` (DEFAULT priority); nil is Envoy's 3.
    public var maxRetries: UInt32?
    /// `max_connections` (DEFAULT priority); nil is Envoy's 1024.
    public var maxConnections: UInt32?
    /// The HIGH priority's thresholds (nil: Envoy's defaults), used by routes with `priority: HIGH`.
    public var highPriority: CircuitBreakerThresholds?
    /// The first health check (HTTP, TCP or gRPC), if any.
    public var healthCheck: HealthCheck?
    /// Requests go upstream over HTTP/2 (h2c with prior knowledge), multiplexed on one
    /// connection per endpoint.
    public var http2: Bool
    /// `http2_protocol_options.max_concurrent_streams`: the streams on one upstream HTTP/2
    /// connection before another is opened (nil: Envoy's 2147483647, lowered by the peer's SETTINGS).
    public var http2MaxConcurrentStreams: UInt32?
    /// `outlier_detection`, if any.
    public var outlierDetection: OutlierDetection?
    /// `ring_hash_lb_config`.
    public var ringHash: RingHashLbConfig?
    /// `maglev_lb_config.table_size`.
    public var maglevTableSize: UInt64?
    /// `hash_balance_factor` of RING_HASH and MAGLEV (nil: unbounded).
    public var hashBalanceFactor: UInt32?
    /// `use_hostname_for_hashing`: RING_HASH and MAGLEV hash the endpoints' names.
    public var useHostnameForHashing = false
    /// `max_requests_per_connection` (nil or 0: no limit): an upstream connection, HTTP/1.1 or
    /// HTTP/2, carries at most this many requests, then closes once it has none in flight.
    public var maxRequestsPerConnection: UInt32? = nil
    /// `common_http_protocol_options.idle_timeout` of the HTTP/1.1 pool (nil: unset, Envoy's
    /// 1 h, which the proxy does not arm; 0: none): a kept-alive connection without a request
    /// for this long is closed.
    public var idleTimeout: Duration? = nil

    /// Settings; by default round robin, Envoy's breaker, no health check and HTTP/1.1.
    public init(
        lbPolicy: Cluster.LbPolicy = .roundRobin, maxRequests: UInt32? = nil, healthCheck: HealthCheck? = nil, http2: Bool = false,
        maxPendingRequests: UInt32? = nil, maxRetries: UInt32? = nil, outlierDetection: OutlierDetection? = nil,
        ringHash: RingHashLbConfig? = nil, maglevTableSize: UInt64? = nil, maxConnections: UInt32? = nil,
        highPriority: CircuitBreakerThresholds? = nil, hashBalanceFactor: UInt32? = nil, http2MaxConcurrentStreams: UInt32? = nil
    ) {
        self.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        self.maxConnections = maxConnections
        self.highPriority = highPriority
        self.hashBalanceFactor = hashBalanceFactor
        self.lbPolicy = lbPolicy
        self.maxRequests = maxRequests
        self.healthCheck = healthCheck
        self.http2 = http2
        self.maxPendingRequests = maxPendingRequests
        self.maxRetries = maxRetries
        self.outlierDetection = outlierDetection
        self.ringHash = ringHash
        self.maglevTableSize = maglevTableSize
    }

    /// The settings of a cluster of the Envoy model.
    public init(_ c: Cluster) {
        self.init(
            lbPolicy: c.lbPolicy, maxRequests: c.circuitBreakers?.maxRequests, healthCheck: c.healthChecks.first,
            http2: c.upstreamProtocol == .http2,
            maxPendingRequests: c.circuitBreakers?.maxPendingRequests, maxRetries: c.circuitBreakers?.maxRetries,
            outlierDetection: c.outlierDetection, ringHash: c.ringHashConfig, maglevTableSize: c.maglevTableSize,
            maxConnections: c.circuitBreakers?.maxConnections)
        highPriority = c.highPriorityCircuitBreakers
        hashBalanceFactor = c.hashBalanceFactor
        http2MaxConcurrentStreams = c.http2MaxConcurrentStreams
        useHostnameForHashing = c.useHostnameForHashing
        maxRequestsPerConnection = c.maxRequestsPerConnection
        idleTimeout = c.upstreamIdleTimeout.map { .milliseconds($0.milliseconds) }
    }

    /// The thresholds of `priority` (nil fields are Envoy's defaults).
    public func thresholds(_ priority: RoutingPriority) -> CircuitBreakerThresholds {
        switch priority {
        case .default:
            CircuitBreakerThresholds(
                maxConnections: maxConnections, maxPendingRequests: maxPendingRequests, maxRequests: maxRequests, maxRetries: maxRetries)
        case .high: highPriority ?? CircuitBreakerThresholds()
        }
    }
}

/// The configuration the proxy runs: listeners and clusters, read from the Envoy model so
/// any Envoy configuration (ours or a user's) can be served.
public struct ProxyConfiguration: Sendable {
    /// Listeners, in configuration order.
    public var listeners: [ProxyListener]
    /// Cluster name to its endpoints (in `load_assignment` order). A cluster added here is
    /// served like the others: ``clusterOrder`` follows every change.
    public var clusters: [String: [ProxyEndpoint]] {
        didSet { clusterOrder = Self.order(clusterOrder, of: clusters) }
    }
    /// Cluster names in configuration order (deterministic output), then those added later in
    /// the order added (several added at once, by name). Derived from ``clusters``: a cluster
    /// cannot be in one and not the other.
    public private(set) var clusterOrder: [String]

    /// `order` without the names `clusters` no longer has, then its new names sorted.
    static func order(_ order: [String], of clusters: [String: [ProxyEndpoint]]) -> [String] {
        var kept = order.filter { clusters[$0] != nil }
        let known = Set(kept)
        kept += clusters.keys.filter { !known.contains($0) }.sorted()
        return kept
    }
    /// Cluster name to its load balancing, circuit breaker and health check settings.
    public var clusterSettings: [String: ClusterSettings] = [:]
    /// Settings the proxy reads but does not simulate, one sentence each (warned at start).
    public var unsimulated: [String]
    /// Cluster name to its upstream TLS, for the clusters that have one.
    public var clusterTLS: [String: UpstreamTLS] = [:]

    /// A configuration from the Envoy model's listeners and clusters.
    public init(listeners: [Listener], clusters: [Cluster]) {
        self.listeners = listeners.map { l in
            func chain(_ c: FilterChain) -> ProxyFilterChain? {
                guard let cm = c.connectionManager else { return nil }
                var chain = ProxyFilterChain(
                    name: c.name ?? "", serverNames: c.serverNames, transportProtocol: c.transportProtocol,
                    engine: cm.routeConfiguration.map { RouteEngine($0, router: cm.router) }, httpFilters: Set(cm.httpFilters),
                    upgradeTypes: cm.upgradeTypes,
                    tls: c.tls, codecType: cm.codecType, http2MaxConcurrentStreams: cm.http2MaxConcurrentStreams,
                    source: c.source ?? l.source)
                chain.addressing = ClientAddressing(cm)
                chain.acceptHTTP10 = cm.acceptHTTP10
                return chain
            }
            var listener = ProxyListener(
                name: l.name, port: l.address.portValue, chains: l.filterChains.compactMap(chain),
                defaultChain: l.defaultFilterChain.flatMap(chain), tlsInspector: l.tlsInspector)
            listener.bufferLimit = l.perConnectionBufferLimitBytes
            return listener
        }
        var map: [String: [ProxyEndpoint]] = [:]
        var order: [String] = []
        for c in clusters where map[c.name] == nil {
            order.append(c.name)
            let dns = c.type == .strictDNS || c.type == .logicalDNS
            map[c.name] = (c.loadAssignment?.endpoints ?? []).map {
                ProxyEndpoint(
                    host: $0.address.address, port: $0.address.portValue, weight: $0.weight ?? 1,
                    hostname: $0.hostname ?? (dns ? $0.address.address : ""))
            }
            clusterSettings[c.name] = ClusterSettings(c)
            if let tls = c.tls {
                clusterTLS[c.name] = UpstreamTLS(context: tls, source: c.source, httpOptions: c.upstreamHTTPProtocolOptions)
            }
        }
        self.clusters = map
        self.clusterOrder = order
        self.unsimulated = Self.unsimulated(listeners, clusters)
    }

    /// A configuration from a whole Envoy configuration (a policy's or the Envoy reader's):
    /// RDS tables are looked up by name, EDS endpoints by cluster name, and a route table no
    /// listener uses is served on an ephemeral port as a listener named after the table.
    public init(_ envoy: EnvoyConfig) {
        var listeners = envoy.listeners
        var tables: [String: RouteConfiguration] = [:]
        for rc in envoy.routeConfigurations where tables[rc.name] == nil { tables[rc.name] = rc }
        var used = Set<String>()
        // Every chain's connection manager, the default chain's too: each chain is served.
        func resolve(_ chain: inout FilterChain) {
            if case .rds(_, let name)? = chain.connectionManager?.routes, let rc = tables[name] {
                chain.connectionManager?.routes = .inline(rc)
                used.insert(name)
            }
        }
        for i in listeners.indices {
            for c in listeners[i].filterChains.indices { resolve(&listeners[i].filterChains[c]) }
            if listeners[i].defaultFilterChain != nil { resolve(&listeners[i].defaultFilterChain!) }
        }
        var clusters = envoy.clusters
        for i in clusters.indices where clusters[i].loadAssignment == nil {
            clusters[i].loadAssignment = envoy.endpoints.first { $0.clusterName == clusters[i].name }
        }
        self.init(listeners: listeners, clusters: clusters)
        for rc in envoy.routeConfigurations where !used.contains(rc.name) && envoy.listeners.isEmpty {
            self.listeners.append(ProxyListener(name: rc.name.isEmpty ? "routes" : rc.name, port: 0, engine: RouteEngine(rc)))
        }
    }

    /// A configuration from parts (Envoy files, tests).
    public init(
        listeners: [ProxyListener], clusters: [(name: String, endpoints: [ProxyEndpoint])], settings: [String: ClusterSettings] = [:],
        unsimulated: [String] = []
    ) {
        self.clusterSettings = settings
        self.listeners = listeners
        var map: [String: [ProxyEndpoint]] = [:]
        var order: [String] = []
        for c in clusters where map[c.name] == nil {
            order.append(c.name)
            map[c.name] = c.endpoints
        }
        self.clusters = map
        self.clusterOrder = order
        self.unsimulated = unsimulated
    }

    /// Whether a route of `table` hashes on filter state.
    static func hashesOnFilterState(_ table: RouteConfiguration?) -> Bool {
        func uses(_ p: HashPolicy) -> Bool {
            switch p {
            case .filterState: true
            case .terminal(let inner): uses(inner)
            default: false
            }
        }
        return table?.virtualHosts.contains { vh in
            vh.routes.contains { r in
                guard case .route(let a) = r.action else { return false }
                return a.hashPolicy.contains(where: uses)
            }
        } ?? false
    }

    /// What connection manager `cm` (of `at`, a listener or one of its chains) sets about
    /// client addresses that the proxy does differently (docs/proxy.md, "x-forwarded-for and
    /// internal requests").
    static func addressingUnsimulated(_ cm: HttpConnectionManager, at: String) -> [String] {
        var out: [String] = []
        for e in cm.originalIPDetectionExtensions {
            out.append(
                "\(at): original IP detection extension `\(e.name)` is not simulated; "
                    + "the trusted client address is read from `x-forwarded-for` as without extensions")
        }
        if cm.useRemoteAddress && !cm.skipXffAppend {
            out.append(
                "\(at): `use_remote_address`: a loopback client is appended to `x-forwarded-for` as the address "
                    + "the connection was accepted on (Envoy appends its node's address)")
        }
        return out
    }

    /// The retry conditions of `table`'s retry policies (virtual hosts' and routes') that the
    /// proxy's retries do not execute (`RetryPlan.executedConditions`), sorted.
    static func unexecutedRetryConditions(_ table: RouteConfiguration?) -> [String] {
        var policies: [RetryPolicy] = []
        for vh in table?.virtualHosts ?? [] {
            if let p = vh.retryPolicy { policies.append(p) }
            for r in vh.routes {
                if case .route(let a) = r.action, let p = a.retryPolicy { policies.append(p) }
            }
        }
        var out = Set<String>()
        for p in policies { out.formUnion(RetryPlan(p).retryOn.subtracting(RetryPlan.executedConditions)) }
        out.remove("")
        return out.sorted()
    }

    /// The retry policy fields (`retry_priority`, `retry_options_predicates`, host predicates
    /// other than `previous_hosts`) and route action fields (`hedge_policy`, ...) of `table`
    /// that the proxy does not act on: one sentence per virtual host or route that sets some.
    static func retryUnsimulated(_ table: RouteConfiguration?, at: String) -> [String] {
        var out: [String] = []
        func warn(_ fields: [String], _ place: String) {
            guard !fields.isEmpty else { return }
            // A host predicate is named as the field and its extension: `retry_policy.retry_host_predicate` `envoy...`.
            let names = fields.map { f in f.split(separator: " ").map { "`\($0)`" }.joined(separator: " ") }.joined(separator: ", ")
            out.append("\(at), \(place): \(names) \(fields.count == 1 ? "is" : "are") not simulated (the proxy acts as if unset)")
        }
        for vh in table?.virtualHosts ?? [] {
            warn((vh.retryPolicy?.unsimulatedFields ?? []).map { "retry_policy." + $0 }, "virtual host `\(vh.name)`")
            for (i, r) in vh.routes.enumerated() {
                guard case .route(let a) = r.action else { continue }
                let fields = a.unsimulatedFields + (a.retryPolicy?.unsimulatedFields ?? []).map { "retry_policy." + $0 }
                warn(fields, "route " + (r.name.map { "`\($0)`" } ?? "#\(i + 1)") + " of `\(vh.name)`")
            }
        }
        return out
    }

    /// One sentence for fields the model does not keep (nil for none): Envoy's defaults apply.
    static func unkeptWarning(_ fields: [String]) -> String? {
        guard !fields.isEmpty else { return nil }
        let names = fields.map { "`\($0)`" }.joined(separator: ", ")
        return "\(names) \(fields.count == 1 ? "is" : "are") not simulated (the proxy runs Envoy's defaults)"
    }

    /// What connection manager `cm` (of `at`) sets that the proxy does not do.
    static func managerUnsimulated(_ cm: HttpConnectionManager, at: String) -> [String] {
        var out: [String] = []
        if cm.routeConfiguration == nil {
            out.append("\(at): routes from RDS are not loaded; every request gets 404")
        }
        if cm.rateLimit != nil {
            out.append("\(at): the listener-wide local rate limit is not simulated")
        }
        if Self.hashesOnFilterState(cm.routeConfiguration) {
            out.append("\(at): a `filter_state` hash policy never yields a hash (the proxy keeps no filter state)")
        }
        out += addressingUnsimulated(cm, at: at)
        let conditions = unexecutedRetryConditions(cm.routeConfiguration)
        if !conditions.isEmpty {
            out.append(
                "\(at): retry condition\(conditions.count == 1 ? "" : "s") "
                    + conditions.map { "`\($0)`" }.joined(separator: ", ") + " of its retry policies "
                    + (conditions.count == 1 ? "is" : "are") + " not simulated (never retried on)")
        }
        out += retryUnsimulated(cm.routeConfiguration, at: at)
        if let w = unkeptWarning(cm.unkeptTrafficFields) {
            out.append("\(at): the connection manager's \(w)")
        }
        if let w = unkeptWarning(cm.router.unkeptTrafficFields) {
            out.append("\(at): the router filter's \(w)")
        }
        if cm.codecType == .http3 {
            out.append("\(at): HTTP/3 is not simulated; the listener detects HTTP/2 or serves HTTP/1.1 (AUTO)")
        }
        return out
    }

    /// What the configuration uses that the proxy does not do (docs/proxy.md lists them).
    static func unsimulated(_ listeners: [Listener], _ clusters: [Cluster]) -> [String] {
        var out: [String] = []
        for l in listeners {
            out += tlsUnsimulated(l)
            // Every chain the proxy serves, not only the first: a listener with one chain is
            // named alone, a later chain by its name or place.
            let chains =
                (l.filterChains.enumerated().map { ($0.element, "filter chain #\($0.offset + 1)") })
                + (l.defaultFilterChain.map { [($0, "the default filter chain")] } ?? [])
            let managed = chains.filter { $0.0.connectionManager != nil }
            if managed.isEmpty { out += managerUnsimulated(l.connectionManager, at: "listener `\(l.name)`") }
            for (i, (chain, place)) in managed.enumerated() {
                let at = i == 0 ? "listener `\(l.name)`" : "listener `\(l.name)`, \(chain.name.map { "filter chain `\($0)`" } ?? place)"
                out += managerUnsimulated(chain.connectionManager!, at: at)
            }
        }
        for c in clusters {
            out += tlsUnsimulated(c)
            if c.autoHTTPConfig {
                out.append(
                    "cluster `\(c.name)`: `auto_config` (the protocol by ALPN) is not simulated; the cluster is served over HTTP/1.1")
            }
            if c.useHostnameForHashing && (c.lbPolicy == .ringHash || c.lbPolicy == .maglev) && c.type != .strictDNS
                && c.type != .logicalDNS && (c.loadAssignment?.endpoints ?? []).contains(where: { $0.hostname == nil })
            {
                out.append(
                    "cluster `\(c.name)`: `use_hostname_for_hashing` with an endpoint without `hostname`: it is hashed by an empty name, as Envoy does"
                )
            }
            if let w = unkeptWarning(c.unkeptTrafficFields) { out.append("cluster `\(c.name)`: \(w)") }
            if c.healthChecks.count > 1 {
                out.append("cluster `\(c.name)`: only the first of its health checks is run")
            }
        }
        return out
    }
}

/// Where forwarded requests go.
public enum UpstreamMode: String, Sendable, CaseIterable {
    /// Built-in mock servers, one per endpoint, that answer with what they received.
    case mock
    /// The configured endpoints.
    case real
}

/// How the proxy runs.
public struct ProxyOptions: Sendable {
    /// Mock or real upstreams.
    public var upstreams: UpstreamMode = .mock
    /// The seed of the per-request random value (weighted clusters, runtime fractions);
    /// nil draws from the system generator.
    public var seed: UInt64?
    /// The address listeners bind to (loopback unless the user asks otherwise).
    public var listenHost: String = "127.0.0.1"
    /// Listener name to port; 0 asks for an ephemeral port.
    public var portMap: [String: Int] = [:]
    /// Request line plus headers, in bytes (Envoy's `max_request_headers_kb` default, 60 KiB): 431 above.
    public var maxRequestHeaderBytes = 60 * 1024
    /// The connection buffer limit, in bytes (Envoy's default `per_connection_buffer_limit_bytes`,
    /// 1 MiB; a listener's own replaces it): the most request body kept for retries, and held
    /// while a filter delays the router.
    public var maxRequestBodyBytes = 1024 * 1024
    /// A client that sends nothing for this long in the middle of a request gets 408 and is
    /// closed; an idle keep-alive connection is closed (Envoy's stream idle timeout, 5 min).
    public var clientIdleTimeout: Duration = .seconds(300)
    /// How long a connect to an upstream may take (Envoy's `connect_timeout` default 5 s).
    public var connectTimeout: Duration = .seconds(5)
    /// The retry back-off base interval (Envoy: 25 ms).
    public var retryBackOffBase: Duration = .milliseconds(25)

    /// Default options.
    public init() {}
}

/// The proxy's random source: SplitMix64, seeded for repeatable runs.
final class RandomSource: Sendable {
    private let state: NIOLockedValueBox<UInt64>

    init(seed: UInt64?) {
        state = NIOLockedValueBox(seed ?? UInt64.random(in: .min ... .max))
    }

    func next() -> UInt64 {
        state.withLockedValue { s in
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A version 4 UUID from two draws (`x-request-id`): the first draw's bytes, then the
    /// second's, most significant first, with the version and variant bits set, written
    /// straight into the string's storage (no intermediate strings).
    func uuid() -> String {
        let a = (next() & ~0xF000) | 0x4000
        let b = (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return String(unsafeUninitializedCapacity: 36) { out in
            var o = 0
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 {
                    out[o] = UInt8(ascii: "-")
                    o += 1
                }
                let nibble = UInt8(truncatingIfNeeded: ((i < 16 ? a : b) >> UInt64(60 - 4 * (i & 15))) & 0xF)
                out[o] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                o += 1
            }
            return o
        }
    }
}
