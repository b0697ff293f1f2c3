import XDSCDiagnostics
import XDSCSyntax

/// Lowers one route: its match, its single action and the route-only keys.
struct RouteLowering {
    let sink: DiagnosticSink
    let references: ServiceReferences

    static let actionKeys = ["to", "redirect", "respond"]
    static let forwardOnlyKeys = ["rewrite", "mirror", "hash_on", "websocket", "fault"]
    /// The keys a route writes besides its name, match, action and policy keys: the
    /// forward-only ones.
    static let rareKeys = KnownKeys(forwardOnlyKeys)
    /// The header or query names of one match kept in a list, searched in order.
    static let seenListLimit = 8

    func lower(_ node: YAMLNode, index: Int) -> PolicyRoute? {
        // The label ("route `NAME`") is made only for a message.
        guard let f = Fields(node, context: "route", label: .route(index: index), known: .route, sink: sink) else { return nil }
        let name = f.string("name")
        if let name, !PolicyValues.isValidName(name.value) {
            sink.add(
                .invalidValue, "route name `\(name.value)` is not valid", at: name.span, label: "invalid name",
                help: "names are 1-64 characters of a-z, 0-9, `.`, `_` and `-`, starting and ending with a letter or digit")
        }
        var match: PolicyRouteMatch?
        if let m = f.value("match") {
            match = lowerMatch(m, anchor: f.keySpan("match")!)
        } else {
            f.missing("match", help: "e.g. `match: {prefix: /}`")
        }
        let to = f.value("to")
        // A plain `to`'s scalar, made once for the reference and the action.
        var toScalar: YAMLScalar?
        if let to {
            if let m = to.mapping {
                for p in m { if let n = p.key.scalar?.text { references.names.insert(n) } }
            } else if let s = to.scalar {
                references.names.insert(s.text)
                toScalar = s
            }
        }
        // The route-only keys beyond the action are rare: one signature test for all five
        // (issue 13: each lookup of an absent key cost as much as a present one's).
        let rare = f.hasAny(Self.rareKeys)
        if rare, let n = (f.value("mirror")?["to"] ?? f.value("mirror"))?.scalar?.text { references.names.insert(n) }
        let actionKey = f.exclusive(Self.actionKeys, required: true, help: "e.g. `to: SERVICE`")
        var action: PolicyRouteAction?
        switch actionKey {
        case "to": action = forward(to!, scalar: toScalar)
        case "redirect": action = redirect(f)
        case "respond": action = respond(f)
        default: break
        }
        if rare, let actionKey, actionKey != "to" {
            for key in f.present(Self.forwardOnlyKeys) {
                sink.add(
                    .conflictingFields, "`\(key)` needs a `to` action, but this route uses `\(actionKey)`", at: f.keySpan(key)!,
                    label: "not with \(actionKey)", related: [RelatedLocation("`\(actionKey)` given here", at: f.keySpan(actionKey)!)],
                    help: "remove `\(key)`, or send the route to a service with `to`")
            }
        }
        let rewrite = rare ? lowerRewrite(f) : nil
        let mirror = rare ? lowerMirror(f) : nil
        let hashOn = rare ? lowerHashOn(f) : nil
        let websocket = rare ? f.bool("websocket") : nil
        let fault = rare ? lowerFault(f) : nil
        let settings = PolicyKeyLowering(sink: sink).settings(f)
        guard let match, let action else { return nil }
        return PolicyRoute(
            index: index, name: name, span: node.span, match: match, action: action, rewrite: rewrite, mirror: mirror,
            hashOn: hashOn, websocket: websocket, fault: fault, settings: settings, effective: EffectivePolicy())
    }

    // MARK: match

    func lowerMatch(_ node: YAMLNode, anchor: SourceSpan) -> PolicyRouteMatch? {
        guard let m = Fields(node, context: "match", label: .text("`match`"), anchor: anchor, known: .match, sink: sink) else {
            return nil
        }
        var path: Located<PolicyPathMatch>?
        if let key = m.exclusive(["prefix", "path", "regex"], required: true, help: "e.g. `prefix: /`"),
            let s = m.string(key, nonEmpty: key != "prefix")
        {
            switch key {
            case "prefix":
                path = Located(.prefix(s.value), s.span)
                if !s.value.isEmpty && !PolicyValues.startsWithSlash(s.value) { pathWarning(s, key) }
            case "path":
                path = Located(.exact(s.value), s.span)
                if !PolicyValues.startsWithSlash(s.value) { pathWarning(s, key) }
            default:
                path = Located(.regex(s.value), s.span)
            }
        }
        let caseSensitive = m.bool("case_sensitive")
        if let caseSensitive, case .regex = path?.value {
            sink.add(
                .ineffectiveSetting, "`case_sensitive` has no effect on a `regex` match: Envoy ignores it for regexes",
                at: caseSensitive.span, label: "ignored",
                help: caseSensitive.value ? "remove it" : "remove it and start the pattern with `(?i)`")
        }
        // The list read once (`stringList` and an emptiness test read it twice).
        let methodNodes = m.list("methods", allowSingle: true)
        var methods = methodNodes?.compactMap { Fields.string($0, what: "an item of `methods`", sink: sink) } ?? []
        // Filtered in place: the usual list, all valid and distinct, stays the array it is.
        var kept = 0
        for i in methods.indices {
            let mth = methods[i]
            if let p = PolicyValues.methodProblem(mth.value) {
                sink.add(.invalidValue, p.message, at: mth.span, label: "invalid method", help: p.help)
            } else if methods[..<kept].contains(where: { $0.value == mth.value }) {
                sink.add(.duplicateKey, "method `\(mth.value)` is listed twice", at: mth.span)
            } else {
                if kept != i { methods[kept] = mth }
                kept += 1
            }
        }
        if kept < methods.count { methods.removeSubrange(kept...) }
        // A written `methods` that is no list is reported by `list` (a second time here, as
        // the two reads always did).
        // A closure, not `\.isEmpty`: a key path is read through the runtime on every call.
        let methodsEmpty = methodNodes.map { $0.isEmpty } ?? (m.has("methods") && m.list("methods", allowSingle: true)?.isEmpty == true)
        if methodsEmpty {
            sink.add(
                .invalidValue, "`methods` is empty, so the route would match no request", at: m.value("methods")!.span,
                help: "remove `methods` to match every method")
        }
        let headers = fieldMatchers(m, "headers", header: true)
        let query = fieldMatchers(m, "query", header: false)
        let grpc = m.bool("grpc")
        if let grpc, !grpc.value {
            // Envoy's `grpc: {}` can only require gRPC; nothing in `RouteMatch` excludes it.
            sink.add(
                .ineffectiveSetting, "`grpc: false` has no effect: Envoy can only require gRPC, so this route also takes gRPC requests",
                at: grpc.span, label: "ignored",
                help: "remove it; to keep gRPC requests off this route, put a route with `grpc: true` before it")
        }
        guard let path else { return nil }
        return PolicyRouteMatch(
            span: node.span, path: path, caseSensitive: caseSensitive, methods: methods, headers: headers, query: query, grpc: grpc)
    }

    func pathWarning(_ s: Located<String>, _ key: String) {
        sink.add(
            .invalidValue, "`\(key)` `\(s.value)` does not start with `/`, so no request path can match it", at: s.span,
            label: "no leading `/`", help: "write `/\(s.value)`")
    }

    /// `headers:` / `query:` entries: a plain value means exact; a mapping picks a matcher.
    func fieldMatchers(_ m: Fields, _ key: String, header: Bool) -> [PolicyFieldMatcher] {
        guard let entries = m.pairs(key) else { return [] }
        var out: [PolicyFieldMatcher] = []
        // The names seen, where first matched: a list searched in order for the usual few
        // (a dictionary per route cost more than the rest of its headers), a dictionary from
        // `Self.seenListLimit` names on.
        var seenList: [(name: String, span: SourceSpan)] = []
        var seen: [String: SourceSpan] = [:]
        func first(_ name: String) -> SourceSpan? {
            seen.isEmpty ? seenList.first { $0.name == name }?.span : seen[name]
        }
        func see(_ name: String, _ span: SourceSpan) {
            if seen.isEmpty && seenList.count < Self.seenListLimit {
                seenList.append((name, span))
                return
            }
            if seen.isEmpty { for e in seenList { seen[e.name] = e.span } }
            seen[name] = span
        }
        for p in entries {
            guard let nameScalar = p.key.scalar, !p.key.isNull else {
                sink.add(.typeMismatch, "a \(header ? "header" : "query parameter") name must be a string", at: p.key.span)
                continue
            }
            var name = nameScalar.text
            if header {
                if let problem = PolicyValues.headerNameProblem(name, allowPseudo: true) {
                    sink.add(.invalidValue, problem.message, at: p.key.span, label: "invalid header name", help: problem.help)
                    continue
                }
                name = name.lowercased()
                if name == "host" {
                    sink.add(
                        .invalidValue, "Envoy matches the host as `:authority`, never `host`", at: p.key.span,
                        help: "use a separate host with `domains`, or match `:authority`")
                    continue
                }
            } else if name.isEmpty || name.utf8.count > 1024 {
                sink.add(.invalidValue, "query parameter names are 1 to 1024 bytes", at: p.key.span)
                continue
            } else if let problem = Self.queryTextProblem(name, isName: true) {
                // Kept as written: dropping it would widen the route for the analysis.
                sink.add(.invalidValue, problem.message, at: p.key.span, label: "never matches", help: problem.help)
            }
            if let first = first(name) {
                sink.add(
                    .duplicateKey, "\(header ? "header" : "query parameter") `\(name)` is matched twice", at: p.key.span,
                    related: [RelatedLocation("first matched here", at: first)])
                continue
            }
            see(name, p.key.span)
            let located = Located(name, p.key.span)
            if p.value.mapping != nil {
                guard
                    let f = Fields(p.value, context: "matcher", what: "the matcher of `\(name)`", anchor: p.key.span, sink: sink)
                else { continue }
                let invert = f.bool("invert")?.value ?? false
                guard let kindKey = f.exclusive(["exact", "prefix", "suffix", "contains", "regex", "present"], required: true) else {
                    continue
                }
                var kind: PolicyFieldMatcher.Kind?
                if kindKey == "present" {
                    if let b = f.bool("present") { kind = .present(b.value) }
                } else if let s = f.string(kindKey, nonEmpty: kindKey != "exact") {
                    switch kindKey {
                    case "exact": kind = .exact(s.value)
                    case "prefix": kind = .prefix(s.value)
                    case "suffix": kind = .suffix(s.value)
                    case "contains": kind = .contains(s.value)
                    default: kind = .regex(s.value)
                    }
                }
                // The matcher stays in the model as written (the build stops at the error), so
                // the route analysis keeps the route and its numbering.
                if !header, let kind, let problem = queryMatcherProblem(name, kind, invert: f.bool("invert"), f) {
                    sink.add(
                        .unsupportedMatcher, problem.message, at: problem.at, label: "not expressible in Envoy",
                        notes: [
                            "Envoy's query parameter matcher has no `invert_match`, and `present_match: false` means \"absent\" only from Envoy 1.34 with the runtime guard `envoy.reloadable_features.enable_new_query_param_present_match_behavior` on; older Envoys and that guard off require the parameter"
                        ],
                        help: problem.help)
                }
                if let kind {
                    if !header, let problem = Self.queryValueProblem(kind) {
                        sink.add(.invalidValue, problem.message, at: f.value(kindKey)!.span, label: "never matches", help: problem.help)
                    }
                    out.append(
                        PolicyFieldMatcher(name: located, kind: Located(kind, f.value(kindKey)!.span), invert: invert, span: p.value.span))
                }
            } else if let s = Fields.string(p.value, what: "the value of `\(name)`", nonEmpty: false, sink: sink) {
                if !header, let problem = Self.queryValueProblem(.exact(s.value)) {
                    sink.add(.invalidValue, problem.message, at: s.span, label: "never matches", help: problem.help)
                }
                out.append(PolicyFieldMatcher(name: located, kind: Located(.exact(s.value), s.span), invert: false, span: p.value.span))
            }
        }
        return out
    }

    /// Text Envoy's query parser (`QueryParamsMulti::parseQueryString`,
    /// source/common/http/utility.cc) can never produce: it splits at `&`, ends a name at the
    /// first `=`, and sees no `#` (the connection manager rejects or strips fragments before
    /// routing). Nothing is percent-decoded, so the fix is the encoded form.
    static func queryTextProblem(_ text: String, isName: Bool) -> ValueProblem? {
        let what = isName ? "query parameter name" : "query value"
        let forbidden: [(Character, String, String)] =
            [("&", "Envoy splits the query at `&`", "%26"), ("#", "`#` starts a fragment, which never reaches the route table", "%23")]
            + (isName ? [("=", "a name ends at the first `=`", "%3D")] : [])
        guard let (c, why, encoded) = forbidden.first(where: { text.contains($0.0) }) else { return nil }
        let fixed = text.map { $0 == c ? encoded : String($0) }.joined()
        return ValueProblem(
            "\(what) `\(text)` can never match: \(why)",
            help: "Envoy compares the query as sent, without percent-decoding: write `\(fixed)` if clients send it percent-encoded")
    }

    /// `queryTextProblem` for the literal forms of a value matcher (a regex is left alone).
    static func queryValueProblem(_ kind: PolicyFieldMatcher.Kind) -> ValueProblem? {
        switch kind {
        case .exact(let v), .prefix(let v), .suffix(let v), .contains(let v): queryTextProblem(v, isName: false)
        case .regex, .present: nil
        }
    }

    /// Envoy's `QueryParameterMatcher` (source/common/router/config_utility.cc) can require a
    /// parameter or match its first value; it cannot negate either. Returns the diagnostic
    /// for a matcher it cannot express, at the offending key.
    func queryMatcherProblem(_ name: String, _ kind: PolicyFieldMatcher.Kind, invert: Located<Bool>?, _ f: Fields)
        -> (message: String, at: SourceSpan, help: String)?
    {
        let earlier = "put a route before this one that matches the parameter, so this route sees only the requests without it"
        if let invert, invert.value {
            if case .present(false) = kind {
                return (
                    "`present: false` with `invert: true` on query parameter `\(name)` is a double negation", f.keySpan("invert")!,
                    "write `\(name): {present: true}`"
                )
            }
            return (
                "Envoy cannot invert a query parameter matcher, so `invert: true` on `\(name)` cannot be expressed", f.keySpan("invert")!,
                "Envoy matches a query parameter with `present: true` or `exact`, `prefix`, `suffix`, `contains`, `regex` on its first value, never inverted; \(earlier)"
            )
        }
        if case .present(false) = kind {
            return (
                "Envoy cannot match the absence of query parameter `\(name)` on every version", f.keySpan("present")!,
                "Envoy matches a query parameter with `present: true` or `exact`, `prefix`, `suffix`, `contains`, `regex` on its first value; \(earlier)"
            )
        }
        return nil
    }

    // MARK: actions

    /// The action of `to: v`; `scalar` is `v.scalar` when already made.
    func forward(_ v: YAMLNode, scalar: YAMLScalar? = nil) -> PolicyRouteAction? {
        if v.mapping != nil {
            var targets: [PolicyWeightedTarget] = []
            for p in v.mapping! {
                guard let svc = Fields.string(p.key, what: "a service name", sink: sink),
                    let w = Fields.int(p.value, what: "the weight of `\(svc.value)`", in: 0...Int(UInt32.max), sink: sink)
                else { continue }
                targets.append(PolicyWeightedTarget(service: svc, weight: w))
            }
            if targets.isEmpty && v.mapping!.isEmpty {
                sink.add(.invalidValue, "a weighted `to` needs at least one service", at: v.span)
                return nil
            }
            let total = targets.reduce(0) { $0 + $1.weight.value }
            if targets.count == v.mapping!.count {
                if total == 0 {
                    sink.add(
                        .invalidValue, "the weights of this split add up to 0, so no request could be routed", at: v.span,
                        help: "give at least one service a weight above 0")
                    return nil
                }
                if total > Int(UInt32.max) {
                    sink.add(
                        .invalidValue, "the weights of this split add up to \(total), more than Envoy's limit of 4294967295", at: v.span)
                    return nil
                }
            }
            return targets.count == v.mapping!.count ? .split(targets) : nil
        }
        guard let s = Fields.string(v, scalar: scalar, what: "`to`", sink: sink) else { return nil }
        return .service(s)
    }

    func redirect(_ f: Fields) -> PolicyRouteAction? {
        let v = f.value("redirect")!
        guard let r = Fields(v, context: "redirect", what: "`redirect`", anchor: f.keySpan("redirect"), sink: sink) else { return nil }
        let scheme = r.string("scheme")
        if let scheme,
            !(scheme.value.first?.isLetter ?? false)
                || !scheme.value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        {
            sink.add(.invalidValue, "`\(scheme.value)` is not a URL scheme", at: scheme.span, help: "e.g. `https`")
        }
        let host = r.string("host")
        if let host, !PolicyValues.isHostname(host.value) && PolicyValues.canonicalIP(host.value) == nil {
            sink.add(
                .invalidValue, "redirect host `\(host.value)` is not a host name", at: host.span,
                help: "write the host only; use `port` for the port")
        }
        let port = r.int("port", in: 1...65535)
        var path: Located<PolicyRedirect.PathChange>?
        if let key = r.exclusive(["path", "prefix"], required: false), let s = r.string(key) {
            if !s.value.hasPrefix("/") {
                sink.add(.invalidValue, "redirect `\(key)` `\(s.value)` must start with `/`", at: s.span, help: "write `/\(s.value)`")
            }
            path = Located(key == "path" ? .path(s.value) : .prefix(s.value), s.span)
        }
        let code = r.int("code", in: 100...599)
        if let code, ![301, 302, 303, 307, 308].contains(code.value) {
            sink.add(
                .invalidValue, "redirect code \(code.value) is not one Envoy supports", at: code.span, label: "unsupported",
                help: "use 301, 302, 303, 307 or 308")
        }
        let strip = r.bool("strip_query")
        if scheme == nil && host == nil && port == nil && path == nil {
            sink.add(
                .missingField, "this redirect changes nothing, so it would redirect to the same URL forever", at: v.span,
                help: "give at least one of `scheme`, `host`, `port`, `path`, `prefix`")
        }
        return .redirect(PolicyRedirect(scheme: scheme, host: host, port: port, path: path, code: code, stripQuery: strip, span: v.span))
    }

    func respond(_ f: Fields) -> PolicyRouteAction? {
        let v = f.value("respond")!
        guard let r = Fields(v, context: "respond", what: "`respond`", anchor: f.keySpan("respond"), sink: sink) else { return nil }
        guard let status = r.int("status", in: 200...599) else {
            if !r.has("status") { r.missing("status", help: "e.g. `status: 404`") }
            return nil
        }
        let body = r.string("body", nonEmpty: false)
        if let body, body.value.utf8.count > 4096 {
            sink.add(.invalidValue, "the body is \(body.value.utf8.count) bytes; Envoy's limit for direct responses is 4096", at: body.span)
        }
        return .respond(PolicyDirectResponse(status: status, body: body, span: v.span))
    }

    // MARK: route-only keys

    func lowerRewrite(_ f: Fields) -> PolicyRewrite? {
        guard let v = f.value("rewrite"),
            let r = Fields(v, context: "rewrite", what: "`rewrite`", anchor: f.keySpan("rewrite"), sink: sink)
        else { return nil }
        var rewrite = PolicyRewrite(prefix: nil, regex: nil, host: nil, span: v.span)
        switch r.exclusive(["prefix", "regex"], required: false) {
        case "prefix":
            rewrite.prefix = r.string("prefix")
            if let p = rewrite.prefix, !p.value.hasPrefix("/") {
                sink.add(.invalidValue, "rewrite prefix `\(p.value)` must start with `/`", at: p.span, help: "write `/\(p.value)`")
            }
        case "regex":
            if let rv = r.value("regex"),
                let rx = Fields(rv, context: "rewrite.regex", what: "`rewrite.regex`", anchor: r.keySpan("regex"), sink: sink)
            {
                let pattern = rx.string("pattern")
                let substitution = rx.string("substitution", nonEmpty: false)
                if !rx.has("pattern") { rx.missing("pattern") }
                if !rx.has("substitution") { rx.missing("substitution") }
                if let pattern, let substitution { rewrite.regex = (pattern, substitution) }
            }
        default: break
        }
        rewrite.host = r.string("host")
        // A literal `Host` value: no wildcard (a domain pattern is no host), an optional port.
        if let h = rewrite.host, PolicyValues.authorityProblem(h.value, what: "rewrite host") != nil {
            sink.add(
                .invalidValue, "rewrite host `\(h.value)` is not a host name", at: h.span,
                help: "write a host such as `api.internal` or `api.internal:8080`")
        }
        if rewrite.prefix == nil && rewrite.regex == nil && rewrite.host == nil && !r.has("prefix") && !r.has("regex")
            && !["prefix", "regex", "host"].contains(where: r.suggests)
        {
            sink.add(.missingField, "`rewrite` needs `prefix`, `regex` or `host`", at: v.span)
        }
        return rewrite
    }

    func lowerMirror(_ f: Fields) -> PolicyMirror? {
        guard let v = f.value("mirror") else { return nil }
        if v.scalar != nil, let s = Fields.string(v, what: "`mirror`", sink: sink) {
            return PolicyMirror(service: s, percent: nil, span: v.span)
        }
        guard let m = Fields(v, context: "mirror", what: "`mirror`", anchor: f.keySpan("mirror"), sink: sink) else { return nil }
        guard let to = m.string("to") else {
            if !m.has("to") { m.missing("to") }
            return nil
        }
        return PolicyMirror(service: to, percent: m.percent("percent"), span: v.span)
    }

    func lowerHashOn(_ f: Fields) -> Located<HashOn>? {
        guard let v = f.value("hash_on"),
            let h = Fields(v, context: "hash_on", what: "`hash_on`", anchor: f.keySpan("hash_on"), sink: sink)
        else { return nil }
        switch h.exclusive(["header", "cookie", "source_ip"], required: true) {
        case "header":
            guard let s = h.string("header") else { return nil }
            if let p = PolicyValues.headerNameProblem(s.value, allowPseudo: true) {
                sink.add(.invalidValue, p.message, at: s.span, help: p.help)
                return nil
            }
            return Located(.header(s.value.lowercased()), v.span)
        case "cookie":
            guard let s = h.string("cookie") else { return nil }
            return Located(.cookie(s.value), v.span)
        case "source_ip":
            guard let b = h.bool("source_ip") else { return nil }
            if !b.value {
                sink.add(.invalidValue, "`source_ip: false` turns nothing on", at: b.span, help: "write `source_ip: true`")
                return nil
            }
            return Located(.sourceIP, v.span)
        default: return nil
        }
    }

    func lowerFault(_ f: Fields) -> PolicyFault? {
        guard let v = f.value("fault"),
            let ff = Fields(v, context: "fault", what: "`fault`", anchor: f.keySpan("fault"), sink: sink)
        else { return nil }
        var fault = PolicyFault(delay: nil, abort: nil, span: v.span)
        if let dv = ff.value("delay"),
            let d = Fields(dv, context: "fault.delay", what: "`fault.delay`", anchor: ff.keySpan("delay"), sink: sink)
        {
            if let fixed = d.duration("fixed", positive: true) {
                fault.delay = (fixed, d.percent("percent"))
            } else if !d.has("fixed") {
                d.missing("fixed", help: "e.g. `fixed: 2s`")
            }
        }
        if let av = ff.value("abort"),
            let a = Fields(av, context: "fault.abort", what: "`fault.abort`", anchor: ff.keySpan("abort"), sink: sink)
        {
            if let status = a.int("status", in: 200...599) {
                fault.abort = (status, a.percent("percent"))
            } else if !a.has("status") {
                a.missing("status", help: "e.g. `status: 503`")
            }
        }
        if !ff.has("delay") && !ff.has("abort") && !ff.suggests("delay") && !ff.suggests("abort") {
            sink.add(.missingField, "`fault` needs `delay` or `abort`", at: v.span)
        }
        return fault
    }
}
