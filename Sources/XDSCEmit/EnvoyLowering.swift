import Foundation
import XDSCDiagnostics
import XDSCEnvoy
import XDSCPolicy
import XDSCRegex

/// Lowers a policy into the Envoy model. Every key of the policy language maps to Envoy
/// configuration here; `docs/envoy-mapping.md` is the table.
///
/// Two entry points, told apart by type: the whole configuration comes only from a
/// `CheckedPolicy` (no errors), while a policy that may have errors gets its route tables
/// alone, which is all the route analysis and the duplicate-domain check read.
public enum EnvoyLowering {
    /// The largest RE2 program Envoy accepts by default (`re2.max_program_size.error_level`).
    static let maxProgramSize = RE2Pattern.envoyMaxProgramSize

    /// The Envoy configuration for a policy without errors: node, admin, listeners (each
    /// with its inline route table) and clusters.
    public static func lower(_ checked: CheckedPolicy) -> EnvoyConfig {
        let policy = checked.policy
        var config = EnvoyConfig()
        if let n = policy.node { config.node = Node(id: n.id?.value, cluster: n.cluster?.value) }
        if let a = policy.admin { config.admin = socketAddress(a.address.value) }
        config.listeners = policy.listeners.map { listener($0, defaults: policy.defaults) }
        config.clusters = policy.services.map(cluster)
        return config
    }

    /// The route table of each listener of `policy`, which may have errors, in listener
    /// order: the same tables `lower(_:)` puts inline in the listeners, each with its
    /// listener's span as the source. Nothing else is lowered (no listener, cluster or
    /// bootstrap), so nothing of a policy with errors can reach `build`.
    public static func routeTables(_ policy: Policy) -> [RouteConfiguration] {
        policy.listeners.map { l in RouteConfiguration(name: l.name.value, virtualHosts: virtualHosts(l), source: l.span) }
    }

    /// The virtual hosts of `l`, in order: each host is lowered alone, so a listener with
    /// many routes has its hosts lowered on several threads (issue 13).
    static func virtualHosts(_ l: PolicyListener) -> [VirtualHost] {
        let routes = l.hosts.reduce(0) { $0 + $1.routes.count }
        return Parallel.map(l.hosts.count, workers: Parallel.workers(forRoutes: routes)) { virtualHost(l.hosts[$0]) }
    }

    // MARK: Listeners

    static func socketAddress(_ a: PolicySocketAddress) -> SocketAddress {
        SocketAddress(address: a.ip, portValue: a.port)
    }

    static func listener(_ l: PolicyListener, defaults: PolicySettings = PolicySettings()) -> Listener {
        let name = l.name.value
        let hosts = virtualHosts(l)
        let table = RouteConfiguration(name: name, virtualHosts: hosts)
        // A listener-level `rate_limit` (or one in `defaults`, which stands for each listener's)
        // is one bucket: the rate limit filter's own configuration.
        let rateLimit = (l.settings.rateLimit ?? defaults.rateLimit).map { localRateLimit($0.value) }
        // A filter is present only when this listener, or some host or route of it,
        // configures it; the router is always last.
        // By index: iterating `h.routes` copies each (large) route out of its array first.
        var used = Set<String>()
        for h in hosts {
            for e in h.typedPerFilterConfig { used.insert(e.name) }
            for i in h.routes.indices {
                for e in h.routes[i].typedPerFilterConfig { used.insert(e.name) }
            }
        }
        if rateLimit != nil { used.insert(HTTPFilterKind.localRateLimit.filterName) }
        let filters = HTTPFilterKind.allCases.filter { $0 == .router || used.contains($0.filterName) }
        var accessLog: [HttpConnectionManager.AccessLog] = []
        switch l.accessLog?.value {
        case .stdout: accessLog = [.stdout]
        case .stderr: accessLog = [.stderr]
        case .file(let path): accessLog = [.file(path)]
        case nil: break
        }
        let hcm = HttpConnectionManager(
            statPrefix: name, routes: .inline(table), httpFilters: filters, accessLog: accessLog, rateLimit: rateLimit)
        // The policy tokens' spans go along, so a certificate that cannot be loaded is reported there.
        let tls = l.tls.map {
            DownstreamTLSContext(
                chain: TLSSource(.filename($0.certFile.value), span: $0.certFile.span),
                key: TLSSource(.filename($0.keyFile.value), span: $0.keyFile.span), alpnProtocols: ["h2", "http/1.1"])
        }
        return Listener(name: name, address: socketAddress(l.address.value), connectionManager: hcm, tls: tls, source: l.span)
    }

    static func virtualHost(_ h: PolicyHost) -> VirtualHost {
        // Appended in place: `flatMap` made an array per policy route and copied it.
        var lowered: [Route] = []
        lowered.reserveCapacity(h.routes.count)
        var methods = MethodMatchers()
        for i in h.routes.indices { appendRoutes(h.routes[i], to: &lowered, methods: &methods) }
        var vh = VirtualHost(name: h.name.value, domains: h.domains.map(\.value), routes: lowered, source: h.span)
        // The duplicate-domain check reports at the policy's domain tokens.
        vh.domainSources = h.domains.map(\.span)
        // A host-level `rate_limit` is one bucket for the host: Envoy builds one limiter per
        // `typed_per_filter_config` entry, and routes without their own use the host's.
        if let limit = h.settings.rateLimit {
            vh.typedPerFilterConfig.append((HTTPFilterKind.localRateLimit.filterName, localRateLimit(limit.value).typedConfig))
        }
        return vh
    }

    static func localRateLimit(_ limit: PolicyRateLimit) -> LocalRateLimit {
        LocalRateLimit(maxTokens: UInt32(clamping: limit.requests.value), fillInterval: duration(limit.per.value))
    }

    // MARK: Routes

    /// Appends the Envoy routes for one policy route to `out`: one, or one per method when
    /// the methods do not fit one regex under Envoy's program-size limit.
    static func appendRoutes(_ r: PolicyRoute, to out: inout [Route], methods known: inout MethodMatchers) {
        var base = route(r)
        let methods = r.match.methods.map(\.value)
        // `consume`: the route moves into `out` instead of being copied and destroyed.
        guard !methods.isEmpty else { return out.append(consume base) }
        if let matcher = known.matcher(methods) {
            base.match.headers.insert(matcher, at: 0)
            return out.append(consume base)
        }
        for m in methods {
            var one = base
            one.match.headers.insert(HeaderMatcher(name: ":method", .string(.exact(m))), at: 0)
            if let n = base.name { one.name = "\(n)-\(m.lowercased())" }
            out.append(one)
        }
    }

    /// `methodMatcher(_:)` of the last few method lists of one host: its routes repeat a few
    /// lists, and comparing a short list is cheaper than building and looking up its regex.
    struct MethodMatchers {
        private var recent: [(methods: [String], matcher: HeaderMatcher?)] = []

        mutating func matcher(_ methods: [String]) -> HeaderMatcher? {
            if let hit = recent.first(where: { $0.methods == methods }) { return hit.matcher }
            let m = EnvoyLowering.methodMatcher(methods)
            if recent.count == 8 { recent.removeFirst() }
            recent.append((methods, m))
            return m
        }
    }

    /// `:method` as an exact match for one method, or an alternation regex for several;
    /// nil when that regex would exceed Envoy's RE2 program-size limit.
    static func methodMatcher(_ methods: [String]) -> HeaderMatcher? {
        if methods.count == 1 { return HeaderMatcher(name: ":method", .string(.exact(methods[0]))) }
        let pattern = methods.map(regexEscaped).joined(separator: "|")
        guard ProgramSizes.shared.fits(pattern, within: maxProgramSize) else { return nil }
        return HeaderMatcher(name: ":method", .string(StringMatcher(.safeRegex(pattern))))
    }

    /// Escapes everything but letters and digits (method tokens may hold `.`, `+`, ...).
    static func regexEscaped(_ s: String) -> String {
        // Method tokens are nearly always ASCII letters: nothing to escape, no Unicode lookups.
        if s.utf8.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) }) { return s }
        var out = ""
        for c in s.unicodeScalars {
            if c.properties.isAlphabetic || ("0"..."9").contains(c) { out.unicodeScalars.append(c) } else { out += "\\" + String(c) }
        }
        return out
    }

    static func route(_ r: PolicyRoute) -> Route {
        let e = r.effective
        var out = Route(name: r.name?.value, match: match(r.match), action: action(r), source: r.span)
        // Numbered as written, even after a route that could not be lowered.
        out.position = r.index + 1

        // Per-route filter configuration, in the filter chain's order.
        if let cors = e.cors?.value {
            out.typedPerFilterConfig.append((HTTPFilterKind.cors.filterName, corsPolicy(cors).typedConfig))
        }
        // Only a `rate_limit` written on the route is the route's own bucket; an inherited one
        // is the host's or listener's bucket, which Envoy applies to this route already.
        if let limit = e.rateLimit, limit.provenance.level == .route {
            out.typedPerFilterConfig.append((HTTPFilterKind.localRateLimit.filterName, localRateLimit(limit.value).typedConfig))
        }
        if let f = r.fault {
            let fault = HTTPFault(
                delay: f.delay.map { (duration($0.fixed.value), fraction($0.percent?.value ?? .hundred)) },
                abort: f.abort.map { ($0.status.value, fraction($0.percent?.value ?? .hundred)) })
            out.typedPerFilterConfig.append((HTTPFilterKind.fault.filterName, fault.typedConfig))
        }

        // Header operations: `set` overwrites, `add` appends, `remove` removes. They are
        // already merged across levels, so they all go on the route.
        for op in e.requestHeaders {
            switch op.operation {
            case .add(let v): out.requestHeadersToAdd.append(HeaderValueOption(key: op.name, value: literal(v)))
            case .set(let v):
                out.requestHeadersToAdd.append(HeaderValueOption(key: op.name, value: literal(v), appendAction: .overwriteIfExistsOrAdd))
            case .remove: out.requestHeadersToRemove.append(op.name)
            }
        }
        for op in e.responseHeaders {
            switch op.operation {
            case .add(let v): out.responseHeadersToAdd.append(HeaderValueOption(key: op.name, value: literal(v)))
            case .set(let v):
                out.responseHeadersToAdd.append(HeaderValueOption(key: op.name, value: literal(v), appendAction: .overwriteIfExistsOrAdd))
            case .remove: out.responseHeadersToRemove.append(op.name)
            }
        }
        return out
    }

    /// Header values in Envoy are substitution-format strings; policy values are literal
    /// text, so `%` is doubled.
    static func literal(_ value: String) -> String {
        value.replacingOccurrences(of: "%", with: "%%")
    }

    static func match(_ m: PolicyRouteMatch) -> RouteMatch {
        let path: RouteMatch.PathSpecifier
        switch m.path.value {
        case .prefix(let p): path = .prefix(p)
        case .exact(let p): path = .path(p)
        case .regex(let r): path = .safeRegex(r)
        }
        // `case_sensitive` only matters for prefix/path; write it only when it changes something.
        var caseSensitive: Bool?
        if m.caseSensitive?.value == false, !(path.isRegex) { caseSensitive = false }
        return RouteMatch(
            path, caseSensitive: caseSensitive, headers: m.headers.map { headerMatcher($0) },
            queryParameters: m.query.map(queryMatcher), grpc: m.grpc?.value == true)
    }

    static func stringMatcher(_ k: PolicyFieldMatcher.Kind) -> StringMatcher? {
        switch k {
        case .exact(let s): StringMatcher(.exact(s))
        case .prefix(let s): StringMatcher(.prefix(s))
        case .suffix(let s): StringMatcher(.suffix(s))
        case .contains(let s): StringMatcher(.contains(s))
        case .regex(let r): StringMatcher(.safeRegex(r))
        case .present: nil
        }
    }

    static func headerMatcher(_ f: PolicyFieldMatcher) -> HeaderMatcher {
        if case .present(let p) = f.kind.value {
            return HeaderMatcher(name: f.name.value, .present(p), invertMatch: f.invert)
        }
        return HeaderMatcher(name: f.name.value, stringMatcher(f.kind.value).map { .string($0) }, invertMatch: f.invert)
    }

    static func queryMatcher(_ f: PolicyFieldMatcher) -> QueryParameterMatcher {
        if case .present(let p) = f.kind.value {
            // Envoy's query matcher has no invert: `present: true, invert: true` is "absent".
            return QueryParameterMatcher(name: f.name.value, presentMatch: p != f.invert)
        }
        return QueryParameterMatcher(name: f.name.value, stringMatch: stringMatcher(f.kind.value))
    }

    static func action(_ r: PolicyRoute) -> Route.Action {
        switch r.action {
        case .service(let s):
            return .route(routeAction(.cluster(s.value), r))
        case .split(let targets):
            let entries = targets.map { WeightedClusters.Entry(name: $0.service.value, weight: UInt32(clamping: $0.weight.value)) }
            return .route(routeAction(.weightedClusters(WeightedClusters(entries)), r))
        case .redirect(let rd):
            var out = RedirectAction(scheme: rd.scheme?.value, host: rd.host?.value, port: rd.port?.value)
            switch rd.path?.value {
            case .path(let p): out.path = .path(p)
            case .prefix(let p): out.path = .prefixRewrite(p)
            case nil: break
            }
            if let code = rd.code?.value, let c = RedirectAction.ResponseCode(status: code) { out.responseCode = c }
            out.stripQuery = rd.stripQuery?.value ?? false
            return .redirect(out)
        case .respond(let d):
            return .directResponse(DirectResponseAction(status: d.status.value, body: d.body?.value))
        }
    }

    static func routeAction(_ target: RouteAction.ClusterSpecifier, _ r: PolicyRoute) -> RouteAction {
        let e = r.effective
        var a = RouteAction(target)
        if let rw = r.rewrite {
            if let p = rw.prefix { a.pathRewrite = .prefix(p.value) }
            if let rx = rw.regex { a.pathRewrite = .regex(pattern: rx.pattern.value, substitution: rx.substitution.value) }
            a.hostRewriteLiteral = rw.host?.value
        }
        a.timeout = e.timeout.map { duration($0.value) }
        a.idleTimeout = e.idleTimeout.map { duration($0.value) }
        if case .policy(let p) = e.retries?.value {
            let on = p.on.isEmpty ? PolicyRetryPolicy.defaultOn : p.on.map(\.value)
            a.retryPolicy = RetryPolicy(
                retryOn: on, numRetries: p.attempts.map { UInt32(clamping: $0.value) },
                perTryTimeout: p.perTryTimeout.map { duration($0.value) },
                retriableStatusCodes: p.statusCodes.map { UInt32(clamping: $0.value) })
        }
        if let m = r.mirror {
            let percent = m.percent?.value ?? .hundred
            a.requestMirrorPolicies = [
                RequestMirrorPolicy(
                    cluster: m.service.value,
                    runtimeFraction: percent == .hundred ? nil : RuntimeFractionalPercent(defaultValue: fraction(percent)))
            ]
        }
        switch r.hashOn?.value {
        case .header(let h): a.hashPolicy = [.header(h)]
        case .cookie(let c): a.hashPolicy = [.cookie(c)]
        case .sourceIP: a.hashPolicy = [.sourceIP]
        case nil: break
        }
        if r.websocket?.value == true { a.upgradeTypes = ["websocket"] }
        return a
    }

    static func corsPolicy(_ c: PolicyCORS) -> CorsPolicy {
        CorsPolicy(
            allowOrigins: c.allowOrigins.map { StringMatcher.exact($0.value) }, allowMethods: c.allowMethods.map(\.value),
            allowHeaders: c.allowHeaders.map(\.value), exposeHeaders: c.exposeHeaders.map(\.value),
            maxAgeSeconds: c.maxAge.map { $0.value.milliseconds / 1000 }, allowCredentials: c.allowCredentials?.value)
    }

    // MARK: Clusters

    static func cluster(_ s: PolicyService) -> Cluster {
        let name = s.name.value
        var c = Cluster(name: name, source: s.span)
        switch s.discovery.value {
        case .static: c.type = .static
        case .strictDNS: c.type = .strictDNS
        case .logicalDNS: c.type = .logicalDNS
        }
        c.connectTimeout = duration(s.connectTimeout.value)
        switch s.lb.value {
        case .roundRobin: c.lbPolicy = .roundRobin
        case .leastRequest: c.lbPolicy = .leastRequest
        case .random: c.lbPolicy = .random
        case .ringHash: c.lbPolicy = .ringHash
        case .maglev: c.lbPolicy = .maglev
        }
        c.loadAssignment = ClusterLoadAssignment(
            clusterName: name,
            endpoints: s.endpoints.map {
                .init(
                    address: SocketAddress(address: $0.host, portValue: $0.port),
                    weight: $0.weight.map { UInt32(clamping: $0.value) })
            })
        if let h = s.healthCheck {
            let kind: HealthCheck.Kind
            switch h.kind {
            // Envoy's HTTP health checker speaks HTTP/1.1 unless told otherwise; an h2-only
            // or gRPC server would fail every check.
            case .http(let path): kind = .http(path: path.value, codec: s.protocolKind.value.usesHTTP2 ? .http2 : .http1)
            case .tcp: kind = .tcp
            case .grpc(let service): kind = .grpc(serviceName: service?.value)
            }
            c.healthChecks = [
                HealthCheck(
                    timeout: duration(h.timeout.value), interval: duration(h.interval.value),
                    unhealthyThreshold: UInt32(clamping: h.unhealthyThreshold.value),
                    healthyThreshold: UInt32(clamping: h.healthyThreshold.value), kind: kind)
            ]
        }
        if let b = s.circuitBreaker {
            c.circuitBreakers = CircuitBreakerThresholds(
                maxConnections: b.maxConnections.map { UInt32(clamping: $0.value) },
                maxPendingRequests: b.maxPendingRequests.map { UInt32(clamping: $0.value) },
                maxRequests: b.maxRequests.map { UInt32(clamping: $0.value) }, maxRetries: b.maxRetries.map { UInt32(clamping: $0.value) })
        }
        // A gRPC health check on an explicit `protocol: http1` is a lint error (Envoy refuses
        // it); with `protocol` unset the front end already resolved the service to HTTP/2.
        c.upstreamProtocol = s.protocolKind.value.usesHTTP2 ? .http2 : .http1
        if let o = s.outlierDetection {
            c.outlierDetection = OutlierDetection(
                consecutive5xx: o.consecutive5xx.map { UInt32(clamping: $0.value) }, interval: o.interval.map { duration($0.value) },
                baseEjectionTime: o.baseEjectionTime.map { duration($0.value) },
                maxEjectionPercent: o.maxEjectionPercent.map { UInt32(clamping: $0.value) })
        }
        if let t = s.tls {
            // SNI: as written, else the first endpoint's host name (an IP literal is not a
            // valid SNI value, so none is sent for IP-only services).
            // A fully qualified endpoint name (`host.internal.`) is sent without its final dot:
            // SNI carries no trailing dot (RFC 6066, section 3).
            let sni =
                t.sni?.value ?? s.endpoints.first(where: { !$0.isIP }).map { $0.host.hasSuffix(".") ? String($0.host.dropLast()) : $0.host }
            c.tls = UpstreamTLSContext(
                sni: sni, trustedCA: t.caFile.map { TLSSource(.filename($0.value), span: $0.span) },
                subjectAltNameMatchers: t.verifySAN.map { SubjectAltNameMatcher(.dns, .exact($0.value)) },
                alpnProtocols: s.protocolKind.value.usesHTTP2 ? ["h2"] : [])
        }
        return c
    }

    // MARK: Values

    static func duration(_ d: PolicyDuration) -> EnvoyDuration { .milliseconds(d.milliseconds) }

    /// A percentage as Envoy's fraction: out of 100 when whole, else out of a million.
    static func fraction(_ p: Percent) -> FractionalPercent {
        p.perMillion % 10_000 == 0
            ? FractionalPercent(numerator: UInt32(p.perMillion / 10_000), denominator: .hundred)
            : FractionalPercent(numerator: UInt32(p.perMillion), denominator: .million)
    }
}

extension RouteMatch.PathSpecifier {
    var isRegex: Bool {
        if case .safeRegex = self { return true }
        return false
    }
}

/// Whether a pattern compiles within a program-size limit, remembered per pattern: a large
/// policy repeats the same few method lists thousands of times, and compiling is the cost.
final class ProgramSizes: @unchecked Sendable {
    static let shared = ProgramSizes()
    private let lock = NSLock()
    private var sizes: [String: Int] = [:]

    func fits(_ pattern: String, within limit: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let size = sizes[pattern] { return size <= limit }
        // A pattern RE2 rejects fits nowhere.
        let size = (try? RE2Pattern(pattern))?.programSize ?? Int.max
        sizes[pattern] = size
        return size <= limit
    }
}
