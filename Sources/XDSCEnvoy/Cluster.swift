import XDSCDiagnostics
import XDSCJSON

/// `envoy.config.cluster.v3.Cluster`.
public struct Cluster: Equatable, Sendable, EnvoyEncodable {
    /// `Cluster.DiscoveryType`.
    public enum DiscoveryType: String, Sendable {
        case `static` = "STATIC"
        case strictDNS = "STRICT_DNS"
        case logicalDNS = "LOGICAL_DNS"
        case eds = "EDS"
        case originalDst = "ORIGINAL_DST"
    }

    /// `Cluster.LbPolicy`.
    public enum LbPolicy: String, Sendable {
        case roundRobin = "ROUND_ROBIN"
        case leastRequest = "LEAST_REQUEST"
        case random = "RANDOM"
        case ringHash = "RING_HASH"
        case maglev = "MAGLEV"
    }

    /// Upstream HTTP protocol.
    public enum UpstreamProtocol: Sendable {
        case http1, http2
    }

    /// `name`.
    public var name: String
    /// `type`; STATIC is Envoy's default and is not written.
    public var type: DiscoveryType
    /// For EDS clusters: the file the endpoints come from (`eds_cluster_config`).
    public var edsConfig: PathConfigSource?
    /// `connect_timeout`.
    public var connectTimeout: EnvoyDuration?
    /// `lb_policy`; ROUND_ROBIN is the default and is not written.
    public var lbPolicy: LbPolicy
    /// `load_assignment` (absent for EDS clusters).
    public var loadAssignment: ClusterLoadAssignment?
    /// `health_checks`.
    public var healthChecks: [HealthCheck]
    /// `circuit_breakers.thresholds` of the DEFAULT priority.
    public var circuitBreakers: CircuitBreakerThresholds?
    /// `circuit_breakers.thresholds` of the HIGH priority (routes with `priority: HIGH`).
    public var highPriorityCircuitBreakers: CircuitBreakerThresholds? = nil
    /// Upstream protocol; HTTP/2 is written as `typed_extension_protocol_options`.
    public var upstreamProtocol: UpstreamProtocol
    /// `http2_protocol_options.max_concurrent_streams` of an HTTP/2 cluster: the streams the
    /// proxy opens on one upstream connection before it opens another (nil: Envoy's 2147483647).
    public var http2MaxConcurrentStreams: UInt32? = nil
    /// `outlier_detection`.
    public var outlierDetection: OutlierDetection?
    /// `transport_socket` with an `UpstreamTlsContext`.
    public var tls: UpstreamTLSContext?
    /// `ring_hash_lb_config` (read from Envoy files; the policy compiler does not write it).
    public var ringHashConfig: RingHashLbConfig? = nil
    /// `maglev_lb_config.table_size` (read from Envoy files).
    public var maglevTableSize: UInt64? = nil
    /// `common_lb_config.consistent_hashing_lb_config.hash_balance_factor`: RING_HASH and
    /// MAGLEV bound each endpoint's load (read from Envoy files).
    public var hashBalanceFactor: UInt32? = nil
    /// `common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing`.
    public var useHostnameForHashing = false
    /// `common_http_protocol_options.max_requests_per_connection` (of the typed
    /// `HttpProtocolOptions`, or the deprecated cluster field), else the deprecated
    /// `max_requests_per_connection`: an upstream connection is drained after this many
    /// requests (nil or 0: no limit).
    public var maxRequestsPerConnection: UInt32? = nil
    /// `common_http_protocol_options.idle_timeout`: an upstream connection without requests
    /// for this long is closed (nil: Envoy's 1 h; 0 disables it).
    public var upstreamIdleTimeout: EnvoyDuration? = nil
    /// The fields the Envoy reader accepts but the model does not keep, that change how
    /// Envoy serves traffic, as set in the file (`lb_subset_config`,
    /// `common_lb_config.healthy_panic_threshold`, ...): the proxy warns about each.
    public var unkeptTrafficFields: [String] = []
    /// `HttpProtocolOptions.upstream_http_protocol_options` (or the deprecated cluster field).
    public var upstreamHTTPProtocolOptions: UpstreamHTTPProtocolOptions?
    /// `HttpProtocolOptions.auto_config`: the upstream protocol chosen by ALPN (kept so that it
    /// is written back and warned about; the proxy speaks HTTP/1.1 to such a cluster).
    public var autoHTTPConfig = false
    /// Where this cluster came from in the policy (not serialised).
    public var source: SourceSpan?

    /// A cluster.
    public init(
        name: String, type: DiscoveryType = .static, edsConfig: PathConfigSource? = nil,
        connectTimeout: EnvoyDuration? = nil, lbPolicy: LbPolicy = .roundRobin,
        loadAssignment: ClusterLoadAssignment? = nil, healthChecks: [HealthCheck] = [],
        circuitBreakers: CircuitBreakerThresholds? = nil, upstreamProtocol: UpstreamProtocol = .http1,
        outlierDetection: OutlierDetection? = nil, tls: UpstreamTLSContext? = nil, source: SourceSpan? = nil
    ) {
        self.name = name
        self.type = type
        self.edsConfig = edsConfig
        self.connectTimeout = connectTimeout
        self.lbPolicy = lbPolicy
        self.loadAssignment = loadAssignment
        self.healthChecks = healthChecks
        self.circuitBreakers = circuitBreakers
        self.upstreamProtocol = upstreamProtocol
        self.outlierDetection = outlierDetection
        self.tls = tls
        self.source = source
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["name"] = .string(name)
        if type != .static { o["type"] = .string(type.rawValue) }
        if let edsConfig { o["eds_cluster_config"] = .object(["eds_config": edsConfig.json]) }
        o.set("connect_timeout", connectTimeout)
        if lbPolicy != .roundRobin { o["lb_policy"] = .string(lbPolicy.rawValue) }
        o.set("load_assignment", loadAssignment)
        o.setList("health_checks", healthChecks)
        if circuitBreakers != nil || highPriorityCircuitBreakers != nil {
            var thresholds: [JSON] = circuitBreakers.map { [$0.json] } ?? []
            if let high = highPriorityCircuitBreakers, case .object(var t) = high.json {
                t["priority"] = .string(RoutingPriority.high.rawValue)
                thresholds.append(.object(t))
            }
            o["circuit_breakers"] = .object(["thresholds": .array(thresholds)])
        }
        if upstreamProtocol == .http2 || upstreamHTTPProtocolOptions != nil || autoHTTPConfig || maxRequestsPerConnection != nil
            || upstreamIdleTimeout != nil
        {
            let version = upstreamProtocol == .http2 ? "http2_protocol_options" : "http_protocol_options"
            var versionOptions = JSONObject()
            if upstreamProtocol == .http2, let streams = http2MaxConcurrentStreams {
                versionOptions["max_concurrent_streams"] = .integer(streams)
            }
            var fields: JSONObject =
                autoHTTPConfig ? ["auto_config": .object([:])] : ["explicit_http_config": .object([version: .object(versionOptions)])]
            fields.set("upstream_http_protocol_options", upstreamHTTPProtocolOptions)
            if maxRequestsPerConnection != nil || upstreamIdleTimeout != nil {
                var common = JSONObject()
                common.set("idle_timeout", upstreamIdleTimeout)
                common.set("max_requests_per_connection", maxRequestsPerConnection.map { JSON.integer($0) })
                fields["common_http_protocol_options"] = .object(common)
            }
            let options = TypedMessage("envoy.extensions.upstreams.http.v3.HttpProtocolOptions", fields)
            o["typed_extension_protocol_options"] = .object([
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": options.json
            ])
        }
        o.set("outlier_detection", outlierDetection)
        o.set("transport_socket", tls.map(\.transportSocket))
        o.set("ring_hash_lb_config", ringHashConfig)
        if let maglevTableSize { o["maglev_lb_config"] = .object(["table_size": .integer(maglevTableSize)]) }
        if hashBalanceFactor != nil || useHostnameForHashing {
            var ch = JSONObject()
            if useHostnameForHashing { ch["use_hostname_for_hashing"] = .bool(true) }
            ch.set("hash_balance_factor", hashBalanceFactor.map { JSON.integer($0) })
            o["common_lb_config"] = .object(["consistent_hashing_lb_config": .object(ch)])
        }
        return .object(o)
    }
}

/// `envoy.config.core.v3.UpstreamHttpProtocolOptions`: the upstream connection's SNI and
/// SAN check from the request's host.
public struct UpstreamHTTPProtocolOptions: Equatable, Sendable, EnvoyEncodable {
    /// `auto_sni`: the SNI is the upstream request's host (without port; none for an IP).
    public var autoSNI: Bool
    /// `auto_san_validation`: the certificate must have a SAN for that host.
    public var autoSANValidation: Bool
    /// `override_auto_sni_header`: the header read instead of the host, when present.
    public var overrideAutoSNIHeader: String?

    /// Options.
    public init(autoSNI: Bool = false, autoSANValidation: Bool = false, overrideAutoSNIHeader: String? = nil) {
        self.autoSNI = autoSNI
        self.autoSANValidation = autoSANValidation
        self.overrideAutoSNIHeader = overrideAutoSNIHeader
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        if autoSNI { o["auto_sni"] = .bool(true) }
        if autoSANValidation { o["auto_san_validation"] = .bool(true) }
        o.set("override_auto_sni_header", overrideAutoSNIHeader.map(JSON.string))
        return .object(o)
    }
}

/// `envoy.config.endpoint.v3.ClusterLoadAssignment` with one locality.
public struct ClusterLoadAssignment: Equatable, Sendable, EnvoyEncodable {
    /// One `LbEndpoint`.
    public struct Endpoint: Equatable, Sendable, EnvoyEncodable {
        /// The endpoint address.
        public var address: SocketAddress
        /// `load_balancing_weight`; nil is 1.
        public var weight: UInt32?
        /// `endpoint.hostname` (read from Envoy files).
        public var hostname: String?

        /// An endpoint.
        public init(address: SocketAddress, weight: UInt32? = nil, hostname: String? = nil) {
            self.address = address
            self.weight = weight
            self.hostname = hostname
        }

        /// The Envoy v3 JSON form of this value.
        public var json: JSON {
            var o = JSONObject()
            var e: JSONObject = ["address": address.json]
            e.set("hostname", hostname.map(JSON.string))
            o["endpoint"] = .object(e)
            o.set("load_balancing_weight", weight.map { JSON.integer($0) })
            return .object(o)
        }
    }

    /// `cluster_name`.
    public var clusterName: String
    /// The endpoints, of every `LocalityLbEndpoints` in order (xdsc writes one locality).
    public var endpoints: [Endpoint]
    /// Where it came from (not serialised).
    public var source: SourceSpan?

    /// A load assignment.
    public init(clusterName: String, endpoints: [Endpoint], source: SourceSpan? = nil) {
        self.clusterName = clusterName
        self.endpoints = endpoints
        self.source = source
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        .object([
            "cluster_name": .string(clusterName),
            "endpoints": .array([.object(["lb_endpoints": .array(endpoints.map(\.json))])]),
        ])
    }
}

/// `envoy.config.core.v3.HealthCheck`.
public struct HealthCheck: Equatable, Sendable, EnvoyEncodable {
    /// `envoy.type.v3.CodecClientType`: the protocol an HTTP health check speaks.
    public enum CodecClientType: String, Sendable {
        /// `HTTP1`, Envoy's default (not written).
        case http1 = "HTTP1"
        /// `HTTP2`, for services that only speak HTTP/2 (h2c or h2 over TLS).
        case http2 = "HTTP2"
    }

    /// The `health_checker` oneof.
    public enum Kind: Equatable, Sendable {
        /// `http_health_check: {path, codec_client_type}`.
        case http(path: String, codec: CodecClientType = .http1)
        /// `tcp_health_check: {}` (connect only).
        case tcp
        /// `grpc_health_check: {service_name}`.
        case grpc(serviceName: String?)
    }

    /// `timeout` (required by Envoy).
    public var timeout: EnvoyDuration
    /// `interval` (required by Envoy).
    public var interval: EnvoyDuration
    /// `unhealthy_threshold` (required by Envoy).
    public var unhealthyThreshold: UInt32
    /// `healthy_threshold` (required by Envoy).
    public var healthyThreshold: UInt32
    /// The checker.
    public var kind: Kind
    /// `tcp_health_check.send`: written once connected.
    public var tcpSend: HealthCheckPayload?
    /// `tcp_health_check.receive`: the check passes once these arrived, in order.
    public var tcpReceive: [HealthCheckPayload] = []
    /// `http_health_check.expected_statuses` (`[start, end)` ranges); empty is 200 only.
    public var expectedStatuses: [Range<Int>] = []
    /// `http_health_check.retriable_statuses`: a status outside the expected ones but in
    /// these counts towards `unhealthy_threshold` like a network failure.
    public var retriableStatuses: [Range<Int>] = []
    /// `http_health_check.host` (nil: the cluster name).
    public var httpHost: String?
    /// `grpc_health_check.authority` (nil: the cluster name).
    public var grpcAuthority: String?
    /// `reuse_connection` (Envoy's default true): a check's connection is kept for the next.
    public var reuseConnection = true

    /// A health check.
    public init(timeout: EnvoyDuration, interval: EnvoyDuration, unhealthyThreshold: UInt32, healthyThreshold: UInt32, kind: Kind) {
        self.timeout = timeout
        self.interval = interval
        self.unhealthyThreshold = unhealthyThreshold
        self.healthyThreshold = healthyThreshold
        self.kind = kind
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o["timeout"] = timeout.json
        o["interval"] = interval.json
        o["unhealthy_threshold"] = .integer(unhealthyThreshold)
        o["healthy_threshold"] = .integer(healthyThreshold)
        if !reuseConnection { o["reuse_connection"] = .bool(false) }
        switch kind {
        case .http(let path, let codec):
            var h: JSONObject = ["path": .string(path)]
            h.set("host", httpHost.map(JSON.string))
            if codec != .http1 { h["codec_client_type"] = .string(codec.rawValue) }
            func ranges(_ rs: [Range<Int>]) -> JSON {
                .array(rs.map { .object(["start": .integer($0.lowerBound), "end": .integer($0.upperBound)]) })
            }
            if !expectedStatuses.isEmpty { h["expected_statuses"] = ranges(expectedStatuses) }
            if !retriableStatuses.isEmpty { h["retriable_statuses"] = ranges(retriableStatuses) }
            o["http_health_check"] = .object(h)
        case .tcp:
            var t = JSONObject()
            t.set("send", tcpSend)
            t.setList("receive", tcpReceive)
            o["tcp_health_check"] = .object(t)
        case .grpc(let service):
            var g = JSONObject()
            g.set("service_name", service.map(JSON.string))
            g.set("authority", grpcAuthority.map(JSON.string))
            o["grpc_health_check"] = .object(g)
        }
        return .object(o)
    }
}

/// `envoy.config.cluster.v3.CircuitBreakers.Thresholds` of one priority.
public struct CircuitBreakerThresholds: Equatable, Sendable, EnvoyEncodable {
    /// `max_connections`.
    public var maxConnections: UInt32?
    /// `max_pending_requests`.
    public var maxPendingRequests: UInt32?
    /// `max_requests`.
    public var maxRequests: UInt32?
    /// `max_retries`.
    public var maxRetries: UInt32?

    /// Circuit breaker thresholds.
    public init(maxConnections: UInt32? = nil, maxPendingRequests: UInt32? = nil, maxRequests: UInt32? = nil, maxRetries: UInt32? = nil) {
        self.maxConnections = maxConnections
        self.maxPendingRequests = maxPendingRequests
        self.maxRequests = maxRequests
        self.maxRetries = maxRetries
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("max_connections", maxConnections.map { JSON.integer($0) })
        o.set("max_pending_requests", maxPendingRequests.map { JSON.integer($0) })
        o.set("max_requests", maxRequests.map { JSON.integer($0) })
        o.set("max_retries", maxRetries.map { JSON.integer($0) })
        return .object(o)
    }
}

/// `envoy.config.cluster.v3.Cluster.RingHashLbConfig`.
public struct RingHashLbConfig: Equatable, Sendable, EnvoyEncodable {
    /// `hash_function`.
    public enum HashFunction: String, Sendable {
        case xxHash = "XX_HASH"
        case murmurHash2 = "MURMUR_HASH_2"
    }

    /// `minimum_ring_size`; nil is Envoy's 1024.
    public var minimumRingSize: UInt64?
    /// `maximum_ring_size`; nil is Envoy's 8M.
    public var maximumRingSize: UInt64?
    /// `hash_function`.
    public var hashFunction: HashFunction

    /// Ring hash settings.
    public init(minimumRingSize: UInt64? = nil, maximumRingSize: UInt64? = nil, hashFunction: HashFunction = .xxHash) {
        self.minimumRingSize = minimumRingSize
        self.maximumRingSize = maximumRingSize
        self.hashFunction = hashFunction
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        o.set("minimum_ring_size", minimumRingSize.map { JSON.integer($0) })
        o.set("maximum_ring_size", maximumRingSize.map { JSON.integer($0) })
        if hashFunction != .xxHash { o["hash_function"] = .string(hashFunction.rawValue) }
        return .object(o)
    }
}

/// `envoy.config.cluster.v3.OutlierDetection`. Fields left nil take Envoy's defaults
/// (outlier_detection_impl.h `DEFAULT_*`), which the proxy applies.
public struct OutlierDetection: Equatable, Sendable, EnvoyEncodable {
    /// `consecutive_5xx`.
    public var consecutive5xx: UInt32?
    /// `interval`.
    public var interval: EnvoyDuration?
    /// `base_ejection_time`.
    public var baseEjectionTime: EnvoyDuration?
    /// `max_ejection_percent`.
    public var maxEjectionPercent: UInt32?
    /// `enforcing_consecutive_5xx` (percent).
    public var enforcingConsecutive5xx: UInt32?
    /// `consecutive_gateway_failure`.
    public var consecutiveGatewayFailure: UInt32?
    /// `enforcing_consecutive_gateway_failure` (percent).
    public var enforcingConsecutiveGatewayFailure: UInt32?
    /// `split_external_local_origin_errors`.
    public var splitExternalLocalOriginErrors: Bool?
    /// `consecutive_local_origin_failure`.
    public var consecutiveLocalOriginFailure: UInt32?
    /// `enforcing_consecutive_local_origin_failure` (percent).
    public var enforcingConsecutiveLocalOriginFailure: UInt32?
    /// `max_ejection_time`.
    public var maxEjectionTime: EnvoyDuration?
    /// `max_ejection_time_jitter`.
    public var maxEjectionTimeJitter: EnvoyDuration?
    /// `always_eject_one_host`.
    public var alwaysEjectOneHost: Bool?
    /// `successful_active_health_check_uneject_host`.
    public var successfulActiveHealthCheckUnejectHost: Bool?
    /// `enforcing_success_rate` (percent).
    public var enforcingSuccessRate: UInt32?
    /// `success_rate_minimum_hosts`.
    public var successRateMinimumHosts: UInt32?
    /// `success_rate_request_volume`.
    public var successRateRequestVolume: UInt32?
    /// `success_rate_stdev_factor` (thousandths).
    public var successRateStdevFactor: UInt32?
    /// `enforcing_local_origin_success_rate` (percent).
    public var enforcingLocalOriginSuccessRate: UInt32?
    /// `failure_percentage_threshold`.
    public var failurePercentageThreshold: UInt32?
    /// `enforcing_failure_percentage` (percent).
    public var enforcingFailurePercentage: UInt32?
    /// `enforcing_failure_percentage_local_origin` (percent).
    public var enforcingFailurePercentageLocalOrigin: UInt32?
    /// `failure_percentage_minimum_hosts`.
    public var failurePercentageMinimumHosts: UInt32?
    /// `failure_percentage_request_volume`.
    public var failurePercentageRequestVolume: UInt32?

    /// Outlier detection settings.
    public init(
        consecutive5xx: UInt32? = nil, interval: EnvoyDuration? = nil, baseEjectionTime: EnvoyDuration? = nil,
        maxEjectionPercent: UInt32? = nil
    ) {
        self.consecutive5xx = consecutive5xx
        self.interval = interval
        self.baseEjectionTime = baseEjectionTime
        self.maxEjectionPercent = maxEjectionPercent
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        var o = JSONObject()
        func int(_ key: String, _ v: UInt32?) { o.set(key, v.map { JSON.integer($0) }) }
        int("consecutive_5xx", consecutive5xx)
        o.set("interval", interval)
        o.set("base_ejection_time", baseEjectionTime)
        int("max_ejection_percent", maxEjectionPercent)
        int("enforcing_consecutive_5xx", enforcingConsecutive5xx)
        int("enforcing_success_rate", enforcingSuccessRate)
        int("success_rate_minimum_hosts", successRateMinimumHosts)
        int("success_rate_request_volume", successRateRequestVolume)
        int("success_rate_stdev_factor", successRateStdevFactor)
        int("consecutive_gateway_failure", consecutiveGatewayFailure)
        int("enforcing_consecutive_gateway_failure", enforcingConsecutiveGatewayFailure)
        o.set("split_external_local_origin_errors", splitExternalLocalOriginErrors.map(JSON.bool))
        int("consecutive_local_origin_failure", consecutiveLocalOriginFailure)
        int("enforcing_consecutive_local_origin_failure", enforcingConsecutiveLocalOriginFailure)
        int("enforcing_local_origin_success_rate", enforcingLocalOriginSuccessRate)
        int("failure_percentage_threshold", failurePercentageThreshold)
        int("enforcing_failure_percentage", enforcingFailurePercentage)
        int("enforcing_failure_percentage_local_origin", enforcingFailurePercentageLocalOrigin)
        int("failure_percentage_minimum_hosts", failurePercentageMinimumHosts)
        int("failure_percentage_request_volume", failurePercentageRequestVolume)
        o.set("max_ejection_time", maxEjectionTime)
        o.set("successful_active_health_check_uneject_host", successfulActiveHealthCheckUnejectHost.map(JSON.bool))
        o.set("max_ejection_time_jitter", maxEjectionTimeJitter)
        o.set("always_eject_one_host", alwaysEjectOneHost.map(JSON.bool))
        return .object(o)
    }
}

/// `envoy.config.core.v3.HealthCheck.Payload`: `text` (hex) or `binary` bytes.
public enum HealthCheckPayload: Equatable, Sendable, EnvoyEncodable {
    /// Hex digits, as written.
    case text(String)
    /// The bytes (base64 in JSON).
    case binary([UInt8])

    /// The bytes; nil for `text` that is not an even number of hex digits (Envoy refuses
    /// it: `invalid hex string`).
    public var bytes: [UInt8]? {
        switch self {
        case .binary(let b): return b
        case .text(let hex):
            let digits = Array(hex.utf8)
            guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
            func value(_ c: UInt8) -> UInt8? {
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
                default: return nil
                }
            }
            var out: [UInt8] = []
            out.reserveCapacity(digits.count / 2)
            for i in stride(from: 0, to: digits.count, by: 2) {
                guard let hi = value(digits[i]), let lo = value(digits[i + 1]) else { return nil }
                out.append(hi << 4 | lo)
            }
            return out
        }
    }

    /// The Envoy v3 JSON form of this value.
    public var json: JSON {
        switch self {
        case .text(let hex): return .object(["text": .string(hex)])
        case .binary(let b): return .object(["binary": .string(Self.base64(b))])
        }
    }

    /// Standard base64 with padding.
    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i]
            let b1: UInt8 = n > 1 ? bytes[i + 1] : 0
            let b2: UInt8 = n > 2 ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x3) << 4 | b1 >> 4)])
            out.append(n > 1 ? alphabet[Int((b1 & 0xF) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
