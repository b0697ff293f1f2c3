import NIOConcurrencyHelpers
import XDSCEnvoy
import XDSCRouteEngine

/// One listener the proxy serves: its name, the port from the configuration and the route
/// engine built from its inline route table.
public struct ProxyListener: Sendable {
    /// `name`.
    public var name: String
    /// The configured port (`address.socket_address.port_value`).
    public var port: Int
    /// The listener's router; nil when the connection manager has no inline table (RDS).
    public var engine: RouteEngine?
    /// The connection manager's HTTP filters; the CORS filter acts only when listed.
    public var httpFilters: Set<HTTPFilterKind>
    /// The connection manager's enabled `upgrade_configs` (`websocket`, ...).
    public var upgradeTypes: [String] = []
    /// The connection manager's `codec_type` (AUTO detects the HTTP/2 preface).
    public var codecType: HttpConnectionManager.CodecType = .auto
    /// `http2_protocol_options.max_concurrent_streams`, advertised in SETTINGS; nil is Envoy's default.
    public var http2MaxConcurrentStreams: UInt32?

    /// A listener; by default with every HTTP filter xdsc knows.
    public init(
        name: String, port: Int, engine: RouteEngine?, httpFilters: Set<HTTPFilterKind> = Set(HTTPFilterKind.allCases),
        upgradeTypes: [String] = [], codecType: HttpConnectionManager.CodecType = .auto, http2MaxConcurrentStreams: UInt32? = nil
    ) {
        self.codecType = codecType
        self.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        self.upgradeTypes = upgradeTypes
        self.name = name
        self.port = port
        self.engine = engine
        self.httpFilters = httpFilters
    }
}

/// One upstream endpoint as the configuration names it.
public struct ProxyEndpoint: Sendable, Equatable {
    /// The configured address (an IP literal or a DNS name).
    public var host: String
    /// The configured port.
    public var port: Int
    /// `load_balancing_weight` (1 when unset).
    public var weight: UInt32

    /// An endpoint.
    public init(host: String, port: Int, weight: UInt32 = 1) {
        self.host = host
        self.port = port
        self.weight = weight
    }

    /// `host:port`, with brackets around an IPv6 literal.
    public var label: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// What the proxy executes of a cluster besides its endpoints.
public struct ClusterSettings: Sendable, Equatable {
    /// Envoy's default `max_requests` (circuit_breakers.proto).
    public static let defaultMaxRequests: UInt32 = 1024

    /// `lb_policy`.
    public var lbPolicy: Cluster.LbPolicy
    /// `circuit_breakers.thresholds` (DEFAULT priority) `max_requests`; nil is Envoy's 1024.
    public var maxRequests: UInt32?
    /// The first HTTP health check, if any.
    public var healthCheck: HealthCheck?
    /// Requests go upstream over HTTP/2 (h2c with prior knowledge), multiplexed on one
    /// connection per endpoint.
    public var http2: Bool

    /// Settings; by default round robin, Envoy's breaker, no health check and HTTP/1.1.
    public init(lbPolicy: Cluster.LbPolicy = .roundRobin, maxRequests: UInt32? = nil, healthCheck: HealthCheck? = nil, http2: Bool = false)
    {
        self.lbPolicy = lbPolicy
        self.maxRequests = maxRequests
        self.healthCheck = healthCheck
        self.http2 = http2
    }

    /// The settings of a cluster of the Envoy model.
    public init(_ c: Cluster) {
        let check = c.healthChecks.first {
            if case .http = $0.kind { return true }
            return false
        }
        self.init(
            lbPolicy: c.lbPolicy, maxRequests: c.circuitBreakers?.maxRequests, healthCheck: check, http2: c.upstreamProtocol == .http2)
    }
}

/// The configuration the proxy runs: listeners and clusters, read from the Envoy model so
/// any Envoy configuration (ours or a user's) can be served.
public struct ProxyConfiguration: Sendable {
    /// Listeners, in configuration order.
    public var listeners: [ProxyListener]
    /// Cluster name to its endpoints (in `load_assignment` order).
    public var clusters: [String: [ProxyEndpoint]]
    /// Cluster names in configuration order (deterministic output).
    public var clusterOrder: [String]
    /// Cluster name to its load balancing, circuit breaker and health check settings.
    public var clusterSettings: [String: ClusterSettings] = [:]
    /// Settings the proxy reads but does not simulate, one sentence each (warned at start).
    public var unsimulated: [String]

    /// A configuration from the Envoy model's listeners and clusters.
    public init(listeners: [Listener], clusters: [Cluster]) {
        self.listeners = listeners.map { l in
            ProxyListener(
                name: l.name, port: l.address.portValue, engine: l.connectionManager.routeConfiguration.map { RouteEngine($0) },
                httpFilters: Set(l.connectionManager.httpFilters), upgradeTypes: l.connectionManager.upgradeTypes,
                codecType: l.connectionManager.codecType, http2MaxConcurrentStreams: l.connectionManager.http2MaxConcurrentStreams)
        }
        var map: [String: [ProxyEndpoint]] = [:]
        var order: [String] = []
        for c in clusters where map[c.name] == nil {
            order.append(c.name)
            map[c.name] = (c.loadAssignment?.endpoints ?? []).map {
                ProxyEndpoint(host: $0.address.address, port: $0.address.portValue, weight: $0.weight ?? 1)
            }
            clusterSettings[c.name] = ClusterSettings(c)
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
        for i in listeners.indices {
            var cm = listeners[i].connectionManager
            if case .rds(_, let name) = cm.routes, let rc = tables[name] {
                cm.routes = .inline(rc)
                listeners[i].connectionManager = cm
                used.insert(name)
            }
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

    /// What the configuration uses that the proxy does not do (docs/proxy.md lists them).
    static func unsimulated(_ listeners: [Listener], _ clusters: [Cluster]) -> [String] {
        var out: [String] = []
        for l in listeners {
            if l.tls != nil { out.append("listener `\(l.name)`: TLS is not simulated; the listener serves plain HTTP/1.1") }
            if l.connectionManager.routeConfiguration == nil {
                out.append("listener `\(l.name)`: routes from RDS are not loaded; every request gets 404")
            }
            if l.connectionManager.rateLimit != nil {
                out.append("listener `\(l.name)`: the listener-wide local rate limit is not simulated")
            }
            if l.connectionManager.codecType == .http3 {
                out.append("listener `\(l.name)`: HTTP/3 is not simulated; the listener detects HTTP/2 or serves HTTP/1.1 (AUTO)")
            }
        }
        for c in clusters {
            if c.tls != nil { out.append("cluster `\(c.name)`: upstream TLS is not simulated") }
            if !c.healthChecks.isEmpty && ClusterSettings(c).healthCheck == nil {
                out.append("cluster `\(c.name)`: only HTTP health checks are simulated; every endpoint is healthy")
            }
            if let cb = c.circuitBreakers, cb.maxConnections != nil || cb.maxPendingRequests != nil || cb.maxRetries != nil {
                out.append("cluster `\(c.name)`: of the circuit breakers only `max_requests` is simulated")
            }
            if c.outlierDetection != nil { out.append("cluster `\(c.name)`: outlier detection is not simulated") }
            if c.lbPolicy == .ringHash || c.lbPolicy == .maglev {
                out.append("cluster `\(c.name)`: lb_policy \(c.lbPolicy.rawValue) is simulated as ROUND_ROBIN")
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
    /// The buffered request body, in bytes (Envoy's default connection buffer, 1 MiB): 413 above.
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

    /// A version 4 UUID from two draws (`x-request-id`).
    func uuid() -> String {
        let a = next()
        let b = next()
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: a >> (56 - 8 * UInt64(i)))) }
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: b >> (56 - 8 * UInt64(i)))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { b -> String in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}
