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
    /// The value.
    public var value: T
    /// Where this was written.
    public var span: SourceSpan

    /// Pairs `value` with the span it was read from.
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
    /// The length in milliseconds.
    public var milliseconds: Int64

    /// A duration of `milliseconds`.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    /// A duration of `s` whole seconds.
    public static func seconds(_ s: Int64) -> PolicyDuration { PolicyDuration(milliseconds: s * 1000) }
    /// Whether `a` sorts before `b`.
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
    /// A percentage of `perMillion` millionths.
    public init(perMillion: Int) { self.perMillion = perMillion }
    /// One hundred percent.
    public static let hundred = Percent(perMillion: 1_000_000)
}

/// Where a resolved setting came from, for `explain` and for diagnostics.
public struct Provenance: Hashable, Sendable {
    /// The levels a setting can come from, from the built-in default to the most specific.
    public enum Level: String, Sendable, Comparable {
        case builtin, defaults, listener, host, route, service
        private var rank: Int { [.builtin, .defaults, .listener, .host, .route, .service].firstIndex(of: self)! }
        /// Whether `a` sorts before `b`.
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }
    /// The level the value was set at.
    public var level: Level
    /// Where the winning value is written; nil for built-in defaults.
    public var span: SourceSpan?

    /// A provenance at `level`, written at `span` (nil for built-in values).
    public init(_ level: Level, _ span: SourceSpan?) {
        self.level = level
        self.span = span
    }
    /// The built-in default: not written anywhere.
    public static let builtin = Provenance(.builtin, nil)
}

/// A setting after inheritance, with the place its value came from.
public struct Resolved<T> {
    /// The value in effect.
    public var value: T
    /// Where the value came from.
    public var provenance: Provenance
    /// Pairs `value` with where it came from.
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
    /// The `node` section, when written.
    public var node: NodeIdentity?
    /// The `admin` section, when written.
    public var admin: PolicyAdmin?
    /// The `defaults` block as written (inherited by every route).
    public var defaults = PolicySettings()
    /// The services, in the order written.
    public var services: [PolicyService] = []
    /// The listeners, in the order written.
    public var listeners: [PolicyListener] = []
    /// Every service name routes mention, including routes that could not be lowered.
    public var referencedServiceNames = Set<String>()
    /// The top-level sections (`listeners`, `services`) some file wrote under a misspelled key
    /// (`listners:`): reported as `unknown-field` with a did-you-mean, and not read. Passes
    /// whose findings would only follow from the missing section (every service unused, every
    /// route's service unknown) hold them back.
    public var droppedSections = Set<String>()

    /// An empty policy.
    public init() {}

    /// The service called `name`, if there is one.
    public func service(named name: String) -> PolicyService? { services.first { $0.name.value == name } }
}

/// The `node` section: the identity Envoy reports to a control plane.
public struct NodeIdentity: Sendable {
    /// The `id` value, where written; nil when not set.
    public var id: Located<String>?
    /// The `cluster` value, where written; nil when not set.
    public var cluster: Located<String>?
    /// Where this was written.
    public var span: SourceSpan
}

/// The `admin` section: where Envoy's admin interface listens.
public struct PolicyAdmin: Sendable {
    /// The `address` value, where written.
    public var address: Located<PolicySocketAddress>
    /// Where this was written.
    public var span: SourceSpan
}

/// An IP literal and a port.
public struct PolicySocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in canonical text form (IPv6 without brackets, lower-case, compressed).
    public var ip: String
    /// The port number.
    public var port: Int
    /// Whether the address is IPv6.
    public var isIPv6: Bool { ip.contains(":") }

    /// An address of `ip` and `port`.
    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }

    /// The text form used in messages.
    public var description: String { isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }
}

// MARK: Services

/// How a service's endpoints are found (`discovery`).
public enum Discovery: String, Sendable, CaseIterable {
    case `static`
    case strictDNS = "strict_dns"
    case logicalDNS = "logical_dns"
}

/// The protocol a service speaks (`protocol`).
public enum ServiceProtocol: String, Sendable, CaseIterable {
    case http1, http2, grpc
    /// gRPC needs HTTP/2 to the upstream.
    public var usesHTTP2: Bool { self != .http1 }
}

/// How a service spreads requests over its endpoints (`lb`).
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
    /// The `name` value, where written.
    public var name: Located<String>
    /// The service's mapping.
    public var span: SourceSpan
    /// The endpoints, in the order written.
    public var endpoints: [PolicyEndpoint]
    /// Written or inferred (static when every endpoint is an IP literal, else strict_dns).
    public var discovery: Resolved<Discovery>
    /// The `protocol` in effect and the level it came from.
    public var protocolKind: Resolved<ServiceProtocol>
    /// The `lb` in effect and the level it came from.
    public var lb: Resolved<LoadBalancer>
    /// The `connect_timeout` in effect and the level it came from.
    public var connectTimeout: Resolved<PolicyDuration>
    /// TLS to the endpoints, when configured.
    public var tls: PolicyUpstreamTLS?
    /// The active health check, when configured.
    public var healthCheck: PolicyHealthCheck?
    /// The circuit breaker limits, when configured.
    public var circuitBreaker: PolicyCircuitBreaker?
    /// Outlier detection, when configured.
    public var outlierDetection: PolicyOutlierDetection?
}

/// One endpoint of a service: a host (name or IP) and port.
public struct PolicyEndpoint: Sendable {
    /// An IP literal (canonical form) or a DNS name.
    public var host: String
    /// The port number.
    public var port: Int
    /// The `weight` value, where written; nil when not set.
    public var weight: Located<Int>?
    /// Whether the host is an IP address rather than a name.
    public var isIP: Bool
    /// Where this was written.
    public var span: SourceSpan
}

/// A service's `tls` section: TLS from Envoy to the endpoints.
public struct PolicyUpstreamTLS: Sendable {
    /// The `sni` value, where written; nil when not set.
    public var sni: Located<String>?
    /// The `ca_file` value, where written; nil when not set.
    public var caFile: Located<String>?
    /// The `verify_san` values, each where written.
    public var verifySAN: [Located<String>]
    /// Where this was written.
    public var span: SourceSpan
}

/// A service's `health_check` section.
public struct PolicyHealthCheck: Sendable {
    /// What the health check sends.
    public enum Kind: Sendable {
        case http(path: Located<String>)
        case tcp
        case grpc(service: Located<String>?)
    }
    /// What the health check sends.
    public var kind: Kind
    /// The `interval` in effect and the level it came from.
    public var interval: Resolved<PolicyDuration>
    /// The `timeout` in effect and the level it came from.
    public var timeout: Resolved<PolicyDuration>
    /// The `healthy_threshold` in effect and the level it came from.
    public var healthyThreshold: Resolved<Int>
    /// The `unhealthy_threshold` in effect and the level it came from.
    public var unhealthyThreshold: Resolved<Int>
    /// Where this was written.
    public var span: SourceSpan

    /// The interval when none is written.
    public static let defaultInterval = PolicyDuration.seconds(10)
    /// The timeout when none is written.
    public static let defaultTimeout = PolicyDuration.seconds(1)
    /// The healthy threshold when none is written.
    public static let defaultHealthyThreshold = 2
    /// The unhealthy threshold when none is written.
    public static let defaultUnhealthyThreshold = 3
}

/// A service's `circuit_breaker` section.
public struct PolicyCircuitBreaker: Sendable {
    /// The `max_connections` value, where written; nil when not set.
    public var maxConnections: Located<Int>?
    /// The `max_pending_requests` value, where written; nil when not set.
    public var maxPendingRequests: Located<Int>?
    /// The `max_requests` value, where written; nil when not set.
    public var maxRequests: Located<Int>?
    /// The `max_retries` value, where written; nil when not set.
    public var maxRetries: Located<Int>?
    /// Where this was written.
    public var span: SourceSpan
}

/// A service's `outlier_detection` section.
public struct PolicyOutlierDetection: Sendable {
    /// The `consecutive_5xx` value, where written; nil when not set.
    public var consecutive5xx: Located<Int>?
    /// The `interval` value, where written; nil when not set.
    public var interval: Located<PolicyDuration>?
    /// The `base_ejection_time` value, where written; nil when not set.
    public var baseEjectionTime: Located<PolicyDuration>?
    /// The `max_ejection_percent` value, where written; nil when not set.
    public var maxEjectionPercent: Located<Int>?
    /// Where this was written.
    public var span: SourceSpan
}

// MARK: Listeners, hosts, routes

/// A listener: an address, optional TLS, and its virtual hosts.
public struct PolicyListener: Sendable {
    /// The `name` value, where written.
    public var name: Located<String>
    /// Where this was written.
    public var span: SourceSpan
    /// Port 0 only when the written address was invalid (the policy then has errors).
    public var address: Located<PolicySocketAddress>
    /// TLS termination, when configured.
    public var tls: PolicyDownstreamTLS?
    /// The `access_log` value, where written; nil when not set.
    public var accessLog: Located<PolicyAccessLog>?
    /// The policy keys written on the listener.
    public var settings: PolicySettings
    /// The virtual hosts, in the order written.
    public var hosts: [PolicyHost]
}

/// A listener's `tls` section: the certificate and key Envoy serves.
public struct PolicyDownstreamTLS: Sendable {
    /// The `cert_file` value, where written.
    public var certFile: Located<String>
    /// The `key_file` value, where written.
    public var keyFile: Located<String>
    /// Where this was written.
    public var span: SourceSpan
}

/// Where a listener writes its access log.
public enum PolicyAccessLog: Hashable, Sendable {
    case stdout, stderr
    case file(String)
}

/// A virtual host: a set of domains and its ordered routes.
public struct PolicyHost: Sendable {
    /// The `name` value, where written.
    public var name: Located<String>
    /// Where this was written.
    public var span: SourceSpan
    /// The `domains` values, each where written.
    public var domains: [Located<String>]
    /// The policy keys written on the host.
    public var settings: PolicySettings
    /// The routes, in the order written (the order Envoy tries them).
    public var routes: [PolicyRoute]
}

/// One route: a match, an action, and the route's own settings.
public struct PolicyRoute: Sendable {
    // Every field lives in one shared, copy-on-write storage: the passes, the Envoy lowering
    // and the route analysis copy routes often, and a copy of the fields one by one retained
    // each span's file name (dozens of reference counts per copy); now a copy is one.
    // Visible to inlined code (`@usableFromInline`): the readers below inline into the other
    // modules' passes, so a read borrows the field in place.
    @usableFromInline final class Storage: @unchecked Sendable {
        @usableFromInline var name: Located<String>?
        @usableFromInline var span: SourceSpan
        @usableFromInline var match: PolicyRouteMatch
        @usableFromInline var action: PolicyRouteAction
        // 32 bits, after the action (whose tail it fills): an `Int` first made the storage
        // 256 bytes, a size class above 248 (issue 13). No host has 2^31 routes.
        @usableFromInline var index32: Int32
        @usableFromInline var settings: PolicySettings
        @usableFromInline var effective: EffectivePolicy
        // The rare sections and keys live out of line, all in one box (never written to
        // after it is made, so copies share it): inline they were 750 of a route's bytes, for
        // every route, and a box each 40 (issue 13).
        fileprivate var rareBox: CopyOnWriteBox<Rare>?

        init(
            index: Int, name: Located<String>?, span: SourceSpan, match: PolicyRouteMatch, action: PolicyRouteAction,
            settings: PolicySettings, effective: EffectivePolicy
        ) {
            self.index32 = Int32(clamping: index)
            self.name = name
            self.span = span
            self.match = match
            self.action = action
            self.settings = settings
            self.effective = effective
        }

        func copy() -> Storage {
            let c = Storage(
                index: Int(index32), name: name, span: span, match: match, action: action, settings: settings, effective: effective)
            c.rareBox = rareBox
            return c
        }

        /// Replaces the rare values with `change` applied (a new box: copies share the old one).
        fileprivate func changeRare(_ change: (inout Rare) -> Void) {
            var r = rareBox?.value ?? Rare()
            change(&r)
            rareBox = r.isEmpty ? nil : CopyOnWriteBox(r)
        }
    }

    fileprivate struct Rare {
        var rewrite: PolicyRewrite?
        var mirror: PolicyMirror?
        var fault: PolicyFault?
        var hashOn: Located<HashOn>?
        var websocket: Located<Bool>?

        var isEmpty: Bool { rewrite == nil && mirror == nil && fault == nil && hashOn == nil && websocket == nil }
    }

    @usableFromInline var storage: Storage

    // The large fields are read through inlined `_read` accessors (a borrow of the storage's
    // field): a `get`, or a `_read` called across modules, copied the whole match or
    // effective policy, with a reference count per span, on every read (issue 13).

    /// The storage, made unique first (copy on write).
    private var unique: Storage {
        mutating get {
            if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
            return storage
        }
    }

    /// Position in the host's list as written, from 0 (routes dropped for an error before
    /// this one count).
    public var index: Int {
        @inlinable get { Int(storage.index32) }
        set { unique.index32 = Int32(clamping: newValue) }
    }
    /// The `name` value, where written; nil when not set.
    public var name: Located<String>? {
        @inlinable get { storage.name }
        set { unique.name = newValue }
    }
    /// The route's mapping (its list item).
    public var span: SourceSpan {
        @inlinable get { storage.span }
        set { unique.span = newValue }
    }
    /// What the route matches.
    public var match: PolicyRouteMatch {
        @inlinable _read { yield storage.match }
        set { unique.match = newValue }
    }
    /// What the route does with a matching request.
    public var action: PolicyRouteAction {
        @inlinable _read { yield storage.action }
        set { unique.action = newValue }
    }
    /// The `rewrite` section, when written.
    public var rewrite: PolicyRewrite? {
        get { storage.rareBox?.value.rewrite }
        set { unique.changeRare { $0.rewrite = newValue } }
    }
    /// The `mirror` section, when written.
    public var mirror: PolicyMirror? {
        get { storage.rareBox?.value.mirror }
        set { unique.changeRare { $0.mirror = newValue } }
    }
    /// The `hash_on` value, where written; nil when not set.
    public var hashOn: Located<HashOn>? {
        get { storage.rareBox?.value.hashOn }
        set { unique.changeRare { $0.hashOn = newValue } }
    }
    /// The `websocket` value, where written; nil when not set.
    public var websocket: Located<Bool>? {
        get { storage.rareBox?.value.websocket }
        set { unique.changeRare { $0.websocket = newValue } }
    }
    /// The `fault` section, when written.
    public var fault: PolicyFault? {
        get { storage.rareBox?.value.fault }
        set { unique.changeRare { $0.fault = newValue } }
    }
    /// Policy keys written on the route itself.
    public var settings: PolicySettings {
        @inlinable _read { yield storage.settings }
        set { unique.settings = newValue }
    }
    /// Every policy key after inheritance (defaults -> listener -> host -> route).
    public var effective: EffectivePolicy {
        @inlinable _read { yield storage.effective }
        set { unique.effective = newValue }
    }

    init(
        index: Int, name: Located<String>?, span: SourceSpan, match: PolicyRouteMatch, action: PolicyRouteAction,
        rewrite: PolicyRewrite?, mirror: PolicyMirror?, hashOn: Located<HashOn>?, websocket: Located<Bool>?, fault: PolicyFault?,
        settings: PolicySettings, effective: EffectivePolicy
    ) {
        storage = Storage(index: index, name: name, span: span, match: match, action: action, settings: settings, effective: effective)
        // Tested before the values are gathered: building `Rare` to ask copies all five.
        if rewrite == nil && mirror == nil && fault == nil && hashOn == nil && websocket == nil { return }
        storage.rareBox = CopyOnWriteBox(Rare(rewrite: rewrite, mirror: mirror, fault: fault, hashOn: hashOn, websocket: websocket))
    }

    /// `name`, or `#N` (1-based) for unnamed routes, for messages.
    public var displayName: String { name.map { "`\($0.value)`" } ?? "#\(index + 1)" }
}

/// How a route matches the path.
public enum PolicyPathMatch: Hashable, Sendable {
    case prefix(String)
    case exact(String)
    case regex(String)
}

/// A route's `match` section.
public struct PolicyRouteMatch: Sendable {
    /// Where this was written.
    public var span: SourceSpan
    /// The `path` value, where written.
    public var path: Located<PolicyPathMatch>
    /// The `methods` values, each where written.
    public var methods: [Located<String>]
    /// The header conditions, all required.
    public var headers: [PolicyFieldMatcher]
    // The rare keys out of line, in one box (none written: no box; replaced, never changed
    // in place): inline they were 96 of a match's bytes, and a box each 24 (issue 13).
    private var rareBox: CopyOnWriteBox<Rare>?

    private struct Rare {
        var query: [PolicyFieldMatcher] = []
        var caseSensitive: Located<Bool>?
        var grpc: Located<Bool>?

        var isEmpty: Bool { query.isEmpty && caseSensitive == nil && grpc == nil }
    }

    private mutating func changeRare(_ change: (inout Rare) -> Void) {
        var r = rareBox?.value ?? Rare()
        change(&r)
        rareBox = r.isEmpty ? nil : CopyOnWriteBox(r)
    }

    /// The query-parameter conditions, all required.
    public var query: [PolicyFieldMatcher] {
        get { rareBox?.value.query ?? [] }
        set { if !(newValue.isEmpty && rareBox == nil) { changeRare { $0.query = newValue } } }
    }
    /// Written `case_sensitive`; Envoy's default is true.
    public var caseSensitive: Located<Bool>? {
        get { rareBox?.value.caseSensitive }
        set { if !(newValue == nil && rareBox == nil) { changeRare { $0.caseSensitive = newValue } } }
    }
    /// The `grpc` value, where written; nil when not set.
    public var grpc: Located<Bool>? {
        get { rareBox?.value.grpc }
        set { if !(newValue == nil && rareBox == nil) { changeRare { $0.grpc = newValue } } }
    }

    /// A match written at `span`.
    public init(
        span: SourceSpan, path: Located<PolicyPathMatch>, caseSensitive: Located<Bool>?, methods: [Located<String>],
        headers: [PolicyFieldMatcher], query: [PolicyFieldMatcher], grpc: Located<Bool>?
    ) {
        self.span = span
        self.path = path
        self.methods = methods
        self.headers = headers
        self.rareBox =
            query.isEmpty && caseSensitive == nil && grpc == nil
            ? nil : CopyOnWriteBox(Rare(query: query, caseSensitive: caseSensitive, grpc: grpc))
    }

    /// Whether the path is compared case-sensitively (the default).
    public var isCaseSensitive: Bool { caseSensitive?.value ?? true }
}

/// A header or query-parameter condition.
public struct PolicyFieldMatcher: Sendable {
    /// How the value is compared.
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
    /// How the value is compared, where written.
    public var kind: Located<Kind>
    /// Whether the condition is inverted.
    public var invert: Bool
    /// Where this was written.
    public var span: SourceSpan
}

/// What a route does: forward to a service, split over services, redirect or respond.
public enum PolicyRouteAction: Sendable {
    case service(Located<String>)
    case split([PolicyWeightedTarget])
    // Boxed (`indirect`): inline, a redirect made every route's action 360 bytes.
    indirect case redirect(PolicyRedirect)
    indirect case respond(PolicyDirectResponse)

    /// Every service the action sends traffic to.
    public var services: [Located<String>] {
        switch self {
        case .service(let s): [s]
        case .split(let targets): targets.map(\.service)
        case .redirect, .respond: []
        }
    }
}

/// One service of a weighted split and its weight.
public struct PolicyWeightedTarget: Sendable {
    /// The `service` value, where written.
    public var service: Located<String>
    /// The `weight` value, where written.
    public var weight: Located<Int>
}

/// A route's `redirect` action.
public struct PolicyRedirect: Sendable {
    /// How the redirect changes the path.
    public enum PathChange: Hashable, Sendable {
        case path(String)
        case prefix(String)
    }
    /// The `scheme` value, where written; nil when not set.
    public var scheme: Located<String>?
    /// The `host` value, where written; nil when not set.
    public var host: Located<String>?
    /// The `port` value, where written; nil when not set.
    public var port: Located<Int>?
    /// The `path` value, where written; nil when not set.
    public var path: Located<PathChange>?
    /// 301 unless written.
    public var code: Located<Int>?
    /// The `strip_query` value, where written; nil when not set.
    public var stripQuery: Located<Bool>?
    /// Where this was written.
    public var span: SourceSpan
}

/// A route's `respond` action: a fixed status and body.
public struct PolicyDirectResponse: Sendable {
    /// The `status` value, where written.
    public var status: Located<Int>
    /// The `body` value, where written; nil when not set.
    public var body: Located<String>?
    /// Where this was written.
    public var span: SourceSpan
}

/// A route's `rewrite` section.
public struct PolicyRewrite: Sendable {
    /// The `prefix` value, where written; nil when not set.
    public var prefix: Located<String>?
    /// The regex rewrite of the path (pattern and substitution), when written.
    public var regex: (pattern: Located<String>, substitution: Located<String>)?
    /// The `host` value, where written; nil when not set.
    public var host: Located<String>?
    /// Where this was written.
    public var span: SourceSpan
}

/// A route's `mirror` section: a copy of the traffic sent to another service.
public struct PolicyMirror: Sendable {
    /// The `service` value, where written.
    public var service: Located<String>
    /// The `percent` value, where written; nil when not set.
    public var percent: Located<Percent>?
    /// Where this was written.
    public var span: SourceSpan
}

/// What a route's `hash_on` hashes for consistent load balancing.
public enum HashOn: Hashable, Sendable {
    case header(String)
    case cookie(String)
    case sourceIP
}

/// A route's `fault` section: injected delays and aborts.
public struct PolicyFault: Sendable {
    /// The injected delay and the share of requests it applies to, when written.
    public var delay: (fixed: Located<PolicyDuration>, percent: Located<Percent>?)?
    /// The injected abort status and the share of requests it applies to, when written.
    public var abort: (status: Located<Int>, percent: Located<Percent>?)?
    /// Where this was written.
    public var span: SourceSpan
}

// MARK: Policy keys

/// The inheritable keys, as written at one level.
public struct PolicySettings: Sendable {
    // Stored out of line and shared: most routes write none of these keys, and a large policy
    // has a hundred thousand routes (the values inline are 700 bytes). The rare large ones
    // are boxed once more, so a route that writes only `timeout` keeps 176 bytes, not 744
    // (issue 13). A boxed value is replaced, never changed in place: copies share it.
    struct Values {
        var timeout: Located<PolicyDuration>?
        var idleTimeout: Located<PolicyDuration>?
        var retries: CopyOnWriteBox<Located<RetrySetting>>?
        var requestHeaders: CopyOnWriteBox<PolicyHeaderOps>?
        var responseHeaders: CopyOnWriteBox<PolicyHeaderOps>?
        var cors: CopyOnWriteBox<Located<PolicyCORS>>?
        var rateLimit: CopyOnWriteBox<Located<PolicyRateLimit>>?
        var connectTimeout: Located<PolicyDuration>?
    }
    private static let empty = CopyOnWriteBox(Values())
    private var box = PolicySettings.empty

    private mutating func update(_ change: (inout Values) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = CopyOnWriteBox(box.value) }
        change(&box.value)
    }

    /// The `timeout` value, where written; nil when not set.
    public var timeout: Located<PolicyDuration>? {
        get { box.value.timeout }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.timeout == nil) { update { $0.timeout = newValue } } }
    }
    /// The `idle_timeout` value, where written; nil when not set.
    public var idleTimeout: Located<PolicyDuration>? {
        get { box.value.idleTimeout }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.idleTimeout == nil) { update { $0.idleTimeout = newValue } } }
    }
    /// The `retries` value, where written; nil when not set.
    public var retries: Located<RetrySetting>? {
        get { box.value.retries?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.retries == nil) { update { $0.retries = newValue.map(CopyOnWriteBox.init) } } }
    }
    /// The `request_headers` operations, when written.
    public var requestHeaders: PolicyHeaderOps? {
        get { box.value.requestHeaders?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set {
            if !(newValue == nil && box.value.requestHeaders == nil) { update { $0.requestHeaders = newValue.map(CopyOnWriteBox.init) } }
        }
    }
    /// The `response_headers` operations, when written.
    public var responseHeaders: PolicyHeaderOps? {
        get { box.value.responseHeaders?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set {
            if !(newValue == nil && box.value.responseHeaders == nil) { update { $0.responseHeaders = newValue.map(CopyOnWriteBox.init) } }
        }
    }
    /// The `cors` value, where written; nil when not set.
    public var cors: Located<PolicyCORS>? {
        get { box.value.cors?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.cors == nil) { update { $0.cors = newValue.map(CopyOnWriteBox.init) } } }
    }
    /// The `rate_limit` value, where written; nil when not set.
    public var rateLimit: Located<PolicyRateLimit>? {
        get { box.value.rateLimit?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.rateLimit == nil) { update { $0.rateLimit = newValue.map(CopyOnWriteBox.init) } } }
    }
    /// Only in `defaults`: the services' connect timeout.
    public var connectTimeout: Located<PolicyDuration>? {
        get { box.value.connectTimeout }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.connectTimeout == nil) { update { $0.connectTimeout = newValue } } }
    }

    /// Settings with no key written.
    public init() {}
}

/// A `retries` value: retries switched off, or a retry policy.
public enum RetrySetting: Sendable {
    case disabled
    case policy(PolicyRetryPolicy)
}

/// A `retries` section.
public struct PolicyRetryPolicy: Sendable {
    /// The `attempts` value, where written; nil when not set.
    public var attempts: Located<Int>?
    /// The conditions of `retry_on` (or its older spelling `on`), each once, in written order.
    public var on: [Located<String>]
    /// The `per_try_timeout` value, where written; nil when not set.
    public var perTryTimeout: Located<PolicyDuration>?
    /// The `status_codes` values, each where written.
    public var statusCodes: [Located<Int>]

    /// Envoy's `num_retries` default.
    public static let defaultAttempts = 1
    /// Used when `retry_on` is not written: conditions where the request never reached the
    /// upstream application, so a retry is always safe.
    public static let defaultOn = ["connect-failure", "refused-stream"]
    /// The retry conditions the policy accepts.
    public static let conditions = [
        "5xx", "gateway-error", "reset", "connect-failure", "refused-stream", "retriable-4xx",
        "retriable-status-codes", "unavailable", "cancelled", "deadline-exceeded", "resource-exhausted",
    ]
}

/// A `request_headers` or `response_headers` section.
public struct PolicyHeaderOps: Sendable {
    /// The headers to add, each name and value where written.
    public var add: [(name: Located<String>, value: Located<String>)] = []
    /// The headers to set (replacing any value), each name and value where written.
    public var set: [(name: Located<String>, value: Located<String>)] = []
    /// The `remove` values, each where written.
    public var remove: [Located<String>] = []
    /// Where this was written.
    public var span: SourceSpan
}

/// A `cors` section.
public struct PolicyCORS: Sendable {
    /// The `allow_origins` values, each where written.
    public var allowOrigins: [Located<String>] = []
    /// The `allow_methods` values, each where written.
    public var allowMethods: [Located<String>] = []
    /// The `allow_headers` values, each where written.
    public var allowHeaders: [Located<String>] = []
    /// The `expose_headers` values, each where written.
    public var exposeHeaders: [Located<String>] = []
    /// The `max_age` value, where written; nil when not set.
    public var maxAge: Located<PolicyDuration>?
    /// The `allow_credentials` value, where written; nil when not set.
    public var allowCredentials: Located<Bool>?
}

/// A `rate_limit` section: a local rate limit of requests per interval.
public struct PolicyRateLimit: Sendable {
    /// The `requests` value, where written.
    public var requests: Located<Int>
    /// The `per` value, where written.
    public var per: Located<PolicyDuration>
}

/// A route's policy after inheritance: each value is the nearest one written
/// (route over host over listener over defaults), with where it came from.
public struct EffectivePolicy: Sendable {
    // Stored out of line: the routes of a host that write no policy key share the one value
    // they inherit (600 bytes inline). The rare large values are boxed once more (as in
    // `PolicySettings`), so a route with its own `timeout` keeps a small record.
    struct Values {
        var timeout: Resolved<PolicyDuration>?
        var idleTimeout: Resolved<PolicyDuration>?
        var retries: CopyOnWriteBox<Resolved<RetrySetting>>?
        var requestHeaders: [ResolvedHeaderOp] = []
        var responseHeaders: [ResolvedHeaderOp] = []
        var cors: CopyOnWriteBox<Resolved<PolicyCORS>>?
        var rateLimit: CopyOnWriteBox<Resolved<PolicyRateLimit>>?
    }
    private static let empty = CopyOnWriteBox(Values())
    private var box = EffectivePolicy.empty

    private mutating func update(_ change: (inout Values) -> Void) {
        if !isKnownUniquelyReferenced(&box) { box = CopyOnWriteBox(box.value) }
        change(&box.value)
    }

    /// The `timeout` in effect and the level it came from; nil when not set at any level.
    public var timeout: Resolved<PolicyDuration>? {
        get { box.value.timeout }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.timeout == nil) { update { $0.timeout = newValue } } }
    }
    /// The `idle_timeout` in effect and the level it came from; nil when not set at any level.
    public var idleTimeout: Resolved<PolicyDuration>? {
        get { box.value.idleTimeout }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.idleTimeout == nil) { update { $0.idleTimeout = newValue } } }
    }
    /// The `retries` in effect and the level it came from; nil when not set at any level.
    public var retries: Resolved<RetrySetting>? {
        get { box.value.retries?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.retries == nil) { update { $0.retries = newValue.map(CopyOnWriteBox.init) } } }
    }
    /// The request header operations in effect.
    public var requestHeaders: [ResolvedHeaderOp] {
        get { box.value.requestHeaders }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue.isEmpty && box.value.requestHeaders.isEmpty) { update { $0.requestHeaders = newValue } } }
    }
    /// The response header operations in effect.
    public var responseHeaders: [ResolvedHeaderOp] {
        get { box.value.responseHeaders }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue.isEmpty && box.value.responseHeaders.isEmpty) { update { $0.responseHeaders = newValue } } }
    }
    /// The `cors` in effect and the level it came from; nil when not set at any level.
    public var cors: Resolved<PolicyCORS>? {
        get { box.value.cors?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.cors == nil) { update { $0.cors = newValue.map(CopyOnWriteBox.init) } } }
    }
    /// The `rate_limit` in effect and the level it came from; nil when not set at any level.
    public var rateLimit: Resolved<PolicyRateLimit>? {
        get { box.value.rateLimit?.value }
        // Writing "nothing" over nothing keeps the shared storage.
        set { if !(newValue == nil && box.value.rateLimit == nil) { update { $0.rateLimit = newValue.map(CopyOnWriteBox.init) } } }
    }

    /// A route with nothing in effect.
    public init() {}

    /// Envoy's route timeout when none is written.
    public static let envoyDefaultTimeout = PolicyDuration.seconds(15)
}

/// One header operation that survived inheritance (the nearest level wins per header).
public struct ResolvedHeaderOp: Sendable {
    /// What is done to the header.
    public enum Operation: Hashable, Sendable {
        case add(String)
        case set(String)
        case remove
    }
    /// Lower-cased header name.
    public var name: String
    /// What is done to the header.
    public var operation: Operation
    /// The level the operation came from.
    public var provenance: Provenance
}

/// The shared storage of a copy-on-write value; the owning struct copies it before a write
/// unless it holds the only reference.
final class CopyOnWriteBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
