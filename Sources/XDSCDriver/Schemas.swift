import XDSCDiagnostics
import XDSCJSON
import XDSCPolicy

/// The JSON Schemas (draft 2020-12) xdsc publishes: the policy language, for editors, and
/// the `lint --format json` output, for tools. `xdsc schema NAME` prints them, and
/// `schemas/*.schema.json` are written from here by `scripts/gen-docs`.
///
/// The keys of each mapping are written out here by hand, on purpose: a test walks the
/// schema and `PolicyKeys.table` side by side and fails on any difference. Value sets that
/// have one source in the code (enums, retry conditions, rule ids) are taken from it.
public enum Schemas {
    /// Every schema, by the name `xdsc schema` takes.
    public static let names = ["policy", "diagnostics", "route", "diff", "traffic", "traffic-results"]

    /// The pretty-printed schema text for `name`, or nil for an unknown name.
    public static func text(_ name: String) -> String? {
        switch name {
        case "policy": policy.serialized()
        case "diagnostics": diagnostics.serialized()
        case "route": route.serialized()
        case "diff": diff.serialized()
        case "traffic": traffic.serialized()
        case "traffic-results": trafficResults.serialized()
        default: nil
        }
    }

    /// The file each schema is committed as, under `schemas/`.
    public static func fileName(_ name: String) -> String { "\(name).v1.schema.json" }

    // MARK: - Building blocks

    static func obj(_ members: [(String, JSON)]) -> JSON {
        var o = JSONObject()
        for (k, v) in members { o[k] = v }
        return .object(o)
    }

    // The output schemas (`route`, `diff`) describe closed objects of typed values.

    /// `{description, type}`.
    static func typed(_ type: String, _ d: String) -> JSON { obj([("description", .string(d)), ("type", .string(type))]) }

    /// `{description, type: [type, null]}`.
    static func nullable(_ type: String, _ d: String) -> JSON {
        obj([("description", .string(d)), ("type", .array([.string(type), .string("null")]))])
    }

    /// An object with exactly `props` (all required unless `required` names fewer), no others.
    static func object(_ d: String, _ props: [(String, JSON)], required: [String]? = nil, nullable isNullable: Bool = false) -> JSON {
        obj([
            ("description", .string(d)), ("type", isNullable ? .array([.string("object"), .string("null")]) : .string("object")),
            ("properties", obj(props)), ("required", .array((required ?? props.map(\.0)).map { .string($0) })),
            ("additionalProperties", .bool(false)),
        ])
    }

    /// An array of `item`.
    static func list(_ d: String, _ item: JSON, nullable isNullable: Bool = false) -> JSON {
        obj([
            ("description", .string(d)), ("type", isNullable ? .array([.string("array"), .string("null")]) : .string("array")),
            ("items", item),
        ])
    }

    static func ref(_ def: String, _ description: String) -> JSON {
        obj([("$ref", .string("#/$defs/\(def)")), ("description", .string(description))])
    }

    static func str(_ description: String, pattern: String? = nil, minLength: Int? = nil) -> JSON {
        var m: [(String, JSON)] = [("description", .string(description)), ("type", .string("string"))]
        if let pattern { m.append(("pattern", .string(pattern))) }
        if let minLength { m.append(("minLength", .integer(minLength))) }
        return obj(m)
    }

    static func int(_ description: String, _ range: ClosedRange<Int>) -> JSON {
        obj([
            ("description", .string(description)), ("type", .string("integer")), ("minimum", .integer(range.lowerBound)),
            ("maximum", .integer(range.upperBound)),
        ])
    }

    static func bool(_ description: String) -> JSON {
        obj([("description", .string(description)), ("type", .string("boolean"))])
    }

    static func enumeration(_ description: String, _ values: [String]) -> JSON {
        obj([("description", .string(description)), ("type", .string("string")), ("enum", .array(values.map(JSON.string)))])
    }

    static func anyOf(_ description: String, _ options: [JSON]) -> JSON {
        obj([("description", .string(description)), ("anyOf", .array(options))])
    }

    static func refOnly(_ def: String) -> JSON { obj([("$ref", .string("#/$defs/\(def)"))]) }

    /// A list of `item`, or (where the language allows it) a single item.
    static func listOrOne(_ description: String, _ item: JSON, minItems: Int? = nil) -> JSON {
        var array: [(String, JSON)] = [("type", .string("array")), ("items", item)]
        if let minItems { array.append(("minItems", .integer(minItems))) }
        return anyOf(description, [item, obj(array)])
    }

    /// `schema` marked `deprecated` (editors strike such keys through).
    private static func deprecated(_ schema: JSON) -> JSON {
        guard case .object(var o) = schema else { return schema }
        o["deprecated"] = .bool(true)
        return .object(o)
    }

    /// A mapping whose keys are fixed: `additionalProperties: false`.
    static func fixed(
        _ description: String, _ properties: [(String, JSON)], required: [String] = [], extra: [(String, JSON)] = []
    ) -> JSON {
        var m: [(String, JSON)] = [
            ("description", .string(description)), ("type", .string("object")), ("additionalProperties", .bool(false)),
            ("properties", obj(properties)),
        ]
        if !required.isEmpty { m.append(("required", .array(required.map(JSON.string)))) }
        return obj(m + extra)
    }

    /// A mapping from names to `value`.
    static func named(_ description: String, keys: JSON, value: JSON, minProperties: Int? = nil) -> JSON {
        var m: [(String, JSON)] = [
            ("description", .string(description)), ("type", .string("object")), ("propertyNames", keys),
            ("additionalProperties", value),
        ]
        if let minProperties { m.append(("minProperties", .integer(minProperties))) }
        return obj(m)
    }

    /// Exactly one of `keys` must be written.
    static func exactlyOne(_ keys: [String]) -> (String, JSON) {
        ("oneOf", .array(keys.map { obj([("required", .array([.string($0)]))]) }))
    }

    /// At least one of `keys` must be written.
    private static func atLeastOne(_ keys: [String]) -> (String, JSON) {
        ("anyOf", .array(keys.map { obj([("required", .array([.string($0)]))]) }))
    }

    // MARK: - Patterns

    static let port = "(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
    static let ipv4 = "(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    static let ipv6 = "\\[[0-9A-Fa-f:.]+\\]"
    static let hostname = "[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
    static let duration =
        "^(?:[0-9]+h(?:[0-9]+m)?(?:[0-9]+s)?(?:[0-9]+ms)?|[0-9]+m(?:[0-9]+s)?(?:[0-9]+ms)?|[0-9]+s(?:[0-9]+ms)?|[0-9]+ms)$"
    static let token = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"

    // MARK: - The policy language

    /// The schema of one policy file (`version: 1`).
    public static var policy: JSON {
        var root: [(String, JSON)] = [
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("title", .string("xdsc policy, version 1")),
            (
                "description",
                .string(
                    "One file of an xdsc policy. A policy may be split over several files; their services and listeners are merged, so a single file need not have listeners. Generated by `xdsc schema policy`."
                )
            ),
            ("type", .string("object")),
            ("additionalProperties", .bool(false)),
            ("required", .array([.string("version")])),
        ]
        root.append(("properties", obj(topProperties)))
        root.append(("$defs", obj(policyDefs)))
        return obj(root)
    }

    static var topProperties: [(String, JSON)] {
        [
            (
                "version",
                obj([
                    ("description", .string("The policy language version; required in every file, and must be 1.")), ("const", .integer(1)),
                ])
            ),
            ("node", ref("node", "The Envoy node identity written into the bootstrap. At most one file of a policy may have it.")),
            ("admin", ref("admin", "The Envoy admin interface. At most one file of a policy may have it.")),
            (
                "defaults",
                ref(
                    "defaults",
                    "Policy inherited by every route, and the services' default connect timeout. At most one file of a policy may have it.")
            ),
            (
                "services",
                named(
                    "Upstream services, each lowered to an Envoy cluster, by name.", keys: refOnly("name"), value: refOnly("service"))
            ),
            (
                "listeners",
                named(
                    "Listeners, each lowered to an Envoy listener with an HTTP connection manager, by name. A policy needs at least one, in one of its files.",
                    keys: refOnly("name"), value: refOnly("listener"), minProperties: 1)
            ),
        ]
    }

    /// The inheritable keys, as they stand on `defaults`, a listener, a host and a route.
    static func policyProperties(_ level: String) -> [(String, JSON)] {
        [
            (
                "timeout",
                ref("duration", "Whole-request timeout, retries included; `0s` disables it. Inherited by \(level); the nearest level wins.")
            ),
            ("idle_timeout", ref("duration", "How long a request may go without activity. Inherited by \(level); the nearest level wins.")),
            (
                "retries",
                anyOf(
                    "Retry policy, replaced as a whole by a nearer level; `none` (or `false`) disables retries. Inherited by \(level).",
                    [obj([("const", .string("none"))]), obj([("const", .bool(false))]), refOnly("retries")])
            ),
            (
                "request_headers",
                ref("headers", "Headers added, set or removed on the request; merged across levels, the nearest level wins per header.")
            ),
            (
                "response_headers",
                ref("headers", "Headers added, set or removed on the response; merged across levels, the nearest level wins per header.")
            ),
            ("cors", ref("cors", "Cross-origin resource sharing policy. Inherited by \(level); the nearest level wins.")),
            (
                "rate_limit",
                ref("rate_limit", "Local token-bucket rate limit per Envoy instance. Inherited by \(level); the nearest level wins.")
            ),
        ]
    }

    static var policyDefs: [(String, JSON)] {
        let name = "^" + PolicyValues.namePattern + "$"
        let scalarText = obj([
            ("description", .string("A text value; numbers and booleans are taken as their text.")),
            ("type", .array([.string("string"), .string("number"), .string("boolean")])),
        ])
        let lowerMethods = PolicyValues.knownMethods.flatMap { [$0.lowercased(), String($0.prefix(1)) + $0.dropFirst().lowercased()] }
        let method = obj([
            ("description", .string("An HTTP method; methods are case-sensitive, so the standard ones are upper-case.")),
            ("type", .string("string")), ("pattern", .string(token)),
            ("not", obj([("enum", .array(lowerMethods.map(JSON.string)))])),
        ])
        let percent = obj([
            ("description", .string("A share of requests, 0 to 100 (at most four decimals).")), ("type", .string("number")),
            ("minimum", .integer(0)), ("maximum", .integer(100)),
        ])
        let condition = enumeration("A retry condition (Envoy's `retry_on`).", PolicyRetryPolicy.conditions)
        let origin = str("An origin, `scheme://host[:port]` with no path, or `*`.", pattern: "^(?:\\*|https?://[^/]+)$")
        let forwardOnly = ["rewrite", "mirror", "hash_on", "websocket", "fault"]

        return [
            // Values
            (
                "name",
                str(
                    "A name of a service, listener, host or route: 1-64 of a-z, 0-9, `.`, `_`, `-`, starting and ending with a letter or digit.",
                    pattern: name)
            ),
            (
                "duration",
                str("A duration with units in decreasing order, each at most once: `250ms`, `1s`, `1m30s`, `2h`.", pattern: duration)
            ),
            (
                "listen-address",
                str("An IP literal and a port, e.g. `0.0.0.0:8080` or `[::]:8443`.", pattern: "^(?:\(ipv4)|\(ipv6)):\(port)$")
            ),
            (
                "endpoint-address",
                str("`host:port` or `[v6]:port`; the host is an IP literal or a DNS name.", pattern: "^(?:\(ipv6)|\(hostname)):\(port)$")
            ),
            (
                "domain",
                str(
                    "A virtual-host domain: `*` alone, or one `*` at the very start or the very end (`HOST:*` for any port), an optional `:port`, IPv6 literals in brackets; compared case-insensitively.",
                    pattern:
                        "^(?:\\*[A-Za-z0-9._-]*(?::\(port))?|[A-Za-z0-9._-]+\\*|(?:[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\]):\\*|(?:[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\])(?::\(port))?)$"
                )
            ),
            ("method", method),
            ("header-name", str("A header name: an HTTP token.", pattern: token)),
            (
                "match-header-name",
                str(
                    "A header name to match: an HTTP token, or one of the pseudo-headers `:authority`, `:method`, `:path`, `:scheme`.",
                    pattern: "^(?::authority|:method|:path|:scheme|[!#$%&'*+.^_`|~0-9A-Za-z-]+)$")
            ),
            ("text", scalarText),
            ("percent", percent),
            ("port", int("A TCP port.", 1...65535)),
            ("status", int("An HTTP status code.", 200...599)),

            // Top level
            (
                "node",
                fixed(
                    "The Envoy node identity.",
                    [
                        ("id", str("The node id (`node.id` in the bootstrap).", minLength: 1)),
                        ("cluster", str("The node's cluster (`node.cluster` in the bootstrap).", minLength: 1)),
                    ])
            ),
            (
                "admin",
                fixed(
                    "The Envoy admin interface.",
                    [
                        ("address", ref("listen-address", "Where the admin interface listens, e.g. `127.0.0.1:9901`."))
                    ], required: ["address"])
            ),
            (
                "defaults",
                fixed(
                    "Policy inherited by every route, and defaults for services.",
                    policyProperties("every route") + [
                        ("connect_timeout", ref("duration", "The default connect timeout of every service (else 5s)."))
                    ])
            ),

            // Services
            (
                "service",
                fixed(
                    "An upstream service, lowered to an Envoy cluster.",
                    [
                        (
                            "endpoints",
                            obj([
                                ("description", .string("The service's endpoints: `host:port` strings or mappings; at least one.")),
                                ("type", .string("array")), ("minItems", .integer(1)),
                                ("items", obj([("anyOf", .array([refOnly("endpoint-address"), refOnly("endpoint")]))])),
                            ])
                        ),
                        (
                            "discovery",
                            enumeration(
                                "How endpoints are found. Default: `static` if every address is an IP literal, else `strict_dns`.",
                                Discovery.allCases.map(\.rawValue))
                        ),
                        (
                            "protocol",
                            enumeration(
                                "The upstream protocol; `grpc` implies HTTP/2. Default `http1`, or HTTP/2 with a `grpc` health check.",
                                ServiceProtocol.allCases.map(\.rawValue))
                        ),
                        ("lb", enumeration("The load-balancing policy. Default `round_robin`.", LoadBalancer.allCases.map(\.rawValue))),
                        ("connect_timeout", ref("duration", "Connect timeout; default `defaults.connect_timeout`, else 5s.")),
                        (
                            "tls",
                            anyOf(
                                "TLS to the upstream: `true`, or a mapping with `sni`, `ca_file` and `verify_san`.",
                                [
                                    obj([("type", .string("boolean"))]), refOnly("service.tls"),
                                ])
                        ),
                        ("health_check", ref("health_check", "Active health checking: exactly one of `http`, `tcp`, `grpc`.")),
                        ("circuit_breaker", ref("circuit_breaker", "Circuit-breaker thresholds.")),
                        ("outlier_detection", ref("outlier_detection", "Passive health checking (outlier ejection).")),
                    ], required: ["endpoints"])
            ),
            (
                "endpoint",
                fixed(
                    "An endpoint written as a mapping.",
                    [
                        (
                            "address",
                            str(
                                "An IP literal or a DNS name, without the port.",
                                pattern: "^(?:\(ipv4)|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|\(hostname))$")
                        ),
                        ("port", ref("port", "The endpoint's port.")),
                        ("weight", int("The endpoint's load-balancing weight.", 1...128)),
                    ], required: ["address", "port"])
            ),
            (
                "service.tls",
                fixed(
                    "Upstream TLS settings.",
                    [
                        ("sni", str("The server name sent in the TLS handshake.", pattern: "^\(hostname)$")),
                        ("ca_file", str("The CA bundle that verifies the upstream's certificate.", minLength: 1)),
                        (
                            "verify_san",
                            listOrOne(
                                "Subject alternative names the certificate must carry; needs `ca_file`.",
                                str("A subject alternative name.", minLength: 1))
                        ),
                    ], extra: [("dependentRequired", obj([("verify_san", .array([.string("ca_file")]))]))])
            ),
            (
                "health_check",
                fixed(
                    "Active health checking.",
                    [
                        ("http", str("HTTP health check: the path to request.", pattern: "^/")),
                        ("tcp", obj([("description", .string("TCP health check: `true` connects only.")), ("const", .bool(true))])),
                        (
                            "grpc",
                            anyOf(
                                "gRPC health check: `true`, or a mapping naming the `service`.",
                                [obj([("const", .bool(true))]), refOnly("health_check.grpc")])
                        ),
                        ("interval", ref("duration", "Time between checks; default 10s.")),
                        ("timeout", ref("duration", "Time to wait for a check; default 1s.")),
                        ("healthy_threshold", int("Passing checks before an endpoint is healthy again; default 2.", 1...4_294_967_295)),
                        ("unhealthy_threshold", int("Failing checks before an endpoint is unhealthy; default 3.", 1...4_294_967_295)),
                    ], extra: [exactlyOne(["http", "tcp", "grpc"])])
            ),
            (
                "health_check.grpc",
                fixed(
                    "gRPC health check settings.",
                    [
                        ("service", str("The service name sent in the gRPC health check request."))
                    ])
            ),
            (
                "circuit_breaker",
                fixed(
                    "Circuit-breaker thresholds (Envoy's default priority).",
                    [
                        ("max_connections", int("Most connections to the service.", 0...4_294_967_295)),
                        ("max_pending_requests", int("Most requests waiting for a connection.", 0...4_294_967_295)),
                        ("max_requests", int("Most requests in flight.", 0...4_294_967_295)),
                        ("max_retries", int("Most retries in flight.", 0...4_294_967_295)),
                    ])
            ),
            (
                "outlier_detection",
                fixed(
                    "Passive health checking.",
                    [
                        ("consecutive_5xx", int("Consecutive 5xx responses that eject an endpoint.", 0...4_294_967_295)),
                        ("interval", ref("duration", "Time between ejection sweeps.")),
                        ("base_ejection_time", ref("duration", "Base time an endpoint stays ejected.")),
                        ("max_ejection_percent", int("Most endpoints ejected at once, in percent.", 0...100)),
                    ])
            ),

            // Listeners, hosts, routes
            (
                "listener",
                fixed(
                    "A listener, lowered to an Envoy listener with an HTTP connection manager.",
                    [
                        ("address", ref("listen-address", "Where to listen: an IP literal and a port 1..65535.")),
                        ("tls", ref("listener.tls", "Downstream TLS: the certificate and key files.")),
                        ("access_log", str("Access log: `stdout`, `stderr` or a file path.", minLength: 1)),
                        (
                            "hosts",
                            named("Virtual hosts, by name; at least one.", keys: refOnly("name"), value: refOnly("host"), minProperties: 1)
                        ),
                    ] + policyProperties("every route of this listener"), required: ["address", "hosts"])
            ),
            (
                "listener.tls",
                fixed(
                    "Downstream TLS.",
                    [
                        ("cert_file", str("The certificate chain file (PEM).", minLength: 1)),
                        ("key_file", str("The private key file (PEM).", minLength: 1)),
                    ], required: ["cert_file", "key_file"])
            ),
            (
                "host",
                fixed(
                    "A virtual host: its domains and its ordered routes.",
                    [
                        (
                            "domains",
                            listOrOne(
                                "The domains this host serves; each domain at most once per listener.", refOnly("domain"), minItems: 1)
                        ),
                        (
                            "routes",
                            obj([
                                ("description", .string("The routes, in order: the first match wins. At least one.")),
                                ("type", .string("array")), ("minItems", .integer(1)), ("items", refOnly("route")),
                            ])
                        ),
                    ] + policyProperties("every route of this host"), required: ["domains", "routes"])
            ),
            (
                "route",
                fixed(
                    "A route: a match and exactly one action (`to`, `redirect` or `respond`).",
                    [
                        ("name", ref("name", "The route's name; unique within its host.")),
                        (
                            "match",
                            ref(
                                "match",
                                "What requests the route takes: exactly one of `prefix`, `path`, `regex`, plus optional conditions.")
                        ),
                        (
                            "to",
                            anyOf(
                                "Where to send the request: a service name, or a weighted split `{service: weight, ...}` (integer weights, sum at least 1).",
                                [
                                    refOnly("name"),
                                    obj([
                                        ("type", .string("object")), ("minProperties", .integer(1)), ("propertyNames", refOnly("name")),
                                        (
                                            "additionalProperties",
                                            obj([
                                                ("type", .string("integer")), ("minimum", .integer(0)),
                                                ("maximum", .integer(4_294_967_295)),
                                            ])
                                        ),
                                    ]),
                                ])
                        ),
                        ("redirect", ref("redirect", "Answer with a redirect instead of forwarding.")),
                        ("respond", ref("respond", "Answer directly with a status and an optional body.")),
                        (
                            "rewrite",
                            ref("rewrite", "Rewrite the path (prefix or regex) and/or the host before forwarding; only with `to`.")
                        ),
                        (
                            "mirror",
                            anyOf(
                                "Send a copy of the requests to another service (responses are ignored); only with `to`.",
                                [refOnly("name"), refOnly("mirror")])
                        ),
                        ("hash_on", ref("hash_on", "What consistent hashing (`ring_hash`, `maglev`) hashes on; only with `to`.")),
                        ("websocket", bool("Allow WebSocket upgrades; only with `to`.")),
                        ("fault", ref("fault", "Inject delays or aborts, for testing; only with `to`.")),
                    ] + policyProperties("this route"), required: ["match"],
                    extra: [
                        exactlyOne(RouteLoweringKeys.actions),
                        ("dependentRequired", obj(forwardOnly.map { ($0, .array([.string("to")])) })),
                    ])
            ),
            (
                "match",
                fixed(
                    "The request match: exactly one of `prefix`, `path`, `regex`; every condition given must hold.",
                    [
                        ("prefix", str("Path prefix, e.g. `/users`.", pattern: "^(?:/.*)?$")),
                        ("path", str("Exact path, e.g. `/users/me`.", pattern: "^/")),
                        ("regex", str("RE2 regex that must match the whole path (Envoy `safe_regex`).", minLength: 1)),
                        ("case_sensitive", bool("Whether the path match is case-sensitive; default true. Ignored by Envoy for `regex`.")),
                        ("methods", listOrOne("Methods the route takes; default any method.", refOnly("method"), minItems: 1)),
                        (
                            "headers",
                            named(
                                "Header conditions: a plain value means exact; a mapping picks a matcher.",
                                keys: refOnly("match-header-name"), value: obj([("anyOf", .array([refOnly("text"), refOnly("matcher")]))]))
                        ),
                        (
                            "query",
                            named(
                                "Query-parameter conditions, in the same forms as `headers`.",
                                keys: obj([("type", .string("string")), ("minLength", .integer(1))]),
                                value: obj([("anyOf", .array([refOnly("text"), refOnly("matcher")]))]))
                        ),
                        ("grpc", bool("Only gRPC requests.")),
                    ], extra: [exactlyOne(["prefix", "path", "regex"])])
            ),
            (
                "matcher",
                fixed(
                    "A header or query matcher: exactly one of `exact`, `prefix`, `suffix`, `contains`, `regex`, `present`.",
                    [
                        ("exact", ref("text", "The value equals this.")),
                        ("prefix", str("The value starts with this.", minLength: 1)),
                        ("suffix", str("The value ends with this.", minLength: 1)),
                        ("contains", str("The value contains this.", minLength: 1)),
                        ("regex", str("The value matches this RE2 regex (whole value).", minLength: 1)),
                        ("present", bool("`true`: the field is present; `false`: it is absent.")),
                        ("invert", bool("Invert the match.")),
                    ], extra: [exactlyOne(["exact", "prefix", "suffix", "contains", "regex", "present"])])
            ),
            (
                "redirect",
                fixed(
                    "A redirect; at least one part of the URL must change.",
                    [
                        ("scheme", str("The new scheme, e.g. `https`.", pattern: "^[A-Za-z][A-Za-z0-9+.-]*$")),
                        ("host", str("The new host, without a port.", pattern: "^(?:\(hostname)|[0-9A-Fa-f:.]+)$")),
                        ("port", ref("port", "The new port.")),
                        ("path", str("Replace the whole path.", pattern: "^/")),
                        ("prefix", str("Replace the matched prefix.", pattern: "^/")),
                        (
                            "code",
                            obj([
                                ("description", .string("The redirect status; default 301.")),
                                ("enum", .array([301, 302, 303, 307, 308].map { .integer($0) })),
                            ])
                        ),
                        ("strip_query", bool("Drop the query string.")),
                    ],
                    extra: [
                        atLeastOne(["scheme", "host", "port", "path", "prefix"]),
                        ("not", obj([("required", .array([.string("path"), .string("prefix")]))])),
                    ])
            ),
            (
                "respond",
                fixed(
                    "A direct response.",
                    [
                        ("status", ref("status", "The response status, 200..599.")),
                        ("body", ref("text", "The response body (at most 4096 bytes).")),
                    ], required: ["status"])
            ),
            (
                "rewrite",
                fixed(
                    "Path and host rewriting before forwarding.",
                    [
                        ("prefix", str("Replace the matched prefix with this.", pattern: "^/")),
                        ("regex", ref("rewrite.regex", "Rewrite the path with an RE2 substitution.")),
                        ("host", str("Replace the Host header with this.", minLength: 1)),
                    ],
                    extra: [
                        atLeastOne(["prefix", "regex", "host"]),
                        ("not", obj([("required", .array([.string("prefix"), .string("regex")]))])),
                    ])
            ),
            (
                "rewrite.regex",
                fixed(
                    "A regex path rewrite.",
                    [
                        ("pattern", str("The RE2 pattern.", minLength: 1)),
                        ("substitution", ref("text", "The replacement; `\\1` refers to a group.")),
                    ], required: ["pattern", "substitution"])
            ),
            (
                "mirror",
                fixed(
                    "Request mirroring.",
                    [
                        ("to", ref("name", "The service that receives the copies.")),
                        ("percent", ref("percent", "The share of requests mirrored; default 100.")),
                    ], required: ["to"])
            ),
            (
                "hash_on",
                fixed(
                    "The hash key for consistent hashing: exactly one of `header`, `cookie`, `source_ip`.",
                    [
                        ("header", ref("match-header-name", "Hash on this request header.")),
                        ("cookie", str("Hash on this cookie.", minLength: 1)),
                        ("source_ip", obj([("description", .string("Hash on the client address.")), ("const", .bool(true))])),
                    ], extra: [exactlyOne(["header", "cookie", "source_ip"])])
            ),
            (
                "fault",
                fixed(
                    "Fault injection: `delay` and/or `abort`.",
                    [
                        ("delay", ref("fault.delay", "Delay some requests.")),
                        ("abort", ref("fault.abort", "Abort some requests with a status.")),
                    ], extra: [atLeastOne(["delay", "abort"])])
            ),
            (
                "fault.delay",
                fixed(
                    "An injected delay.",
                    [
                        ("fixed", ref("duration", "How long to delay.")),
                        ("percent", ref("percent", "The share of requests delayed; default 100.")),
                    ], required: ["fixed"])
            ),
            (
                "fault.abort",
                fixed(
                    "An injected abort.",
                    [
                        ("status", ref("status", "The status to answer with.")),
                        ("percent", ref("percent", "The share of requests aborted; default 100.")),
                    ], required: ["status"])
            ),

            // Policy keys
            (
                "retries",
                fixed(
                    "A retry policy.",
                    [
                        ("attempts", int("Retries after the first try; default 1.", 0...1000)),
                        (
                            "retry_on",
                            listOrOne(
                                "Conditions that trigger a retry; default `connect-failure`, `refused-stream`.", condition, minItems: 1)
                        ),
                        ("on", deprecated(listOrOne("The older spelling of `retry_on` (still read, with a warning).", condition))),
                        ("per_try_timeout", ref("duration", "Timeout of each try; should be shorter than `timeout`.")),
                        (
                            "status_codes",
                            listOrOne(
                                "Statuses that trigger a retry; needs `retriable-status-codes` in `retry_on`.",
                                int("A status code.", 100...599), minItems: 1)
                        ),
                    ], extra: [("not", obj([("required", .array([.string("retry_on"), .string("on")]))]))])
            ),
            (
                "headers",
                fixed(
                    "Header operations.",
                    [
                        ("add", named("Headers appended, by name.", keys: refOnly("header-name"), value: refOnly("text"))),
                        ("set", named("Headers overwritten, by name.", keys: refOnly("header-name"), value: refOnly("text"))),
                        ("remove", listOrOne("Headers removed.", refOnly("header-name"))),
                    ])
            ),
            (
                "cors",
                fixed(
                    "Cross-origin resource sharing.",
                    [
                        ("allow_origins", listOrOne("Origins allowed; required.", origin)),
                        ("allow_methods", listOrOne("Methods allowed.", refOnly("method"))),
                        ("allow_headers", listOrOne("Request headers allowed, or `*`.", refOnly("header-name"))),
                        ("expose_headers", listOrOne("Response headers exposed, or `*`.", refOnly("header-name"))),
                        ("max_age", ref("duration", "How long browsers may cache the preflight answer, in whole seconds.")),
                        ("allow_credentials", bool("Allow credentials; not with the origin `*`.")),
                    ], required: ["allow_origins"])
            ),
            (
                "rate_limit",
                fixed(
                    "A local token-bucket rate limit.",
                    [
                        ("requests", int("Requests allowed per `per`.", 1...4_294_967_295)),
                        ("per", ref("duration", "The refill interval; at least 50ms.")),
                    ], required: ["requests", "per"])
            ),
        ]
    }

    // MARK: - lint --format json

    /// The schema of `xdsc lint --format json` (and every command's JSON diagnostics).
    public static var diagnostics: JSON {
        let location = fixed(
            "A position in a policy file.",
            [
                ("file", str("The file as given on the command line (relative paths stay relative).")),
                ("line", obj([("description", .string("1-based line.")), ("type", .string("integer")), ("minimum", .integer(1))])),
                (
                    "column",
                    obj([
                        ("description", .string("1-based column, counted in Unicode scalars.")), ("type", .string("integer")),
                        ("minimum", .integer(1)),
                    ])
                ),
            ], required: ["file", "line", "column"])
        let related = fixed(
            "Another place involved in the finding.",
            [
                ("message", str("What the place is, e.g. `first defined here`.")),
                ("location", ref("location", "Where it is.")),
            ], required: ["message", "location"])
        let witness = fixed(
            "A request that demonstrates the finding.",
            [
                ("method", str("The request method.")),
                ("host", str("The Host (`:authority`) of the request.")),
                ("path", str("The path with its query string.")),
                (
                    "headers",
                    named("Request headers, by name.", keys: obj([("type", .string("string"))]), value: obj([("type", .string("string"))]))
                ),
                ("curl", str("The request as a curl command line.")),
            ], required: ["method", "host", "path", "headers", "curl"])
        let diagnostic = fixed(
            "One finding.",
            [
                ("severity", enumeration("How serious the finding is.", Severity.allCases.map(\.rawValue))),
                ("rule", enumeration("The stable rule id; `xdsc explain RULE` describes it.", Rule.ID.allCases.map(\.rawValue))),
                ("code", enumeration("The rule's stable code.", Rule.registry.rules.map(\.code))),
                ("message", str("Lower-case, no final period, names in backticks.")),
                ("location", ref("location", "The token at fault.")),
                (
                    "related",
                    obj([("description", .string("Other places involved.")), ("type", .string("array")), ("items", refOnly("related"))])
                ),
                ("help", str("What to do.")),
                ("witness", ref("witness", "An example request, for route findings.")),
            ], required: ["severity", "rule", "code", "message", "location", "related"])
        return obj([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("title", .string("xdsc diagnostics, version 1")),
            ("description", .string("The output of `xdsc lint --format json`. Generated by `xdsc schema diagnostics`.")),
            ("type", .string("object")),
            ("additionalProperties", .bool(false)),
            ("required", .array([.string("diagnostics"), .string("summary")])),
            (
                "properties",
                obj([
                    (
                        "diagnostics",
                        obj([
                            ("description", .string("Every finding, sorted by file, line and column.")), ("type", .string("array")),
                            ("items", refOnly("diagnostic")),
                        ])
                    ),
                    (
                        "summary",
                        fixed(
                            "Counts by severity.",
                            [
                                (
                                    "errors",
                                    obj([
                                        ("description", .string("Number of errors.")), ("type", .string("integer")),
                                        ("minimum", .integer(0)),
                                    ])
                                ),
                                (
                                    "warnings",
                                    obj([
                                        ("description", .string("Number of warnings.")), ("type", .string("integer")),
                                        ("minimum", .integer(0)),
                                    ])
                                ),
                            ], required: ["errors", "warnings"])
                    ),
                ])
            ),
            ("$defs", obj([("diagnostic", diagnostic), ("location", location), ("related", related), ("witness", witness)])),
        ])
    }
}

/// The route's action keys, as lowering reads them.
enum RouteLoweringKeys {
    static let actions = ["to", "redirect", "respond"]
}
