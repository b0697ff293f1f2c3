import XDSCDiagnostics

// The policy IR: what lowering makes of the policy YAML, before anything is Envoy.
//
// Naming: every IR type that models a proxy element (admin, listener, host, route and its
// parts, service and its parts) carries the prefix `Policy` -- `PolicyListener`, `PolicyHost`,
// `PolicyRoute`, `PolicyRouteMatch`, `PolicyRouteAction`, `PolicyService`, `PolicyEndpoint`,
// `PolicyRetryPolicy`... -- so that it never shares a name with (or reads like) a type of
// the Envoy model in XDSCEnvoy, and no module qualifier is needed where both are in scope.
// Types that exist only in the language (`Located`, `Resolved`, `Provenance`, `Percent`,
// `EffectivePolicy`, `ResolvedHeaderOp`, `RetrySetting`...) keep their plain names.

/// A value together with the source range it was read from.
public struct Located<T> {
    public var value: T
    public var span: SourceSpan

    public init(_ value: T, _ span: SourceSpan) {
        self.value = value
        self.span = span
    }
}

extension Located: Sendable where T: Sendable {}
extension Located: Equatable where T: Equatable {}
extension Located: Hashable where T: Hashable {}

/// A non-negative length of time, kept exactly in milliseconds.
public struct PolicyDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> PolicyDuration { PolicyDuration(milliseconds: s * 1000) }
    public static func < (a: PolicyDuration, b: PolicyDuration) -> Bool { a.milliseconds < b.milliseconds }

    /// The shortest policy spelling: `1m30s`, `250ms`, `0s`.
    public var description: String {
        if milliseconds == 0 { return "0s" }
        var rest = milliseconds
        var out = ""
        for (unit, size) in [("h", Int64(3_600_000)), ("m", 60_000), ("s", 1000), ("ms", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }
}

/// A share of requests in 0..100 percent, kept exactly in millionths of all requests.
public struct Percent: Hashable, Sendable {
    /// Parts per million (100% = 1,000,000).
    public var perMillion: Int
    public init(perMillion: Int) { self.perMillion = perMillion }
    public static let hundred = Percent(perMillion: 1_000_000)
}

/// Where a resolved setting came from, for `explain` and for diagnostics.
public struct Provenance: Hashable, Sendable {
    public enum Level: String, Sendable, Comparable {
        case builtin, defaults, listener, host, route, service
        private var rank: Int { [.builtin, .defaults, .listener, .host, .route, .service].firstIndex(of: self)! }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }
    public var level: Level
    /// Where the winning value is written; nil for built-in defaults.
    public var span: SourceSpan?

    public init(_ level: Level, _ span: SourceSpan?) {
        self.level = level
        self.span = span
    }
    public static let builtin = Provenance(.builtin, nil)
}

/// A setting after inheritance, with the place its value came from.
public struct Resolved<T> {
    public var value: T
    public var provenance: Provenance
    public init(_ value: T, _ provenance: Provenance) {
        self.value = value
        self.provenance = provenance
    }
}

extension Resolved: Sendable where T: Sendable {}
extension Resolved: Equatable where T: Equatable {}

// MARK: - The policy

/// The whole policy: every input file merged, defaults and inheritance resolved.
public struct Policy: Sendable {
    /// Input files in the order read (sorted by path within each directory argument).
    public var files: [String] = []
    public var node: NodeIdentity?
    public var admin: PolicyAdmin?
    /// The `defaults` block as written (inherited by every route).
    public var defaults = PolicySettings()
    public var services: [PolicyService] = []
    public var listeners: [PolicyListener] = []
    /// Every service name routes mention, including routes that could not be lowered.
    public var referencedServiceNames = Set<String>()

    public init() {}

    public func service(named name: String) -> PolicyService? { services.first { $0.name.value == name } }
}

public struct NodeIdentity: Sendable {
    public var id: Located<String>?
    public var cluster: Located<String>?
    public var span: SourceSpan
}

public struct PolicyAdmin: Sendable {
    public var address: Located<PolicySocketAddress>
    public var span: SourceSpan
}

/// An IP literal and a port.
public struct PolicySocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in canonical text form (IPv6 without brackets, lower-case, compressed).
    public var ip: String
    public var port: Int
    public var isIPv6: Bool { ip.contains(":") }

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }

    public var description: String { isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
}

// MARK: Services

public enum Discovery: String, Sendable, CaseIterable {
    case `static`
    case strictDNS = "strict_dns"
    case logicalDNS = "logical_dns"
}

public enum ServiceProtocol: String, Sendable, CaseIterable {
    case http1, http2, grpc
    /// gRPC needs HTTP/2 to the upstream.
    public var usesHTTP2: Bool { self != .http1 }
}

public enum LoadBalancer: String, Sendable, CaseIterable {
    case roundRobin = "round_robin"
    case leastRequest = "least_request"
    case random
    case ringHash = "ring_hash"
    case maglev
    /// Load balancers that use a route's hash policy (`hash_on`).
    public var usesHash: Bool { self == .ringHash || self == .maglev }
}

/// An upstream service, lowered to an Envoy cluster.
public struct PolicyService: Sendable {
    public var name: Located<String>
    /// The service's mapping.
    public var span: SourceSpan
    public var endpoints: [PolicyEndpoint]
    /// Written or inferred (static when every endpoint is an IP literal, else strict_dns).
    public var discovery: Resolved<Discovery>
    public var protocolKind: Resolved<ServiceProtocol>
    public var lb: Resolved<LoadBalancer>
    public var connectTimeout: Resolved<PolicyDuration>
    public var tls: PolicyUpstreamTLS?
    public var healthCheck: PolicyHealthCheck?
    public var circuitBreaker: PolicyCircuitBreaker?
    public var outlierDetection: PolicyOutlierDetection?
}

public struct PolicyEndpoint: Sendable {
    /// An IP literal (canonical form) or a DNS name.
    public var host: String
    public var port: Int
    public var weight: Located<Int>?
    public var isIP: Bool
    public var span: SourceSpan
}

public struct PolicyUpstreamTLS: Sendable {
    public var sni: Located<String>?
    public var caFile: Located<String>?
    public var verifySAN: [Located<String>]
    public var span: SourceSpan
}

public struct PolicyHealthCheck: Sendable {
    public enum Kind: Sendable {
        case http(path: Located<String>)
        case tcp
        case grpc(service: Located<String>?)
    }
    public var kind: Kind
    public var interval: Resolved<PolicyDuration>
    public var timeout: Resolved<PolicyDuration>
    public var healthyThreshold: Resolved<Int>
    public var unhealthyThreshold: Resolved<Int>
    public var span: SourceSpan

    public static let defaultInterval = PolicyDuration.seconds(10)
    public static let defaultTimeout = PolicyDuration.seconds(1)
    public static let defaultHealthyThreshold = 2
    public static let defaultUnhealthyThreshold = 3
}

public struct PolicyCircuitBreaker: Sendable {
    public var maxConnections: Located<Int>?
    public var maxPendingRequests: Located<Int>?
    public var maxRequests: Located<Int>?
    public var maxRetries: Located<Int>?
    public var span: SourceSpan
}

public struct PolicyOutlierDetection: Sendable {
    public var consecutive5xx: Located<Int>?
    public var interval: Located<PolicyDuration>?
    public var baseEjectionTime: Located<PolicyDuration>?
    public var maxEjectionPercent: Located<Int>?
    public var span: SourceSpan
}

// MARK: Listeners, hosts, routes

public struct PolicyListener: Sendable {
    public var name: Located<String>
    public var span: SourceSpan
    /// Port 0 only when the written address was invalid (the policy then has errors).
    public var address: Located<PolicySocketAddress>
    public var tls: PolicyDownstreamTLS?
    public var accessLog: Located<PolicyAccessLog>?
    public var settings: PolicySettings
    public var hosts: [PolicyHost]
}

public struct PolicyDownstreamTLS: Sendable {
    public var certFile: Located<String>
    public var keyFile: Located<String>
    public var span: SourceSpan
}

public enum PolicyAccessLog: Hashable, Sendable {
    case stdout, stderr
    case file(String)
}

/// A virtual host: a set of domains and its ordered routes.
public struct PolicyHost: Sendable {
    public var name: Located<String>
    public var span: SourceSpan
    public var domains: [Located<String>]
    public var settings: PolicySettings
    public var routes: [PolicyRoute]
}

public struct PolicyRoute: Sendable {
    /// Position in the host's list, from 0.
    public var index: Int
    public var name: Located<String>?
    /// The route's mapping (its list item).
    public var span: SourceSpan
    public var match: PolicyRouteMatch
    public var action: PolicyRouteAction
    public var rewrite: PolicyRewrite?
    public var mirror: PolicyMirror?
    public var hashOn: Located<HashOn>?
    public var websocket: Located<Bool>?
    public var fault: PolicyFault?
    /// Policy keys written on the route itself.
    public var settings: PolicySettings
    /// Every policy key after inheritance (defaults -> listener -> host -> route).
    public var effective: EffectivePolicy

    /// `name`, or `#N` (1-based) for unnamed routes, for messages.
    public var displayName: String { name.map { "`\($0.value)`" } ?? "#\(index + 1)" }
}

public enum PolicyPathMatch: Hashable, Sendable {
    case prefix(String)
    case exact(String)
    case regex(String)
}

public struct PolicyRouteMatch: Sendable {
    public var span: SourceSpan
    public var path: Located<PolicyPathMatch>
    /// Written `case_sensitive`; Envoy's default is true.
    public var caseSensitive: Located<Bool>?
    public var methods: [Located<String>]
    public var headers: [PolicyFieldMatcher]
    public var query: [PolicyFieldMatcher]
    public var grpc: Located<Bool>?

    public var isCaseSensitive: Bool { caseSensitive?.value ?? true }
}

/// A header or query-parameter condition.
public struct PolicyFieldMatcher: Sendable {
    public enum Kind: Hashable, Sendable {
        case exact(String)
        case prefix(String)
        case suffix(String)
        case contains(String)
        case regex(String)
        case present(Bool)
    }
    /// Header names are lower-cased; query names are kept as written.
    public var name: Located<String>
    public var kind: Located<Kind>
    public var invert: Bool
    public var span: SourceSpan
}

public enum PolicyRouteAction: Sendable {
    case service(Located<String>)
    case split([PolicyWeightedTarget])
    case redirect(PolicyRedirect)
    case respond(PolicyDirectResponse)

    /// Every service the action sends traffic to.
    public var services: [Located<String>] {
        switch self {
        case .service(let s): [s]
        case .split(let targets): targets.map(\.service)
        case .redirect, .respond: []
        }
    }
}

public struct PolicyWeightedTarget: Sendable {
    public var service: Located<String>
    public var weight: Located<Int>
}

public struct PolicyRedirect: Sendable {
    public enum PathChange: Hashable, Sendable {
        case path(String)
        case prefix(String)
    }
    public var scheme: Located<String>?
    public var host: Located<String>?
    public var port: Located<Int>?
    public var path: Located<PathChange>?
    /// 301 unless written.
    public var code: Located<Int>?
    public var stripQuery: Located<Bool>?
    public var span: SourceSpan
}

public struct PolicyDirectResponse: Sendable {
    public var status: Located<Int>
    public var body: Located<String>?
    public var span: SourceSpan
}

public struct PolicyRewrite: Sendable {
    public var prefix: Located<String>?
    public var regex: (pattern: Located<String>, substitution: Located<String>)?
    public var host: Located<String>?
    public var span: SourceSpan
}

public struct PolicyMirror: Sendable {
    public var service: Located<String>
    public var percent: Located<Percent>?
    public var span: SourceSpan
}

public enum HashOn: Hashable, Sendable {
    case header(String)
    case cookie(String)
    case sourceIP
}

public struct PolicyFault: Sendable {
    public var delay: (fixed: Located<PolicyDuration>, percent: Located<Percent>?)?
    public var abort: (status: Located<Int>, percent: Located<Percent>?)?
    public var span: SourceSpan
}

// MARK: Policy keys

/// The inheritable keys, as written at one level.
public struct PolicySettings: Sendable {
    public var timeout: Located<PolicyDuration>?
    public var idleTimeout: Located<PolicyDuration>?
    public var retries: Located<RetrySetting>?
    public var requestHeaders: PolicyHeaderOps?
    public var responseHeaders: PolicyHeaderOps?
    public var cors: Located<PolicyCORS>?
    public var rateLimit: Located<PolicyRateLimit>?
    /// Only in `defaults`: the services' connect timeout.
    public var connectTimeout: Located<PolicyDuration>?

    public init() {}
}

public enum RetrySetting: Sendable {
    case disabled
    case policy(PolicyRetryPolicy)
}

public struct PolicyRetryPolicy: Sendable {
    public var attempts: Located<Int>?
    /// The conditions of `retry_on` (or its older spelling `on`), each once, in written order.
    public var on: [Located<String>]
    public var perTryTimeout: Located<PolicyDuration>?
    public var statusCodes: [Located<Int>]

    /// Envoy's `num_retries` default.
    public static let defaultAttempts = 1
    /// Used when `retry_on` is not written: conditions where the request never reached the
    /// upstream application, so a retry is always safe.
    public static let defaultOn = ["connect-failure", "refused-stream"]
    public static let conditions = [
        "5xx", "gateway-error", "reset", "connect-failure", "refused-stream", "retriable-4xx",
        "retriable-status-codes", "unavailable", "cancelled", "deadline-exceeded", "resource-exhausted",
    ]
}

public struct PolicyHeaderOps: Sendable {
    public var add: [(name: Located<String>, value: Located<String>)] = []
    public var set: [(name: Located<String>, value: Located<String>)] = []
    public var remove: [Located<String>] = []
    public var span: SourceSpan
}

public struct PolicyCORS: Sendable {
    public var allowOrigins: [Located<String>] = []
    public var allowMethods: [Located<String>] = []
    public var allowHeaders: [Located<String>] = []
    public var exposeHeaders: [Located<String>] = []
    public var maxAge: Located<PolicyDuration>?
    public var allowCredentials: Located<Bool>?
}

public struct PolicyRateLimit: Sendable {
    public var requests: Located<Int>
    public var per: Located<PolicyDuration>
}

/// A route's policy after inheritance: each value is the nearest one written
/// (route over host over listener over defaults), with where it came from.
public struct EffectivePolicy: Sendable {
    public var timeout: Resolved<PolicyDuration>?
    public var idleTimeout: Resolved<PolicyDuration>?
    public var retries: Resolved<RetrySetting>?
    public var requestHeaders: [ResolvedHeaderOp] = []
    public var responseHeaders: [ResolvedHeaderOp] = []
    public var cors: Resolved<PolicyCORS>?
    public var rateLimit: Resolved<PolicyRateLimit>?

    public init() {}

    /// Envoy's route timeout when none is written.
    public static let envoyDefaultTimeout = PolicyDuration.seconds(15)
}

/// One header operation that survived inheritance (the nearest level wins per header).
public struct ResolvedHeaderOp: Sendable {
    public enum Operation: Hashable, Sendable {
        case add(String)
        case set(String)
        case remove
    }
    /// Lower-cased header name.
    public var name: String
    public var operation: Operation
    public var provenance: Provenance
}
