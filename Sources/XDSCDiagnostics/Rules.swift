/// One check xdsc makes. Every rule lives in `Rule.registry`; `xdsc explain`, the generated
/// `docs/rules.md` and the SARIF rule table all read it. Codes are stable and never reused.
public struct Rule: Sendable {
    /// The kebab-case id users see and filter on.
    public enum ID: String, Sendable, CaseIterable, Hashable {
        case yamlSyntax = "yaml-syntax"
        case duplicateKey = "duplicate-key"
        case unknownField = "unknown-field"
        case typeMismatch = "type-mismatch"
        case missingField = "missing-field"
        case invalidValue = "invalid-value"
        case conflictingFields = "conflicting-fields"
        case unsupportedVersion = "unsupported-version"
        case unknownService = "unknown-service"
        case duplicateName = "duplicate-name"
        case duplicateDomain = "duplicate-domain"
        case duplicateAddress = "duplicate-address"
        case invalidRegex = "invalid-regex"
        case routeShadowed = "route-shadowed"
        case routeOverlap = "route-overlap"
        case unusedService = "unused-service"
        case retryTimeout = "retry-timeout"
        case inputLimit = "input-limit"
        case unreadableInput = "unreadable-input"
        case ineffectiveSetting = "ineffective-setting"
        case unsupportedMatcher = "unsupported-matcher"
        case deprecatedField = "deprecated-field"
        case routeUnmatchable = "route-unmatchable"
        case unmodeledField = "unmodeled-field"
        case singleObjectList = "single-object-list"
        case unresolvedResource = "unresolved-resource"
        case routerNotLast = "router-not-last"
        case unsimulatedField = "unsimulated-field"
    }

    /// The rule's stable id.
    public let id: ID
    /// The rule's stable code.
    public let code: String
    /// The severity findings of this rule have.
    public let severity: Severity
    /// One line, lower-case, no final period.
    public let summary: String
    /// A paragraph: what the rule checks and why it matters for Envoy.
    public let explanation: String
    /// A policy fragment that triggers the rule.
    public let failingExample: String
    /// The same fragment, fixed.
    public let fixedExample: String
    /// What the rule means on a user's Envoy configuration, for the rules the Envoy-level
    /// checks and the route analysis also report there; nil for rules about policies only.
    public var onEnvoyInput: EnvoyInput? = nil
    /// Findings of this rule mean the input could not be read at all (exit code 2).
    public var isInputFailure: Bool { id == .unreadableInput }

    /// A rule's meaning on Envoy input: a paragraph and an Envoy fragment that triggers it.
    public struct EnvoyInput: Sendable {
        /// A paragraph: what the rule reports in Envoy files.
        public let explanation: String
        /// An Envoy fragment (YAML) that triggers the rule.
        public let failingExample: String
        /// The same fragment, fixed.
        public let fixedExample: String
    }

    /// Looks up rules by id.
    public struct Registry: Sendable {
        /// Every rule, in documentation order.
        public let rules: [Rule]
        /// The rule with `id`.
        public subscript(id: ID) -> Rule {
            // Every ID has exactly one entry; the registry test checks it.
            rules.first { $0.id == id }!
        }
        /// The rule whose id or code is `name` (case-insensitively), if any.
        public func find(_ name: String) -> Rule? {
            let key = name.lowercased()
            return rules.first { $0.id.rawValue == key || $0.code.lowercased() == key }
        }
    }

    /// Every rule xdsc reports.
    public static let registry = Registry(rules: [
        Rule(
            id: .yamlSyntax, code: "XDS001", severity: .error,
            summary: "the file is not well-formed YAML or not UTF-8",
            explanation: """
                The file could not be read as YAML: a syntax error, a tab used for indentation, \
                an unclosed quote or bracket, or bytes that are not valid UTF-8. xdsc reports the \
                position where libyaml stopped; the real mistake is often on the line before.
                """,
            failingExample: """
                listeners:
                  public:
                    address: "0.0.0.0:8080
                """,
            fixedExample: """
                listeners:
                  public:
                    address: "0.0.0.0:8080"
                """),
        Rule(
            id: .duplicateKey, code: "XDS002", severity: .error,
            summary: "a key repeats within one mapping",
            explanation: """
                YAML parsers disagree on a repeated key: most keep the last value silently. xdsc \
                refuses to guess and reports both places. Top-level keys that may appear in only \
                one file of a policy (`defaults`, `node`, `admin`) are reported the same way.
                """,
            failingExample: """
                services:
                  users:
                    endpoints: [10.0.0.1:8080]
                    lb: round_robin
                    lb: least_request
                """,
            fixedExample: """
                services:
                  users:
                    endpoints: [10.0.0.1:8080]
                    lb: least_request
                """),
        Rule(
            id: .unknownField, code: "XDS003", severity: .error,
            summary: "a key the policy language does not define",
            explanation: """
                Every mapping accepts a fixed set of keys. An unknown key is usually a typo, and \
                silently ignoring it would drop the setting the author meant. The message suggests \
                the closest valid key at that place.
                """,
            failingExample: """
                routes:
                  - match: {prefix: /}
                    to: users
                    tmeout: 5s
                """,
            fixedExample: """
                routes:
                  - match: {prefix: /}
                    to: users
                    timeout: 5s
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports a field the Envoy v3 message does not have \
                    (proto or lowerCamel names are both read; the help suggests the closest field of that \
                    message), `@type` on a message that is not a `google.protobuf.Any`, and a v2 field that \
                    Envoy's v3 API removed and Envoy rejects.
                    """,
                failingExample: """
                    routes:
                    - match: {prefix: /api}
                      route: {cluster: api, timout: 5s}
                    """,
                fixedExample: """
                    routes:
                    - match: {prefix: /api}
                      route: {cluster: api, timeout: 5s}
                    """)),
        Rule(
            id: .typeMismatch, code: "XDS004", severity: .error,
            summary: "a value of the wrong kind",
            explanation: """
                The value has the wrong shape for its key: a list where a mapping belongs, a \
                mapping where a scalar belongs, or a bare number where a duration (with a unit) \
                belongs.
                """,
            failingExample: """
                defaults:
                  timeout: 15
                """,
            fixedExample: """
                defaults:
                  timeout: 15s
                """),
        Rule(
            id: .missingField, code: "XDS005", severity: .error,
            summary: "a required key is absent",
            explanation: """
                Some keys are required: `version`, `listeners`, a listener's `address` and \
                `hosts`, a host's `domains` and `routes`, a route's `match` and one action, a \
                service's `endpoints`. A required list or map that is written but empty \
                (`routes: []`) is `invalid-value`, at the empty value.
                """,
            failingExample: """
                services:
                  users:
                    lb: random
                """,
            fixedExample: """
                services:
                  users:
                    endpoints: [10.0.1.10:8080]
                    lb: random
                """),
        Rule(
            id: .invalidValue, code: "XDS006", severity: .error,
            summary: "a value out of range or malformed",
            explanation: """
                The value has the right kind but Envoy would reject it or it cannot mean what was \
                intended: a port outside 1..65535, an address that is not an IP literal, a \
                duration without a unit, a domain with a misplaced `*`, a lower-case or unknown \
                HTTP method, a status code out of range, a header name with invalid characters, \
                an endpoint weight outside 1..128, or an empty list or map where at least one \
                entry is required (`listeners`, `hosts`, `domains`, `routes`, `endpoints`).
                """,
            failingExample: """
                listeners:
                  public:
                    address: 0.0.0.0:80800
                """,
            fixedExample: """
                listeners:
                  public:
                    address: 0.0.0.0:8080
                """),
        Rule(
            id: .conflictingFields, code: "XDS007", severity: .error,
            summary: "keys that exclude each other",
            explanation: """
                Some keys are alternatives: a match has exactly one of `prefix`, `path` and \
                `regex`; a route has exactly one action (`to`, `redirect`, `respond`); the \
                route-only keys (`rewrite`, `mirror`, `hash_on`, `websocket`, `fault`) need `to`.
                """,
            failingExample: """
                - match: {prefix: /users, path: /users/me}
                  to: users
                """,
            fixedExample: """
                - match: {path: /users/me}
                  to: users
                """),
        Rule(
            id: .unsupportedVersion, code: "XDS008", severity: .error,
            summary: "`version` is not 1",
            explanation: """
                Every policy file states the language version it is written in. This xdsc \
                understands version 1 only.
                """,
            failingExample: "version: 2",
            fixedExample: "version: 1"),
        Rule(
            id: .unknownService, code: "XDS009", severity: .error,
            summary: "a route sends traffic to a service that is not defined",
            explanation: """
                `to`, each service of a weighted `to`, and `mirror.to` must name a service of the \
                policy. Envoy would reject the configuration at load time with \
                `route: unknown cluster`.
                """,
            failingExample: """
                services:
                  users: {endpoints: [10.0.1.10:8080]}
                # ...
                    - match: {prefix: /users}
                      to: user
                """,
            fixedExample: """
                services:
                  users: {endpoints: [10.0.1.10:8080]}
                # ...
                    - match: {prefix: /users}
                      to: users
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports a route whose `cluster`, weighted cluster or \
                    request mirror names a cluster that none of the files read defines. Envoy rejects such a \
                    route table at load time (`route: unknown cluster`) when `validate_clusters` is on, as it \
                    is for inline tables, and answers 503 otherwise. The message suggests the closest defined \
                    cluster; nothing is reported when no cluster was read at all (an RDS file on its own).
                    """,
                failingExample: """
                    clusters:
                    - name: users
                      # ...
                    # ...
                          route: {cluster: user}
                    """,
                fixedExample: """
                    clusters:
                    - name: users
                      # ...
                    # ...
                          route: {cluster: users}
                    """)),
        Rule(
            id: .duplicateName, code: "XDS010", severity: .error,
            summary: "a service, listener, host or route name is defined twice",
            explanation: """
                Names identify Envoy clusters, listeners and routes. A service or listener \
                defined in two files of one policy, or two routes of one host with the same \
                name, is reported at the second definition with the first as related location.
                """,
            failingExample: """
                routes:
                  - name: read
                    match: {prefix: /a}
                    to: users
                  - name: read
                    match: {prefix: /b}
                    to: users
                """,
            fixedExample: """
                routes:
                  - name: read-a
                    match: {prefix: /a}
                    to: users
                  - name: read-b
                    match: {prefix: /b}
                    to: users
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports two listeners, or two clusters, with one name, at \
                    the second: Envoy rejects a static bootstrap with either, and over xDS the second \
                    replaces the first.
                    """,
                failingExample: """
                    clusters:
                    - name: users
                      # ...
                    - name: users
                      # ...
                    """,
                fixedExample: """
                    clusters:
                    - name: users
                      # ...
                    - name: users-canary
                      # ...
                    """)),
        Rule(
            id: .duplicateDomain, code: "XDS011", severity: .error,
            summary: "one domain in two hosts of one listener, or two `*` hosts",
            explanation: """
                Envoy picks a virtual host by domain and rejects a route configuration in which \
                a domain (compared case-insensitively) appears twice, or in which two virtual \
                hosts use `*`.
                """,
            failingExample: """
                hosts:
                  api: {domains: [api.example.com], routes: [...]}
                  api2: {domains: [API.example.com], routes: [...]}
                """,
            fixedExample: """
                hosts:
                  api: {domains: [api.example.com], routes: [...]}
                  api2: {domains: [api2.example.com], routes: [...]}
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports the same within one route configuration: two \
                    virtual hosts that share a domain, or two `*` virtual hosts (the message says \
                    "virtual host" and "route configuration").
                    """,
                failingExample: """
                    virtual_hosts:
                    - {name: api, domains: [api.example.com], routes: [...]}
                    - {name: api2, domains: [API.example.com], routes: [...]}
                    """,
                fixedExample: """
                    virtual_hosts:
                    - {name: api, domains: [api.example.com], routes: [...]}
                    - {name: api2, domains: [api2.example.com], routes: [...]}
                    """)),
        Rule(
            id: .duplicateAddress, code: "XDS012", severity: .error,
            summary: "two listeners on the same address and port",
            explanation: """
                Envoy refuses a second listener bound to an address and port already in use by \
                another listener (`has duplicate address`). The admin interface counts too.
                """,
            failingExample: """
                listeners:
                  public: {address: 0.0.0.0:8080, hosts: {...}}
                  internal: {address: 0.0.0.0:8080, hosts: {...}}
                """,
            fixedExample: """
                listeners:
                  public: {address: 0.0.0.0:8080, hosts: {...}}
                  internal: {address: 0.0.0.0:8081, hosts: {...}}
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports a listener whose `address` (IP and port) another \
                    listener, or `admin`, already binds.
                    """,
                failingExample: """
                    listeners:
                    - name: public
                      address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
                    - name: internal
                      address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
                    """,
                fixedExample: """
                    listeners:
                    - name: public
                      address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
                    - name: internal
                      address: {socket_address: {address: 0.0.0.0, port_value: 8081}}
                    """)),
        Rule(
            id: .invalidRegex, code: "XDS013", severity: .error,
            summary: "RE2 rejects the pattern, or Envoy's program-size limit would",
            explanation: """
                Envoy compiles regexes with RE2, which has no lookaround and no backreferences, \
                and by default rejects a pattern whose compiled program is larger than 100. xdsc \
                compiles each pattern with the same RE2 library and reports RE2's own message.
                """,
            failingExample: """
                match: {regex: "/users/(?=admin).*"}
                """,
            fixedExample: """
                match: {regex: "/users/admin.*"}
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input every regex of the route tables is compiled the same way: \
                    `safe_regex` paths, header and query parameter matchers and `regex_rewrite` patterns.
                    """,
                failingExample: """
                    match: {safe_regex: {regex: "/users/(?=admin).*"}}
                    """,
                fixedExample: """
                    match: {safe_regex: {regex: "/users/admin.*"}}
                    """)),
        Rule(
            id: .routeShadowed, code: "XDS014", severity: .error,
            summary: "earlier routes match every request this route matches, so it is never reached",
            explanation: """
                Envoy tries the routes of a virtual host in order and the first match wins; it \
                does not sort by specificity. A route whose every request is already matched by \
                earlier routes (one, or several together) can never be reached. The finding \
                carries an example request this route wanted that an earlier route takes.
                """,
            failingExample: """
                routes:
                  - match: {prefix: /api}
                    to: api
                  - match: {prefix: /api/users}
                    to: users
                """,
            fixedExample: """
                routes:
                  - match: {prefix: /api/users}
                    to: users
                  - match: {prefix: /api}
                    to: api
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the same analysis runs on every virtual host of the route tables \
                    read, with every match field xdsc models, and the finding points at the route in the \
                    Envoy file.
                    """,
                failingExample: """
                    routes:
                    - match: {prefix: /api}
                      route: {cluster: api}
                    - match: {prefix: /api/users}
                      route: {cluster: users}
                    """,
                fixedExample: """
                    routes:
                    - match: {prefix: /api/users}
                      route: {cluster: users}
                    - match: {prefix: /api}
                      route: {cluster: api}
                    """)),
        Rule(
            id: .routeOverlap, code: "XDS015", severity: .warning,
            summary: "an earlier route and this one partially overlap, so their order decides",
            explanation: """
                Each of the two routes matches requests the other does not, and some requests \
                match both; those go to the earlier route only because of the order. A more \
                specific route placed before a more general one is the normal idiom and is not \
                reported. The finding carries an example request both routes match.
                """,
            failingExample: """
                routes:
                  - match: {prefix: /api, methods: [GET]}
                    to: reader
                  - match: {prefix: /api/v2}
                    to: v2
                """,
            fixedExample: """
                routes:
                  - match: {prefix: /api/v2}
                    to: v2
                  - match: {prefix: /api, methods: [GET]}
                    to: reader
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the same analysis runs on every virtual host of the route tables \
                    read, and the finding points at the later route in the Envoy file.
                    """,
                failingExample: """
                    routes:
                    - match: {prefix: /api, headers: [{name: ":method", string_match: {exact: GET}}]}
                      route: {cluster: reader}
                    - match: {prefix: /api/v2}
                      route: {cluster: v2}
                    """,
                fixedExample: """
                    routes:
                    - match: {prefix: /api/v2}
                      route: {cluster: v2}
                    - match: {prefix: /api, headers: [{name: ":method", string_match: {exact: GET}}]}
                      route: {cluster: reader}
                    """)),
        Rule(
            id: .unusedService, code: "XDS016", severity: .warning,
            summary: "a service no route, split or mirror uses",
            explanation: """
                A service that no route sends traffic to still becomes an Envoy cluster with \
                health checks and connections. It is usually left over from a rename.
                """,
            failingExample: """
                services:
                  users: {endpoints: [10.0.1.10:8080]}
                  users-old: {endpoints: [10.0.1.9:8080]}
                """,
            fixedExample: """
                services:
                  users: {endpoints: [10.0.1.10:8080]}
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports a cluster that no route sends traffic to (as its \
                    cluster, a weighted cluster or a mirror); Envoy still resolves it, health-checks it and \
                    keeps connections to it. Something xdsc keeps opaque (a TCP proxy, an ext_authz or rate \
                    limit service, a config source, a stats sink) may use a cluster, so nothing is reported \
                    when anything opaque could name one, nor for a cluster whose name is written anywhere \
                    outside its own definition.
                    """,
                failingExample: """
                    clusters:
                    - name: users
                      # ...
                    - name: users-old
                      # ...
                    """,
                fixedExample: """
                    clusters:
                    - name: users
                      # ...
                    """)),
        Rule(
            id: .retryTimeout, code: "XDS017", severity: .warning,
            summary: "per_try_timeout is not shorter than timeout, so no retry can happen",
            explanation: """
                Envoy's route `timeout` covers the whole request including retries. A \
                `per_try_timeout` that is not shorter is ignored (Envoy's router drops it, \
                `FilterUtility::finalTimeout`), so a try that hangs uses up the whole budget and \
                no retry follows it; only failures that come back in time (a 5xx, a reset) are \
                still retried. When no timeout is set, Envoy's default of 15s applies.
                """,
            failingExample: """
                timeout: 2s
                retries: {attempts: 3, retry_on: [5xx], per_try_timeout: 2s}
                """,
            fixedExample: """
                timeout: 6s
                retries: {attempts: 3, retry_on: [5xx], per_try_timeout: 2s}
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the rule reports a route whose `retry_policy.per_try_timeout` is at \
                    least the route's `timeout` (15s when unset; `0s` turns the timeout off and is never \
                    reported). The retry policy is the route's, else its virtual host's, and both \
                    timeouts are compared in whole milliseconds, as Envoy keeps them (under 1ms is no \
                    timeout). The finding points at the `per_try_timeout` in effect; one on the virtual \
                    host's lists the routes that inherit it. A route with `max_stream_duration` arms no \
                    router timeout at all and is not reported.
                    """,
                failingExample: """
                    route:
                      cluster: users
                      timeout: 2s
                      retry_policy: {retry_on: 5xx, num_retries: 3, per_try_timeout: 2s}
                    """,
                fixedExample: """
                    route:
                      cluster: users
                      timeout: 6s
                      retry_policy: {retry_on: 5xx, num_retries: 3, per_try_timeout: 2s}
                    """)),
        Rule(
            id: .inputLimit, code: "XDS018", severity: .error,
            summary: "the input exceeds one of xdsc's explicit limits",
            explanation: """
                To stay fast and safe on any input, xdsc limits a file's size (16 MiB), the \
                nesting depth of YAML collections (64), the number of aliases (10,000) and the \
                number of nodes expanding aliases may add (1,000,000). An alias bomb is rejected \
                before anything is expanded.
                """,
            failingExample: """
                a: &a [x, x, x, x, x, x, x, x, x]
                b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
                # ... nine levels more
                """,
            fixedExample: """
                a: &a [x, x, x]
                b: [*a, *a]
                """),
        Rule(
            id: .unreadableInput, code: "XDS019", severity: .error,
            summary: "an input path cannot be read or holds no policy files",
            explanation: """
                A path given on the command line does not exist, cannot be read, or is a \
                directory with no `.yaml`/`.yml` files below it. Below a directory nothing is \
                passed over: a folder that cannot be listed, a policy file that cannot be read, \
                a `*.yaml` symbolic link to nothing and a symbolic-link loop are each reported \
                with their path, since building without them would silently drop what they \
                define. Such a run exits with code 2 and `build` writes nothing.
                """,
            failingExample: "xdsc lint policies/   # an empty directory",
            fixedExample: "xdsc lint policies/   # holding edge.yaml"),
        Rule(
            id: .ineffectiveSetting, code: "XDS020", severity: .warning,
            summary: "a setting that has no effect where it stands",
            explanation: """
                The setting is valid but Envoy will ignore it here: `hash_on` on a route whose \
                services do not use `ring_hash` or `maglev` load balancing, `case_sensitive` \
                on a `regex` match (Envoy ignores it for regexes; write `(?i)` instead), \
                `grpc: false` (Envoy's `grpc` matcher can only require gRPC, never exclude it), \
                or a retry condition or status code listed twice in `retries` (xdsc emits it once).
                """,
            failingExample: """
                - match: {regex: "/users/[a-z]+", case_sensitive: false}
                  to: users
                """,
            fixedExample: """
                - match: {regex: "(?i)/users/[a-z]+"}
                  to: users
                """),
        Rule(
            id: .unsupportedMatcher, code: "XDS021", severity: .error,
            summary: "a query matcher Envoy cannot evaluate as written",
            explanation: """
                Envoy's query parameter matcher can require a parameter (`present: true`) or match \
                the first value of it (`exact`, `prefix`, `suffix`, `contains`, `regex`); it has no \
                `invert_match`. `present_match: false` means "absent" only from Envoy 1.34 with the \
                runtime guard `envoy.reloadable_features.enable_new_query_param_present_match_behavior` \
                on: older Envoys, and that guard turned off, treat it as "present", so the route would \
                take exactly the requests it was meant to leave alone. `present: false` and \
                `invert: true` on a query parameter are therefore errors. Match the parameter on an \
                earlier route instead: first match wins, so later routes see only the other requests.
                """,
            failingExample: """
                - match: {prefix: /, query: {debug: {present: false}}}
                  to: web
                """,
            fixedExample: """
                - match: {prefix: /, query: {debug: {present: true}}}
                  to: web-debug
                - match: {prefix: /}
                  to: web
                """),
        Rule(
            id: .routeUnmatchable, code: "XDS022", severity: .error,
            summary: "a route that can match no request Envoy routes",
            explanation: """
                No request that reaches Envoy's router satisfies the route's match, so the \
                route never takes traffic. The router sees a path that starts with `/`, \
                without the query (cut off at `?`), without `#` (Envoy rejects such \
                requests) and without control characters such as a newline; a regex is \
                matched against that whole path, so a pattern that does not start with `/` \
                or needs one of those matches nothing. Conditions on one header or query \
                parameter that exclude each other have the same effect.
                """,
            failingExample: """
                - match: {regex: "api/.*"}
                  to: api
                """,
            fixedExample: """
                - match: {regex: "/api/.*"}
                  to: api
                """,
            onEnvoyInput: .init(
                explanation: """
                    On Envoy input the same analysis runs on every route of the route tables read: \
                    a `safe_regex` path that cannot match a path starting with `/`, or header and query \
                    parameter conditions that exclude each other.
                    """,
                failingExample: """
                    - match: {safe_regex: {regex: "api/.*"}}
                      route: {cluster: api}
                    """,
                fixedExample: """
                    - match: {safe_regex: {regex: "/api/.*"}}
                      route: {cluster: api}
                    """)),
        Rule(
            id: .deprecatedField, code: "XDS024", severity: .warning,
            summary: "a key written in an older spelling that is still read",
            explanation: """
                The key still works but has a newer name: `retries.on` is now `retry_on`, as \
                Envoy calls it. Tools that read YAML 1.1 (PyYAML, and so Ansible and most Python \
                scripts that generate or post-process policies) turn the plain key `on` into the \
                boolean `true`, and yamllint's default `truthy` rule warns on it. xdsc reads both \
                spellings the same way; writing both in one mapping is `conflicting-fields`.
                """,
            failingExample: """
                retries: {attempts: 2, on: [5xx]}
                """,
            fixedExample: """
                retries: {attempts: 2, retry_on: [5xx]}
                """),
        Rule(
            id: .unmodeledField, code: "XDS030", severity: .warning,
            summary: "an Envoy field that can change routing but xdsc does not model",
            explanation: """
                The field is valid Envoy configuration, but xdsc does not evaluate it, and it can \
                change which route a request takes or where it goes: a route match on \
                `filter_state`, `cookies` or `tls_context`, a virtual host \
                `matcher` tree, a listener-level path normalisation (`normalize_path`, \
                `merge_slashes`). xdsc never guesses: a route with such a condition is left out of \
                the shadowing analysis (it is counted as undecided in `--verbose`), and this warning \
                says where. Fields that change only statistics, tracing or timeouts are read \
                without a word.
                """,
            failingExample: """
                routes:
                - match: {prefix: /, filter_state: [{key: auth.tier, string_match: {exact: gold}}]}
                  route: {cluster: gold}
                """,
            fixedExample: """
                routes:
                - match: {prefix: /, headers: [{name: x-tier, string_match: {exact: gold}}]}
                  route: {cluster: gold}
                """),
        Rule(
            id: .singleObjectList, code: "XDS031", severity: .warning,
            summary: "a single object where Envoy expects a list",
            explanation: """
                A repeated Envoy field (`virtual_hosts`, `routes`, `domains`...) was given one value \
                instead of a list of one. xdsc reads it as a list of one, as some YAML-to-proto \
                converters do, but Envoy's own JSON parser rejects it. Wrap the value in a list.
                """,
            failingExample: """
                virtual_hosts:
                  name: web
                  domains: ["*"]
                """,
            fixedExample: """
                virtual_hosts:
                - name: web
                  domains: ["*"]
                """),
        Rule(
            id: .unresolvedResource, code: "XDS032", severity: .warning,
            summary: "an xDS resource named but not among the files read",
            explanation: """
                A connection manager names its route table over RDS (`rds.route_config_name`), and \
                no route configuration of that name is in the files xdsc read. Envoy waits for the \
                resource (the listener does not serve until it arrives); xdsc cannot check those \
                routes. Give the RDS file on the command line, or point `dynamic_resources` at it.
                """,
            failingExample: """
                rds: {route_config_name: web, config_source: {ads: {}}}
                # and no RouteConfiguration `web` in any file given
                """,
            fixedExample: """
                xdsc lint bootstrap.yaml rds.json   # rds.json holds RouteConfiguration `web`
                """),
        Rule(
            id: .routerNotLast, code: "XDS033", severity: .error,
            summary: "the router is not the last HTTP filter of a connection manager",
            explanation: """
                The router is the terminal HTTP filter: it sends the request upstream, and no \
                filter after it runs. Envoy rejects a connection manager whose `http_filters` \
                have the router anywhere but last, or end in a filter that is not terminal. \
                xdsc lowers policies with the router last; this finds it in Envoy files.
                """,
            failingExample: """
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                - name: envoy.filters.http.cors
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
                """,
            fixedExample: """
                http_filters:
                - name: envoy.filters.http.cors
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors}
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """),
        Rule(
            id: .unsimulatedField, code: "XDS034", severity: .warning,
            summary: "an Envoy route or virtual host field that changes traffic but that xdsc does not simulate",
            explanation: """
                The field is valid Envoy configuration and it changes how Envoy serves the \
                requests of a route or virtual host, though not which route they take: a \
                `hedge_policy`, a retry extension (`retry_policy_typed_config`), a retry \
                policy's `retry_priority` or `retry_options_predicates`, internal \
                redirects, subset selection (`metadata_match`), \
                `early_data_policy`, `flush_timeout`, `include_is_timeout_retry_header`. \
                `xdsc route`, `xdsc test routes` and the embedded proxy behave as if it were not \
                set, so what they show can differ from Envoy for those requests; the warning \
                says where. Fields that change only metadata, tracing or statistics \
                (`metadata`, `decorator`, `tracing`, `stat_prefix`) are read without a word. \
                Only Envoy files can set these fields.
                """,
            failingExample: """
                routes:
                - match: {prefix: /}
                  route:
                    cluster: web
                    hedge_policy: {hedge_on_per_try_timeout: true}
                """,
            fixedExample: """
                routes:
                - match: {prefix: /}
                  route: {cluster: web}
                """),
    ])
}
