/// The keys each mapping of the policy language accepts. Lowering reads only these, and the
/// JSON Schema test checks `schemas/policy.v1.schema.json` names exactly these, so the two
/// cannot drift.
public enum PolicyKeys {
    /// The policy keys, accepted in `defaults`, listeners, hosts and routes.
    public static let policy = ["timeout", "idle_timeout", "retries", "request_headers", "response_headers", "cors", "rate_limit"]

    /// The keys of each mapping, by the mapping's name.
    public static let table: [String: [String]] = [
        "top": ["version", "node", "admin", "defaults", "services", "listeners"],
        "node": ["id", "cluster"],
        "admin": ["address"],
        "defaults": policy + ["connect_timeout"],
        "service": [
            "endpoints", "discovery", "protocol", "lb", "connect_timeout", "tls", "health_check", "circuit_breaker",
            "outlier_detection",
        ],
        "endpoint": ["address", "port", "weight"],
        "service.tls": ["sni", "ca_file", "verify_san"],
        "health_check": ["http", "tcp", "grpc", "interval", "timeout", "healthy_threshold", "unhealthy_threshold"],
        "health_check.grpc": ["service"],
        "circuit_breaker": ["max_connections", "max_pending_requests", "max_requests", "max_retries"],
        "outlier_detection": ["consecutive_5xx", "interval", "base_ejection_time", "max_ejection_percent"],
        "listener": ["address", "tls", "access_log", "hosts"] + policy,
        "listener.tls": ["cert_file", "key_file"],
        "host": ["domains", "routes"] + policy,
        "route": ["name", "match", "to", "redirect", "respond", "rewrite", "mirror", "hash_on", "websocket", "fault"] + policy,
        "match": ["prefix", "path", "regex", "case_sensitive", "methods", "headers", "query", "grpc"],
        "matcher": ["exact", "prefix", "suffix", "contains", "regex", "present", "invert"],
        "redirect": ["scheme", "host", "port", "path", "prefix", "code", "strip_query"],
        "respond": ["status", "body"],
        "rewrite": ["prefix", "regex", "host"],
        "rewrite.regex": ["pattern", "substitution"],
        "mirror": ["to", "percent"],
        "hash_on": ["header", "cookie", "source_ip"],
        "fault": ["delay", "abort"],
        "fault.delay": ["fixed", "percent"],
        "fault.abort": ["status", "percent"],
        "retries": ["attempts", "retry_on", "on", "per_try_timeout", "status_codes"],
        "headers": ["add", "set", "remove"],
        "cors": ["allow_origins", "allow_methods", "allow_headers", "expose_headers", "max_age", "allow_credentials"],
        "rate_limit": ["requests", "per"],
    ]

    /// Keys still read under an older spelling (with a `deprecated-field` warning), per
    /// context: old name -> current name. Did-you-mean never offers an old name.
    public static let renamed: [String: [String: String]] = [
        // YAML 1.1 tools (PyYAML, yamllint) read the plain key `on` as the boolean `true`.
        "retries": ["on": "retry_on"]
    ]

    /// Where a misplaced key belongs, for a better hint than did-you-mean.
    static let belongsUnder: [String: [String: String]] = [
        "route": [
            "prefix": "match", "path": "match", "regex": "match", "methods": "match", "headers": "match",
            "query": "match", "grpc": "match", "case_sensitive": "match", "routes": "a host", "retry_on": "`retries`",
        ],
        "host": [
            "match": "a route", "to": "a route", "prefix": "a route's `match`", "path": "a route's `match`", "retry_on": "`retries`",
        ],
        "listener": [
            "routes": "a host under `hosts`", "domains": "a host under `hosts`", "endpoints": "a service", "retry_on": "`retries`",
        ],
        "defaults": ["retry_on": "`retries`"],
        "top": [
            "routes": "a host", "hosts": "a listener", "endpoints": "a service", "timeout": "`defaults`",
            "retries": "`defaults`", "address": "a listener",
        ],
        "service": ["timeout": "a route or `defaults`", "retries": "a route or `defaults`", "address": "an endpoint"],
    ]
}
