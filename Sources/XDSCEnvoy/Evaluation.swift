import XDSCRequest

extension EnvoyRequest {
    /// The value a header matcher sees in the model's evaluator: pseudo-headers from their
    /// fields, `host` as `:authority`, `x-forwarded-proto` from `:scheme` and
    /// `x-envoy-internal` from `isInternal` unless the headers carry them, repeated headers
    /// joined with `,`; nil when absent.
    public func headerValue(_ name: String) -> String? {
        let n = name.asciiLowercased
        switch n {
        case ":method": return method
        case ":authority", "host": return authority
        case ":path": return path
        case ":scheme": return scheme
        default:
            let values = headers.filter { $0.name == n }.map(\.value)
            if !values.isEmpty { return values.joined(separator: ",") }
            if n == "x-forwarded-proto" { return scheme }
            if n == "x-envoy-internal" && isInternal { return "true" }
            return nil
        }
    }
}

extension RouteConfiguration {
    /// Envoy's `RouteMatcher::findVirtualHost`: exact domain, then suffix wildcards longest
    /// first, then prefix wildcards longest first, then `*`. Host is lower-cased; its port
    /// is part of the compared string.
    public func virtualHost(for request: EnvoyRequest) -> VirtualHost? {
        var exact: [String: Int] = [:]
        var suffixes: [(key: String, index: Int)] = []
        var prefixes: [(key: String, index: Int)] = []
        var defaultHost: Int?
        for (i, vh) in virtualHosts.enumerated() {
            for d in vh.domains.map(\.asciiLowercased) {
                if d == "*" {
                    if defaultHost == nil { defaultHost = i }
                } else if d.hasPrefix("*") {
                    suffixes.append((String(d.dropFirst()), i))
                } else if d.hasSuffix("*") {
                    prefixes.append((String(d.dropLast()), i))
                } else if exact[d] == nil {
                    exact[d] = i
                }
            }
        }
        if exact.isEmpty && suffixes.isEmpty && prefixes.isEmpty {
            return defaultHost.map { virtualHosts[$0] }
        }
        guard let authority = request.authority else { return nil }
        let host = authority.asciiLowercased
        if let i = exact[host] { return virtualHosts[i] }
        // Longest first; for equal lengths the first declared wins (Envoy rejects duplicates).
        let hostBytes = Array(host.utf8)
        for s in suffixes.enumerated().sorted(by: { ($0.element.key.utf8.count, -$0.offset) > ($1.element.key.utf8.count, -$1.offset) })
        where s.element.key.utf8.count < hostBytes.count && hostBytes.suffix(s.element.key.utf8.count).elementsEqual(s.element.key.utf8) {
            return virtualHosts[s.element.index]
        }
        for p in prefixes.enumerated().sorted(by: { ($0.element.key.utf8.count, -$0.offset) > ($1.element.key.utf8.count, -$1.offset) })
        where p.element.key.utf8.count < hostBytes.count && hostBytes.prefix(p.element.key.utf8.count).elementsEqual(p.element.key.utf8) {
            return virtualHosts[p.element.index]
        }
        return defaultHost.map { virtualHosts[$0] }
    }

    /// Routes `request` as Envoy's router does (runtime fractions use `randomValue`, as
    /// do weighted clusters).
    public func route(_ request: EnvoyRequest, randomValue: UInt64 = 0, runtime: RuntimeValues = .defaults) -> RoutingResult {
        guard let vh = virtualHost(for: request) else { return .noRoute(virtualHost: nil) }
        return vh.route(request, randomValue: randomValue, runtime: runtime)
    }
}

/// Where `runtime_fraction` values come from.
public enum RuntimeValues: Equatable, Sendable {
    /// Each fraction's `default_value`, as a fresh Envoy with no runtime layers.
    case defaults
    /// Envoy's route table check tool: a fraction is on only when its runtime key is the
    /// test's `runtime` input (numerator 0 counts as 1).
    case routerCheckTool(enabledKey: String?)
}

/// What the route table decides for one request.
public enum RoutingResult: Equatable, Sendable {
    /// No virtual host, or no route in it: Envoy answers 404.
    case noRoute(virtualHost: String?)
    /// The virtual host requires TLS: a 301 to the https URL.
    case tlsRedirect(virtualHost: String)
    /// A route matched; `cluster` is the cluster picked (the weighted pick, or the value of
    /// a `cluster_header`, "" when that header is absent) or nil for redirects and direct
    /// responses.
    case matched(virtualHost: String, routeIndex: Int, route: Route, cluster: String?)

    /// The cluster picked, or nil.
    public var cluster: String? {
        if case .matched(_, _, _, let c) = self { return c }
        return nil
    }

    /// The name of the selected virtual host, or nil.
    public var virtualHostName: String? {
        switch self {
        case .noRoute(let v): v
        case .tlsRedirect(let v): v
        case .matched(let v, _, _, _): v
        }
    }
}

extension VirtualHost {
    /// First-match routing within this virtual host.
    public func route(_ request: EnvoyRequest, randomValue: UInt64 = 0, runtime: RuntimeValues = .defaults) -> RoutingResult {
        let internalRequest = request.headerValue("x-envoy-internal") == "true"
        switch requireTLS {
        case .all where request.scheme != "https": return .tlsRedirect(virtualHost: name)
        case .externalOnly where request.scheme != "https" && !internalRequest: return .tlsRedirect(virtualHost: name)
        default: break
        }
        for (i, r) in routes.enumerated() where r.match.matches(request, randomValue: randomValue, runtime: runtime) {
            var cluster: String?
            if case .route(let action) = r.action {
                switch action.clusterSpecifier {
                case .cluster(let c): cluster = c
                case .clusterHeader(let h):
                    cluster = request.headerValue(h).map { String($0.split(separator: ",", omittingEmptySubsequences: false)[0]) } ?? ""
                case .weightedClusters(let w): cluster = w.pick(randomValue: randomValue)
                }
            }
            return .matched(virtualHost: name, routeIndex: i, route: r, cluster: cluster)
        }
        return .noRoute(virtualHost: name)
    }
}

extension RouteMatch {
    /// Envoy's `RouteEntryImplBase::matchRoute` plus the path specifier: runtime fraction,
    /// gRPC, headers, query parameters, then the path.
    public func matches(_ request: EnvoyRequest, randomValue: UInt64 = 0, runtime: RuntimeValues = .defaults) -> Bool {
        if let runtimeFraction {
            let d = runtimeFraction.defaultValue
            var numerator = UInt64(d.numerator)
            if case .routerCheckTool(let key) = runtime {
                // The tool enables a fraction only when the test names its key, and bumps 0 to 1.
                guard let key, key == runtimeFraction.runtimeKey else { return false }
                numerator = max(numerator, 1)
            }
            guard randomValue % d.denominator.value < numerator else { return false }
        }
        if grpc {
            // `Grpc::Common::isGrpcRequestHeaders` (source/common/grpc/common.cc): bytes.
            guard let ct = request.headerValue("content-type"),
                ct.utf8.elementsEqual("application/grpc".utf8) || ct.utf8.starts(with: "application/grpc+".utf8)
            else { return false }
        }
        // `ConnectRouteEntryImpl` (config_impl.cc) matches CONNECT requests, whatever the path.
        if pathSpecifier == .connectMatcher, request.method != "CONNECT" { return false }
        for h in headers where !h.matches(headerValue: request.headerValue(h.name)) { return false }
        for q in queryParameters where !q.matches(firstValue: request.queryParameter(q.name)) { return false }
        return matchesPath(EnvoyRequest.pathWithoutQuery(request.path ?? ""))
    }

    /// The path specifier alone, on a path without query string.
    public func matchesPath<S: StringProtocol>(_ path: S) -> Bool {
        let caseSensitive = self.caseSensitive ?? true
        // Byte comparisons: Envoy compares bytes, folding ASCII letters when case-insensitive.
        func fold(_ b: UInt8) -> UInt8 { !caseSensitive && b >= 0x41 && b <= 0x5A ? b + 32 : b }
        func eq<A: Collection<UInt8>>(_ a: A, _ b: String) -> Bool {
            a.count == b.utf8.count && zip(a, b.utf8).allSatisfy { fold($0) == fold($1) }
        }
        let path = Substring(path)
        switch pathSpecifier {
        case .prefix(let p):
            return eq(path.utf8.prefix(p.utf8.count), p)
        case .path(let p):
            return eq(path.utf8, p)
        case .safeRegex(let r):
            return RegexCache.shared.pattern(r)?.fullMatch(String(path)) ?? false
        case .pathSeparatedPrefix(let p):
            guard eq(path.utf8.prefix(p.utf8.count), p) else { return false }
            let rest = path.utf8.dropFirst(p.utf8.count)
            return rest.isEmpty || rest.first == UInt8(ascii: "/")
        case .connectMatcher:
            return true
        }
    }
}
