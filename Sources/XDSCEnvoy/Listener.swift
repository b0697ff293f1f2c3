import XDSCDiagnostics
import XDSCJSON

/// `envoy.config.listener.v3.Listener` with one filter chain holding an HTTP connection
/// manager, the only kind xdsc writes.
public struct Listener: Equatable, Sendable, EnvoyEncodable {
    /// `name`.
    public var name: String
    /// `address`.
    public var address: SocketAddress
    /// The connection manager of the single filter chain.
    public var connectionManager: HttpConnectionManager
    /// The filter chain's `transport_socket` (downstream TLS), if any.
    public var tls: DownstreamTLSContext?
    /// Where this listener came from in the policy (not serialised).
    public var source: SourceSpan?

    /// A listener.
    public init(
        name: String, address: SocketAddress, connectionManager: HttpConnectionManager,
        tls: DownstreamTLSContext? = nil, source: SourceSpan? = nil
    ) {
        self.name = name
        self.address = address
        self.connectionManager = connectionManager
        self.tls = tls
        self.source = source
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var chain = JSONObject()
        chain["filters"] = .array([
            TypedExtension(name: "envoy.filters.network.http_connection_manager", typedConfig: connectionManager.typedConfig).json
        ])
        chain.set("transport_socket", tls.map { $0.transportSocket })
        var o = JSONObject()
        o["name"] = .string(name)
        o["address"] = address.json
        o["filter_chains"] = .array([.object(chain)])
        return .object(o)
    }
}

/// `envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext` with one certificate.
public struct DownstreamTLSContext: Equatable, Sendable {
    /// The certificate chain file.
    public var certificateChain: String
    /// The private key file.
    public var privateKey: String
    /// ALPN protocols offered to clients.
    public var alpnProtocols: [String]

    /// A downstream TLS context.
    public init(certificateChain: String, privateKey: String, alpnProtocols: [String] = ["h2", "http/1.1"]) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.alpnProtocols = alpnProtocols
    }

    /// The `transport_socket` entry.
    public var transportSocket: TypedExtension {
        var common = JSONObject()
        common["tls_certificates"] = .array([
            .object([
                "certificate_chain": DataSource.filename(certificateChain).json,
                "private_key": DataSource.filename(privateKey).json,
            ])
        ])
        common.setStrings("alpn_protocols", alpnProtocols)
        return TypedExtension(
            name: "envoy.transport_sockets.tls",
            typedConfig: TypedMessage(
                "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", ["common_tls_context": .object(common)]))
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
    /// `http_filters`, in order; the router must be last.
    public var httpFilters: [HTTPFilterKind]
    /// `access_log`.
    public var accessLog: [AccessLog]
    /// The filter-level token bucket of `envoy.filters.http.local_ratelimit`, shared by every
    /// request of this connection manager that no virtual host or route configures for
    /// itself; nil leaves the filter inactive outside such hosts and routes.
    public var rateLimit: LocalRateLimit?

    /// A connection manager.
    public init(
        statPrefix: String, routes: Routes, httpFilters: [HTTPFilterKind] = [.router], accessLog: [AccessLog] = [],
        rateLimit: LocalRateLimit? = nil
    ) {
        self.statPrefix = statPrefix
        self.routes = routes
        self.httpFilters = httpFilters
        self.accessLog = accessLog
        self.rateLimit = rateLimit
    }

    /// The inline route table, if any.
    public var routeConfiguration: RouteConfiguration? {
        if case .inline(let rc) = routes { return rc }
        return nil
    }

    /// The `typed_config` of the network filter.
    public var typedConfig: TypedMessage {
        var o = JSONObject()
        o["stat_prefix"] = .string(statPrefix)
        switch routes {
        case .inline(let rc): o["route_config"] = rc.json
        case .rds(let source, let name):
            o["rds"] = .object(["config_source": source.json, "route_config_name": .string(name)])
        }
        o["http_filters"] = .array(
            httpFilters.map { kind in
                if kind == .localRateLimit, let rateLimit {
                    return TypedExtension(name: kind.filterName, typedConfig: rateLimit.typedConfig).json
                }
                return kind.httpFilter.json
            })
        if !accessLog.isEmpty { o["access_log"] = .array(accessLog.map(\.entry.json)) }
        return TypedMessage("envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", o)
    }
}
