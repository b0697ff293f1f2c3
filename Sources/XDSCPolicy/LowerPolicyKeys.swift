import XDSCDiagnostics
import XDSCSyntax

/// Lowers the inheritable policy keys of one level (defaults, listener, host or route).
struct PolicyKeyLowering {
    let sink: DiagnosticSink

    func settings(_ f: Fields) -> PolicySettings {
        var s = PolicySettings()
        // Most routes write no policy key: one signature test, not eight lookups.
        guard f.hasAny(KnownKeys.policy) else { return s }
        s.timeout = f.duration("timeout")
        s.idleTimeout = f.duration("idle_timeout")
        s.retries = retries(f)
        s.requestHeaders = headerOps(f, "request_headers")
        s.responseHeaders = headerOps(f, "response_headers")
        s.cors = cors(f)
        s.rateLimit = rateLimit(f)
        if f.context == "defaults" { s.connectTimeout = f.duration("connect_timeout", positive: true) }
        return s
    }

    func retries(_ f: Fields) -> Located<RetrySetting>? {
        guard let v = f.value("retries") else { return nil }
        if let s = v.scalar, s.text == "none" { return Located(.disabled, v.span) }
        if v.scalar?.bool == false { return Located(.disabled, v.span) }
        guard let r = Fields(v, context: "retries", what: "`retries`", anchor: f.keySpan("retries"), sink: sink) else {
            return nil
        }
        var policy = PolicyRetryPolicy(
            attempts: r.int("attempts", in: 0...1000), on: [], perTryTimeout: r.duration("per_try_timeout"), statusCodes: [])
        let key = conditionsKey(r)
        var hasStatusToken = false
        var seen: [String: SourceSpan] = [:]
        let tokens = key.flatMap { r.stringList($0, allowSingle: true) }
        if let key, let list = r.value(key)?.sequence, list.isEmpty {
            // Without a diagnostic an empty list would silently mean the default conditions.
            sink.add(
                .invalidValue, "`\(key)` is an empty list", at: r.value(key)!.span, label: "no conditions",
                help: "list at least one condition, e.g. `retry_on: [5xx]`; leave `\(key)` out for the default "
                    + PolicyRetryPolicy.defaultOn.map { "`\($0)`" }.joined(separator: ", ") + ", or write `retries: none`")
        }
        for token in tokens ?? [] {
            if let first = seen[token.value] {
                sink.add(
                    .ineffectiveSetting, "retry condition `\(token.value)` is listed twice", at: token.span, label: "repeated",
                    related: [RelatedLocation("first listed here", at: first)], help: "remove the repeated `\(token.value)`")
            } else if PolicyRetryPolicy.conditions.contains(token.value) {
                seen[token.value] = token.span
                if token.value == "retriable-status-codes" { hasStatusToken = true }
                policy.on.append(token)
            } else {
                let close = PolicyValues.suggestion(for: token.value, in: PolicyRetryPolicy.conditions)
                sink.add(
                    .invalidValue, "`\(token.value)` is not a retry condition" + (close.map { "; did you mean `\($0)`?" } ?? ""),
                    at: token.span, label: "unknown condition",
                    help: close == nil ? "conditions: " + PolicyRetryPolicy.conditions.map { "`\($0)`" }.joined(separator: ", ") : nil)
            }
        }
        let named = key ?? "retry_on"
        let codes = r.list("status_codes", allowSingle: true)
        if let codes, codes.isEmpty {
            sink.add(
                .invalidValue, "`status_codes` is an empty list", at: r.value("status_codes")!.span, label: "no status codes",
                help: hasStatusToken ? "e.g. `status_codes: [503]`" : "remove `status_codes`")
        } else if let codes {
            var seenCodes: [Int: SourceSpan] = [:]
            for node in codes {
                guard let code = Fields.int(node, what: "a retry status code", in: 100...599, sink: sink) else { continue }
                if let first = seenCodes[code.value] {
                    sink.add(
                        .ineffectiveSetting, "retry status code \(code.value) is listed twice", at: code.span, label: "repeated",
                        related: [RelatedLocation("first listed here", at: first)], help: "remove the repeated \(code.value)")
                    continue
                }
                seenCodes[code.value] = code.span
                policy.statusCodes.append(code)
            }
            if !hasStatusToken {
                sink.add(
                    .conflictingFields, "`status_codes` has no effect unless `\(named)` includes `retriable-status-codes`",
                    at: r.keySpan("status_codes")!, help: "add `retriable-status-codes` to `\(named)`")
            }
        } else if hasStatusToken && !r.has("status_codes") {
            // A written but unusable `status_codes` is already reported; it is not missing.
            sink.add(
                .missingField, "`retriable-status-codes` needs `status_codes`", at: key.flatMap { r.keySpan($0) } ?? v.span,
                help: "e.g. `status_codes: [503]`")
        }
        return Located(.policy(policy), v.span)
    }

    /// Which key of `retries` names the conditions: `retry_on`, or its older spelling `on`
    /// (read with a `deprecated-field` warning). Both in one mapping is `conflicting-fields`,
    /// and `retry_on` is read.
    func conditionsKey(_ r: Fields) -> String? {
        guard let old = r.keySpan("on") else { return r.has("retry_on") ? "retry_on" : nil }
        if let current = r.keySpan("retry_on") {
            sink.add(
                .conflictingFields, "`on` conflicts with `retry_on`: both name the retry conditions", at: old,
                label: "older spelling", related: [RelatedLocation("`retry_on` given here", at: current)],
                help: "delete `on` and keep `retry_on`")
            return "retry_on"
        }
        sink.add(
            .deprecatedField, "`on` is an older spelling of `retry_on`", at: old, label: "older spelling",
            notes: ["YAML 1.1 tools such as PyYAML and yamllint read the key `on` as `true`"], help: "write `retry_on`")
        return "on"
    }

    func headerOps(_ f: Fields, _ key: String) -> PolicyHeaderOps? {
        guard let v = f.value(key), let h = Fields(v, context: "headers", what: "`\(key)`", anchor: f.keySpan(key), sink: sink) else {
            return nil
        }
        var ops = PolicyHeaderOps(span: v.span)
        var seen: [String: SourceSpan] = [:]
        func note(_ name: Located<String>) -> Bool {
            let lower = name.value.lowercased()
            if let first = seen[lower] {
                sink.add(
                    .duplicateKey, "header `\(lower)` appears twice in `\(key)`", at: name.span,
                    related: [RelatedLocation("first defined here", at: first)],
                    help: "header names are case-insensitive; keep one operation per header")
                return false
            }
            seen[lower] = name.span
            if let p = PolicyValues.headerNameProblem(name.value, allowPseudo: false) {
                sink.add(.invalidValue, p.message, at: name.span, label: "invalid header name", help: p.help)
                return false
            }
            return true
        }
        // Read in the order written, whatever the operation, so the first of two operations
        // on one header is the one named "first".
        var written: [(op: String, pair: YAMLPair)] = []
        for op in ["set", "add"] { written += (h.entries(op) ?? []).map { (op, $0) } }
        let removals = h.stringList("remove", allowSingle: true) ?? []
        let order = (written.map(\.pair.key.span.start) + removals.map(\.span.start)).enumerated()
            .sorted { ($0.element, $0.offset) < ($1.element, $1.offset) }.map(\.offset)
        for index in order {
            guard index < written.count else {
                let name = removals[index - written.count]
                if note(name) { ops.remove.append(Located(name.value.lowercased(), name.span)) }
                continue
            }
            let (op, p) = written[index]
            guard let name = Fields.string(p.key, what: "a header name", sink: sink),
                let value = Fields.string(p.value, what: "the value of `\(name.value)`", nonEmpty: false, sink: sink),
                note(name)
            else { continue }
            if value.value.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) {
                sink.add(
                    .invalidValue, "the value of header `\(name.value)` contains a line break or NUL, which Envoy rejects",
                    at: value.span,
                    label: "control character", help: "header values are one line; use a plain (not `|`) scalar")
                continue
            }
            let entry = (name: Located(name.value.lowercased(), name.span), value: value)
            if op == "set" { ops.set.append(entry) } else { ops.add.append(entry) }
        }
        return ops
    }

    func cors(_ f: Fields) -> Located<PolicyCORS>? {
        guard let v = f.value("cors"), let c = Fields(v, context: "cors", what: "`cors`", anchor: f.keySpan("cors"), sink: sink) else {
            return nil
        }
        var cors = PolicyCORS()
        cors.allowOrigins = c.stringList("allow_origins", allowSingle: true) ?? []
        for o in cors.allowOrigins where o.value != "*" {
            let parts = o.value.split(separator: "/", omittingEmptySubsequences: false)
            let ok = (o.value.hasPrefix("http://") || o.value.hasPrefix("https://")) && parts.count == 3 && !parts[2].isEmpty
            if !ok {
                sink.add(
                    .invalidValue, "`\(o.value)` is not an origin", at: o.span, label: "invalid origin",
                    help: "an origin is `scheme://host[:port]` with no path, e.g. `https://app.example.com`, or `*`")
            }
        }
        cors.allowMethods = (c.stringList("allow_methods", allowSingle: true) ?? []).filter { m in
            guard let p = PolicyValues.methodProblem(m.value) else { return true }
            sink.add(.invalidValue, p.message, at: m.span, help: p.help)
            return false
        }
        cors.allowHeaders = c.stringList("allow_headers", allowSingle: true) ?? []
        cors.exposeHeaders = c.stringList("expose_headers", allowSingle: true) ?? []
        for h in cors.allowHeaders + cors.exposeHeaders where h.value != "*" {
            if let p = PolicyValues.headerNameProblem(h.value, allowPseudo: false) {
                sink.add(.invalidValue, p.message, at: h.span, help: p.help)
            }
        }
        cors.maxAge = c.duration("max_age")
        // Envoy's `max_age` is a string of whole seconds (browsers read `Access-Control-Max-Age`
        // as an integer), so a sub-second remainder cannot be written as it stands.
        if let m = cors.maxAge, m.value.milliseconds % 1000 != 0 {
            let down = PolicyDuration.seconds(m.value.milliseconds / 1000)
            let up = PolicyDuration.seconds(m.value.milliseconds / 1000 + 1)
            let choices = down.milliseconds == 0 ? "`max_age: \(up)`" : "`max_age: \(down)` or `max_age: \(up)`"
            sink.add(
                .invalidValue, "`max_age` \(m.value) is not a whole number of seconds; Envoy's CORS `max_age` is in seconds",
                at: m.span, label: "sub-second remainder", help: "use whole seconds: \(choices)")
        }
        cors.allowCredentials = c.bool("allow_credentials")
        if cors.allowCredentials?.value == true, cors.allowOrigins.contains(where: { $0.value == "*" }) {
            sink.add(
                .conflictingFields, "browsers refuse credentials for the wildcard origin `*`", at: cors.allowCredentials!.span,
                related: cors.allowOrigins.filter { $0.value == "*" }.map { RelatedLocation("`*` allowed here", at: $0.span) },
                help: "list the origins explicitly")
        }
        if cors.allowOrigins.isEmpty && !c.has("allow_origins") {
            c.missing("allow_origins", help: "e.g. `allow_origins: [\"https://app.example.com\"]`")
        }
        return Located(cors, v.span)
    }

    func rateLimit(_ f: Fields) -> Located<PolicyRateLimit>? {
        guard let v = f.value("rate_limit"),
            let r = Fields(v, context: "rate_limit", what: "`rate_limit`", anchor: f.keySpan("rate_limit"), sink: sink)
        else { return nil }
        let requests = r.int("requests", in: 1...Int(UInt32.max))
        let per = r.duration("per", positive: true)
        if !r.has("requests") { r.missing("requests", help: "e.g. `requests: 100`") }
        if !r.has("per") { r.missing("per", help: "e.g. `per: 1s`") }
        if let per, per.value.milliseconds < 50 {
            sink.add(
                .invalidValue, "`per` is \(per.value); Envoy's local rate limiter refills at most every 50ms", at: per.span,
                help: "scale both numbers, e.g. `requests: 10, per: 100ms`")
            return nil
        }
        guard let requests, let per else { return nil }
        return Located(PolicyRateLimit(requests: requests, per: per), v.span)
    }
}

/// Resolves every route's effective policy: the nearest level that writes a key wins,
/// whole (route over host over listener over defaults); header operations merge per header.
enum Inheritance {
    /// `workers`: the threads, or nil for `Parallel.workers(forRoutes:)` of each listener.
    static func resolve(_ policy: inout Policy, workers: Int? = nil) {
        let defaults = policy.defaults
        for li in policy.listeners.indices {
            let listener = policy.listeners[li].settings
            let routes = policy.listeners[li].hosts.reduce(0) { $0 + $1.routes.count }
            let workers = workers ?? Parallel.workers(forRoutes: routes)
            policy.listeners[li].hosts.withUnsafeMutableBufferPointer { hosts in
                guard workers > 1, hosts.count > 1, let base = hosts.baseAddress else {
                    for hi in hosts.indices { resolve(&hosts[hi], defaults: defaults, listener: listener) }
                    return
                }
                // Each host is changed in place by the one thread that takes it (issue 13:
                // the routes of a large policy, host by host on the processors).
                _ = Parallel.map(hosts.count, workers: workers) { hi in resolve(&base[hi], defaults: defaults, listener: listener) }
            }
        }
    }

    /// The effective policy of every route of `host`, below `listener` and `defaults`.
    static func resolve(_ host: inout PolicyHost, defaults: PolicySettings, listener: PolicySettings) {
        let levels: [(Provenance.Level, PolicySettings)] = [(.defaults, defaults), (.listener, listener), (.host, host.settings)]
        // The levels above the route are the same for every route of the host: what they
        // give is found once, and a route only looks at its own settings.
        let inherited = effective(levels)
        for ri in host.routes.indices {
            host.routes[ri].effective = effective(route: host.routes[ri].settings, below: inherited, levels)
        }
    }

    /// A route's effective policy: its own keys over `inherited`, the effective policy of
    /// `levels` (the levels above it).
    static func effective(route s: PolicySettings, below inherited: EffectivePolicy, _ levels: [(Provenance.Level, PolicySettings)])
        -> EffectivePolicy
    {
        var e = inherited
        func own<T>(_ v: Located<T>?) -> Resolved<T>? { v.map { Resolved($0.value, Provenance(.route, $0.span)) } }
        if let v = own(s.timeout) { e.timeout = v }
        if let v = own(s.idleTimeout) { e.idleTimeout = v }
        if let v = own(s.retries) { e.retries = v }
        if let v = own(s.cors) { e.cors = v }
        if let v = own(s.rateLimit) { e.rateLimit = v }
        if s.requestHeaders != nil {
            e.requestHeaders = mergeHeaders(levels.map { ($0.0, $0.1.requestHeaders) } + [(.route, s.requestHeaders)])
        }
        if s.responseHeaders != nil {
            e.responseHeaders = mergeHeaders(levels.map { ($0.0, $0.1.responseHeaders) } + [(.route, s.responseHeaders)])
        }
        return e
    }

    /// `levels` go from least to most specific.
    static func effective(_ levels: [(Provenance.Level, PolicySettings)]) -> EffectivePolicy {
        var e = EffectivePolicy()
        func nearest<T>(_ key: KeyPath<PolicySettings, Located<T>?>) -> Resolved<T>? {
            for (level, s) in levels.reversed() {
                if let v = s[keyPath: key] { return Resolved(v.value, Provenance(level, v.span)) }
            }
            return nil
        }
        e.timeout = nearest(\.timeout)
        e.idleTimeout = nearest(\.idleTimeout)
        e.retries = nearest(\.retries)
        e.cors = nearest(\.cors)
        e.rateLimit = nearest(\.rateLimit)
        e.requestHeaders = mergeHeaders(levels.map { ($0.0, $0.1.requestHeaders) })
        e.responseHeaders = mergeHeaders(levels.map { ($0.0, $0.1.responseHeaders) })
        return e
    }

    /// Per header name the nearest level's operation wins; order: by first appearance from
    /// the least specific level, so output is stable.
    static func mergeHeaders(_ levels: [(Provenance.Level, PolicyHeaderOps?)]) -> [ResolvedHeaderOp] {
        var order: [String] = []
        var winner: [String: ResolvedHeaderOp] = [:]
        for (level, ops) in levels {
            guard let ops else { continue }
            var here: [ResolvedHeaderOp] = []
            for (n, v) in ops.set {
                here.append(ResolvedHeaderOp(name: n.value, operation: .set(v.value), provenance: Provenance(level, n.span)))
            }
            for (n, v) in ops.add {
                here.append(ResolvedHeaderOp(name: n.value, operation: .add(v.value), provenance: Provenance(level, n.span)))
            }
            for n in ops.remove { here.append(ResolvedHeaderOp(name: n.value, operation: .remove, provenance: Provenance(level, n.span))) }
            for op in here {
                if winner[op.name] == nil { order.append(op.name) }
                winner[op.name] = op
            }
        }
        return order.compactMap { winner[$0] }
    }
}
