import XDSCDiagnostics
import XDSCSyntax

/// One parsed input file.
public struct PolicyDocument: Sendable {
    /// The file's path, as diagnostics name it.
    public var file: String
    /// The file's parsed YAML document.
    public var root: YAMLNode

    /// Pairs a parsed document with its file's path.
    public init(file: String, root: YAMLNode) {
        self.file = file
        self.root = root
    }
}

/// Lowers parsed files into one `Policy`: checks every key and value, merges the files'
/// `services` and `listeners`, and resolves inheritance. Never stops at the first problem.
public struct Lowering {
    let sink: DiagnosticSink
    let references = ServiceReferences()

    /// Creates a lowering that reports to `sink`.
    public init(sink: DiagnosticSink) {
        self.sink = sink
    }

    /// Lowers `documents` into one policy, reporting every problem to the sink.
    public func lower(_ documents: [PolicyDocument]) -> Policy {
        var policy = Policy()
        policy.files = documents.map(\.file)
        var singletons: [String: SourceSpan] = [:]
        var serviceNodes: [(key: YAMLNode, value: YAMLNode)] = []
        var listenerNodes: [(key: YAMLNode, value: YAMLNode)] = []
        var defaultsNode: (YAMLNode, SourceSpan)?
        var sawListeners = false

        for doc in documents {
            guard let top = Fields(doc.root, context: "top", what: "the policy file", anchor: .point(doc.file), sink: sink) else {
                continue
            }
            checkVersion(top, file: doc.file)
            // A key such as `listners` is already reported with a did-you-mean.
            for key in ["listeners", "services"] where top.suggests(key) { policy.droppedSections.insert(key) }
            for key in ["node", "admin", "defaults"] where top.has(key) {
                let span = top.keySpan(key)!
                if let first = singletons[key] {
                    sink.add(
                        .duplicateKey, "`\(key)` is already defined in another file of this policy", at: span,
                        label: "second definition", related: [RelatedLocation("first defined here", at: first)],
                        help: "`\(key)` may appear in only one file; keep one")
                    continue
                }
                singletons[key] = span
                switch key {
                case "node": policy.node = lowerNode(top.value(key)!, anchor: span)
                case "admin": policy.admin = lowerAdmin(top.value(key)!, anchor: span)
                default: defaultsNode = (top.value(key)!, span)
                }
            }
            if let entries = top.entries("services") { serviceNodes += entries.map { ($0.key, $0.value) } }
            if top.has("listeners") {
                sawListeners = true
                if let entries = top.entries("listeners") {
                    if entries.isEmpty {
                        // An empty map is a value out of range (`invalid-value`), as every empty
                        // required list is; `missing-field` is for an absent key.
                        sink.add(
                            .invalidValue, "`listeners` is empty; a policy needs at least one listener", at: top.value("listeners")!.span,
                            label: "empty")
                    }
                    listenerNodes += entries.map { ($0.key, $0.value) }
                }
            }
        }
        if !sawListeners, !policy.droppedSections.contains("listeners"), let first = documents.first {
            sink.add(
                .missingField, "the policy needs `listeners`" + (documents.count > 1 ? " (in one of its files)" : ""),
                at: .point(first.file), label: "no listeners", help: "add a `listeners:` mapping with at least one listener")
        }

        if let (node, anchor) = defaultsNode,
            let f = Fields(node, context: "defaults", what: "`defaults`", anchor: anchor, sink: sink)
        {
            policy.defaults = settings(f)
        }

        // A second definition of a name is checked like the first (one error never hides
        // another, and the services its routes name do not look unused), but only the first
        // is kept.
        var seenServices: [String: SourceSpan] = [:]
        for (key, value) in serviceNodes {
            guard let (name, isFirst) = entryName(key, kind: "service", seen: &seenServices) else { continue }
            if let s = lowerService(name, value, defaults: policy.defaults), isFirst { policy.services.append(s) }
        }
        var seenListeners: [String: SourceSpan] = [:]
        for (key, value) in listenerNodes {
            guard let (name, isFirst) = entryName(key, kind: "listener", seen: &seenListeners) else { continue }
            if let l = lowerListener(name, value), isFirst { policy.listeners.append(l) }
        }
        Inheritance.resolve(&policy)
        policy.referencedServiceNames = references.names
        return policy
    }

    // MARK: top level

    func checkVersion(_ top: Fields, file: String) {
        guard let v = top.value("version") else {
            if top.suggests("version") { return }
            sink.add(
                .missingField, "the policy file needs `version: 1`", at: .point(file), label: "no version",
                help: "add `version: 1` at the top")
            return
        }
        guard let s = v.scalar, let n = s.int else {
            sink.add(
                .typeMismatch, "`version` must be the integer 1, but this is \(v.kindDescription)", at: v.span, help: "write `version: 1`")
            return
        }
        if n != 1 {
            sink.add(
                .unsupportedVersion, "policy language version \(n) is not supported", at: v.span, label: "unsupported",
                help: "this xdsc understands `version: 1`")
        }
    }

    /// Validates a map key used as a name and reports a second definition; the name, and
    /// whether it is the first definition.
    func entryName(_ key: YAMLNode, kind: String, seen: inout [String: SourceSpan]) -> (Located<String>, isFirst: Bool)? {
        guard let s = key.scalar, !s.isNull else {
            sink.add(.typeMismatch, "a \(kind) name must be a string, but this is \(key.kindDescription)", at: key.span)
            return nil
        }
        let name = Located(s.text, key.span)
        checkName(name, kind: kind)
        if let first = seen[s.text] {
            sink.add(
                .duplicateName, "\(kind) `\(s.text)` is defined twice", at: key.span, label: "second definition",
                related: [RelatedLocation("first defined here", at: first)], help: "rename one of them or merge the definitions")
            return (name, false)
        }
        seen[s.text] = key.span
        return (name, true)
    }

    func checkName(_ name: Located<String>, kind: String) {
        if !PolicyValues.isValidName(name.value) {
            sink.add(
                .invalidValue, "\(kind) name `\(name.value)` is not valid", at: name.span, label: "invalid name",
                help: "names are 1-64 characters of a-z, 0-9, `.`, `_` and `-`, starting and ending with a letter or digit")
        }
    }

    func lowerNode(_ node: YAMLNode, anchor: SourceSpan) -> NodeIdentity? {
        guard let f = Fields(node, context: "node", what: "`node`", anchor: anchor, sink: sink) else { return nil }
        return NodeIdentity(id: f.string("id"), cluster: f.string("cluster"), span: node.span)
    }

    func lowerAdmin(_ node: YAMLNode, anchor: SourceSpan) -> PolicyAdmin? {
        guard let f = Fields(node, context: "admin", what: "`admin`", anchor: anchor, sink: sink) else { return nil }
        guard f.has("address") else {
            f.missing("address", help: "e.g. `address: 127.0.0.1:9901`")
            return nil
        }
        guard let a = socketAddress(f, "address") else { return nil }
        return PolicyAdmin(address: a, span: node.span)
    }

    /// A listener or admin address: an IP literal and a port.
    func socketAddress(_ f: Fields, _ key: String) -> Located<PolicySocketAddress>? {
        guard let s = f.string(key) else { return nil }
        switch PolicyValues.hostPort(s.value) {
        case .failure(let p):
            sink.add(.invalidValue, p.message, at: s.span, help: p.help)
            return nil
        case .success(let hp):
            guard let ip = PolicyValues.canonicalIP(hp.host) else {
                sink.add(
                    .invalidValue, "`\(hp.host)` is not an IP address; Envoy binds listeners to IP literals", at: s.span,
                    label: "not an IP", help: "use `0.0.0.0` for every IPv4 interface or `127.0.0.1` for loopback")
                return nil
            }
            return Located(PolicySocketAddress(ip: ip, port: hp.port), s.span)
        }
    }

    // MARK: services

    func lowerService(_ name: Located<String>, _ node: YAMLNode, defaults: PolicySettings) -> PolicyService? {
        guard let f = Fields(node, context: "service", what: "service `\(name.value)`", anchor: name.span, sink: sink) else { return nil }
        var endpoints: [PolicyEndpoint] = []
        if let items = f.list("endpoints") {
            if items.isEmpty {
                sink.add(
                    .invalidValue, "`endpoints` of service `\(name.value)` is empty; a service needs at least one endpoint",
                    at: f.value("endpoints")!.span, label: "empty")
            }
            endpoints = items.compactMap(endpoint)
        } else if !f.has("endpoints") {
            f.missing("endpoints", help: "e.g. `endpoints: [10.0.1.10:8080]`")
        }
        let discovery: Resolved<Discovery>
        if let d = f.choice("discovery", Discovery.self) {
            discovery = Resolved(d.value, Provenance(.service, d.span))
            if d.value == .static {
                for e in endpoints where !e.isIP {
                    sink.add(
                        .invalidValue, "endpoint `\(e.host)` is a host name, but `discovery: static` needs IP addresses", at: e.span,
                        label: "not an IP", related: [RelatedLocation("static discovery chosen here", at: d.span)],
                        help: "use `discovery: strict_dns` to resolve host names")
                }
            }
            if d.value == .logicalDNS && endpoints.count > 1 {
                sink.add(
                    .invalidValue, "`discovery: logical_dns` takes exactly one endpoint; service `\(name.value)` has \(endpoints.count)",
                    at: d.span, help: "use `strict_dns` for several endpoints")
            }
        } else {
            let inferred: Discovery = endpoints.allSatisfy(\.isIP) ? .static : .strictDNS
            discovery = Resolved(inferred, .builtin)
        }
        let proto = f.choice("protocol", ServiceProtocol.self)
        let lb = f.choice("lb", LoadBalancer.self)
        let connectTimeout: Resolved<PolicyDuration>
        if let c = f.duration("connect_timeout", positive: true) {
            connectTimeout = Resolved(c.value, Provenance(.service, c.span))
        } else if let c = defaults.connectTimeout {
            connectTimeout = Resolved(c.value, Provenance(.defaults, c.span))
        } else {
            connectTimeout = Resolved(.seconds(5), .builtin)
        }
        let health = healthCheck(f)
        // Envoy health-checks gRPC only over HTTP/2 ("cluster must support HTTP/2 for gRPC
        // healthchecking"), and a server that answers the gRPC health protocol speaks h2: with
        // `protocol` unset the service is taken to be HTTP/2. Only an explicit `http1`
        // contradicts the check.
        var protocolKind = proto.map { Resolved($0.value, Provenance(.service, $0.span)) } ?? Resolved(.http1, .builtin)
        if case .grpc = health?.kind, let health {
            if let proto, !proto.value.usesHTTP2 {
                sink.add(
                    .conflictingFields,
                    "a gRPC health check needs HTTP/2 to the service, but service `\(name.value)` sets `protocol: \(proto.value.rawValue)`",
                    at: f.keySpan("health_check")!, label: "needs HTTP/2", related: [RelatedLocation("protocol set here", at: proto.span)],
                    help: "set `protocol: grpc` (or `http2`), or use an `http` or `tcp` health check")
            } else if proto == nil {
                protocolKind = Resolved(.http2, Provenance(.service, health.span))
            }
        }
        return PolicyService(
            name: name, span: node.span, endpoints: endpoints, discovery: discovery,
            protocolKind: protocolKind,
            lb: lb.map { Resolved($0.value, Provenance(.service, $0.span)) } ?? Resolved(.roundRobin, .builtin),
            connectTimeout: connectTimeout, tls: upstreamTLS(f), healthCheck: health,
            circuitBreaker: circuitBreaker(f), outlierDetection: outlierDetection(f))
    }

    func endpoint(_ node: YAMLNode) -> PolicyEndpoint? {
        if node.mapping != nil {
            guard let f = Fields(node, context: "endpoint", what: "an endpoint", sink: sink) else { return nil }
            guard let host = f.string("address") else {
                if !f.has("address") { f.missing("address") }
                return nil
            }
            guard let port = f.int("port", in: 1...65535) else {
                if !f.has("port") { f.missing("port") }
                return nil
            }
            return makeEndpoint(host.value, port.value, bracketed: false, weight: f.int("weight", in: 1...128), span: host.span)
        }
        guard let s = Fields.string(node, what: "an endpoint", sink: sink) else { return nil }
        switch PolicyValues.hostPort(s.value) {
        case .failure(let p):
            sink.add(.invalidValue, "endpoint: \(p.message)", at: s.span, help: p.help)
            return nil
        case .success(let hp):
            return makeEndpoint(hp.host, hp.port, bracketed: hp.bracketed, weight: nil, span: s.span)
        }
    }

    func makeEndpoint(_ host: String, _ port: Int, bracketed: Bool, weight: Located<Int>?, span: SourceSpan) -> PolicyEndpoint? {
        if let ip = PolicyValues.canonicalIP(host) {
            return PolicyEndpoint(host: ip, port: port, weight: weight, isIP: true, span: span)
        }
        if bracketed || !PolicyValues.isHostname(host, allowTrailingDot: true) || host.allSatisfy({ $0.isNumber || $0 == "." }) {
            sink.add(.invalidValue, "`\(host)` is neither an IP address nor a host name", at: span, label: "invalid host")
            return nil
        }
        return PolicyEndpoint(host: host.lowercased(), port: port, weight: weight, isIP: false, span: span)
    }

    func upstreamTLS(_ f: Fields) -> PolicyUpstreamTLS? {
        guard let v = f.value("tls") else { return nil }
        if v.scalar != nil {
            guard let b = Fields.bool(v, what: "`tls`", sink: sink) else { return nil }
            return b.value ? PolicyUpstreamTLS(sni: nil, caFile: nil, verifySAN: [], span: v.span) : nil
        }
        guard let t = Fields(v, context: "service.tls", what: "`tls`", anchor: f.keySpan("tls"), sink: sink) else { return nil }
        let sni = t.string("sni")
        if let sni, !PolicyValues.isHostname(sni.value) {
            sink.add(.invalidValue, "`sni` `\(sni.value)` is not a host name", at: sni.span)
        }
        let san = t.stringList("verify_san", allowSingle: true) ?? []
        if !san.isEmpty && !t.has("ca_file") {
            sink.add(
                .missingField, "`verify_san` needs `ca_file`: without a trust anchor the certificate is not verified at all",
                at: t.keySpan("verify_san")!, help: "add `ca_file: /etc/ssl/certs/ca-certificates.crt` or your CA")
        }
        return PolicyUpstreamTLS(sni: sni, caFile: t.string("ca_file"), verifySAN: san, span: v.span)
    }

    func healthCheck(_ f: Fields) -> PolicyHealthCheck? {
        guard let v = f.value("health_check") else { return nil }
        guard let h = Fields(v, context: "health_check", what: "`health_check`", anchor: f.keySpan("health_check"), sink: sink) else {
            return nil
        }
        var kind: PolicyHealthCheck.Kind?
        switch h.exclusive(["http", "tcp", "grpc"], required: true, help: "e.g. `http: /healthz`") {
        case "http":
            if let p = h.string("http") {
                if p.value.hasPrefix("/") {
                    kind = .http(path: p)
                } else {
                    sink.add(.invalidValue, "health check path `\(p.value)` must start with `/`", at: p.span, help: "write `/\(p.value)`")
                }
            }
        case "tcp":
            if let b = h.bool("tcp") {
                if b.value {
                    kind = .tcp
                } else {
                    sink.add(.invalidValue, "`tcp: false` turns nothing on", at: b.span, help: "write `tcp: true`, or choose `http`/`grpc`")
                }
            }
        case "grpc":
            let g = h.value("grpc")!
            if let b = g.scalar?.bool, b {
                kind = .grpc(service: nil)
            } else if let gf = Fields(g, context: "health_check.grpc", what: "`grpc`", anchor: h.keySpan("grpc"), sink: sink) {
                kind = .grpc(service: gf.string("service"))
            }
        default: break
        }
        let interval = h.duration("interval", positive: true)
        let timeout = h.duration("timeout", positive: true)
        let healthy = h.int("healthy_threshold", in: 1...Int(UInt32.max))
        let unhealthy = h.int("unhealthy_threshold", in: 1...Int(UInt32.max))
        guard let kind else { return nil }
        func r<T>(_ l: Located<T>?, _ d: T) -> Resolved<T> {
            l.map { Resolved($0.value, Provenance(.service, $0.span)) } ?? Resolved(d, .builtin)
        }
        return PolicyHealthCheck(
            kind: kind, interval: r(interval, PolicyHealthCheck.defaultInterval), timeout: r(timeout, PolicyHealthCheck.defaultTimeout),
            healthyThreshold: r(healthy, PolicyHealthCheck.defaultHealthyThreshold),
            unhealthyThreshold: r(unhealthy, PolicyHealthCheck.defaultUnhealthyThreshold), span: v.span)
    }

    func circuitBreaker(_ f: Fields) -> PolicyCircuitBreaker? {
        guard let v = f.value("circuit_breaker"),
            let c = Fields(v, context: "circuit_breaker", what: "`circuit_breaker`", anchor: f.keySpan("circuit_breaker"), sink: sink)
        else { return nil }
        let r = 0...Int(UInt32.max)
        return PolicyCircuitBreaker(
            maxConnections: c.int("max_connections", in: r), maxPendingRequests: c.int("max_pending_requests", in: r),
            maxRequests: c.int("max_requests", in: r), maxRetries: c.int("max_retries", in: r), span: v.span)
    }

    func outlierDetection(_ f: Fields) -> PolicyOutlierDetection? {
        guard let v = f.value("outlier_detection"),
            let o = Fields(v, context: "outlier_detection", what: "`outlier_detection`", anchor: f.keySpan("outlier_detection"), sink: sink)
        else { return nil }
        return PolicyOutlierDetection(
            consecutive5xx: o.int("consecutive_5xx", in: 0...Int(UInt32.max)), interval: o.duration("interval", positive: true),
            baseEjectionTime: o.duration("base_ejection_time", positive: true),
            maxEjectionPercent: o.int("max_ejection_percent", in: 0...100), span: v.span)
    }

    // MARK: listeners and hosts

    func lowerListener(_ name: Located<String>, _ node: YAMLNode) -> PolicyListener? {
        guard let f = Fields(node, context: "listener", what: "listener `\(name.value)`", anchor: name.span, sink: sink) else { return nil }
        let address = socketAddress(f, "address")
        if !f.has("address") { f.missing("address", help: "e.g. `address: 0.0.0.0:8080`") }
        var tls: PolicyDownstreamTLS?
        if let v = f.value("tls"), let t = Fields(v, context: "listener.tls", what: "listener `tls`", anchor: f.keySpan("tls"), sink: sink)
        {
            let cert = t.string("cert_file")
            let key = t.string("key_file")
            if !t.has("cert_file") { t.missing("cert_file") }
            if !t.has("key_file") { t.missing("key_file") }
            if let cert, let key { tls = PolicyDownstreamTLS(certFile: cert, keyFile: key, span: v.span) }
        }
        var accessLog: Located<PolicyAccessLog>?
        if let a = f.string("access_log") {
            switch a.value {
            case "stdout": accessLog = Located(.stdout, a.span)
            case "stderr": accessLog = Located(.stderr, a.span)
            default: accessLog = Located(.file(a.value), a.span)
            }
        }
        var hosts: [PolicyHost] = []
        if let entries = f.entries("hosts") {
            if entries.isEmpty {
                sink.add(.invalidValue, "`hosts` is empty; a listener needs at least one host", at: f.value("hosts")!.span, label: "empty")
            }
            for p in entries {
                guard let s = p.key.scalar, !s.isNull else {
                    sink.add(.typeMismatch, "a host name must be a string", at: p.key.span)
                    continue
                }
                let hostName = Located(s.text, p.key.span)
                checkName(hostName, kind: "host")
                if let h = lowerHost(hostName, p.value) { hosts.append(h) }
            }
        } else if !f.has("hosts") {
            f.missing("hosts", help: "add `hosts:` with at least one host and its routes")
        }
        // A listener whose address is invalid is kept (with port 0, which nothing binds) so the
        // problems in its hosts and routes are still reported.
        let placeholder = Located(PolicySocketAddress(ip: "0.0.0.0", port: 0), f.value("address")?.span ?? name.span)
        return PolicyListener(
            name: name, span: node.span, address: address ?? placeholder, tls: tls, accessLog: accessLog, settings: settings(f),
            hosts: hosts)
    }

    func lowerHost(_ name: Located<String>, _ node: YAMLNode) -> PolicyHost? {
        guard let f = Fields(node, context: "host", what: "host `\(name.value)`", anchor: name.span, sink: sink) else { return nil }
        var domains: [Located<String>] = []
        if let list = f.stringList("domains", allowSingle: true) {
            if list.isEmpty {
                sink.add(
                    .invalidValue, "`domains` is empty; a host needs at least one domain", at: f.value("domains")!.span, label: "empty")
            }
            for d in list {
                if let p = PolicyValues.domainProblem(d.value) {
                    sink.add(.invalidValue, p.message, at: d.span, label: "invalid domain", help: p.help)
                } else {
                    domains.append(d)
                }
            }
        } else if !f.has("domains") {
            f.missing("domains", help: "e.g. `domains: [api.example.com]` or `[\"*\"]`")
        }
        var routes: [PolicyRoute] = []
        if let items = f.list("routes") {
            if items.isEmpty {
                sink.add(.invalidValue, "`routes` is empty; a host needs at least one route", at: f.value("routes")!.span, label: "empty")
            }
            var names: [String: SourceSpan] = [:]
            names.reserveCapacity(items.count)
            routes.reserveCapacity(items.count)
            for (written, item) in items.enumerated() {
                // Messages number routes as written, even after one that could not be lowered.
                guard let r = RouteLowering(sink: sink, references: references).lower(item, index: written) else { continue }
                if let n = r.name {
                    if let first = names[n.value] {
                        sink.add(
                            .duplicateName, "route name `\(n.value)` is used twice in host `\(name.value)`", at: n.span,
                            label: "second use", related: [RelatedLocation("first used here", at: first)],
                            help: "route names must be unique within their host")
                    } else {
                        names[n.value] = n.span
                    }
                }
                // `index` stays the position as written: `#N` in every message, also after a
                // route that could not be lowered.
                routes.append(r)
            }
        } else if !f.has("routes") {
            f.missing("routes", help: "add `routes:` with at least one route")
        }
        return PolicyHost(name: name, span: node.span, domains: domains, settings: settings(f), routes: routes)
    }

    // MARK: policy keys

    func settings(_ f: Fields) -> PolicySettings {
        PolicyKeyLowering(sink: sink).settings(f)
    }
}

/// Every service name a route or mirror mentions, even in a route that could not be lowered,
/// so one broken route does not make its service look unused.
final class ServiceReferences {
    var names = Set<String>()
}
