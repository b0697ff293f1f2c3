import XDSCJSON

extension Schemas {
    /// The schema of a traffic test spec (`xdsc test traffic SPEC`). Its mappings are written
    /// out by hand; a test checks they are exactly `TrafficSpecKeys.table`.
    public static var traffic: JSON {
        let status = int("An HTTP status.", 100...599)
        let headerMap = named("Headers by name.", keys: str("A header name."), value: str("The value."))
        let text = anyOf("Exactly this text, or a mapping with `equals` or `contains`.", [str("Exactly this text."), refOnly("body")])
        let header = anyOf(
            "Exactly this value, or a mapping with one of `equals`, `contains`, `present: true`, `absent: true`.",
            [str("Exactly this value."), refOnly("header")])
        let headerExpectations = named("Header expectations by name.", keys: str("A header name (any case)."), value: header)
        let percent = obj([
            ("description", .string("Percent.")), ("type", .string("number")), ("minimum", .integer(0)), ("maximum", .integer(100)),
        ])
        let defs: [(String, JSON)] = [
            (
                "test",
                fixed(
                    "One test: a request, how upstreams behave, what to expect.",
                    [
                        ("name", str("The test's name (printed by the runner).")),
                        ("listener", str("The listener to send to (the first one by default).")),
                        ("request", ref("request", "The request.")),
                        (
                            "upstreams",
                            named(
                                "How clusters answer during this test, by cluster name; the others answer at once with a JSON echo.",
                                keys: str("A cluster (service) name."), value: refOnly("behaviour"))
                        ),
                        ("expect", ref("expect", "What to expect.")),
                    ], required: ["request", "expect"])
            ),
            (
                "request",
                fixed(
                    "The request sent, over a new connection each time.",
                    [
                        ("method", str("The method (GET by default).", pattern: "^[A-Z_-]+$")),
                        (
                            "url",
                            str(
                                "http://HOST/PATH?QUERY (HOST becomes the Host header), https://HOST/PATH?QUERY (sent over TLS with HOST as SNI), or /PATH (Host localhost).",
                                pattern: "^(/|[Hh][Tt][Tt][Pp][Ss]?://[^/?]+)")
                        ),
                        ("headers", headerMap), ("body", str("The body (content-length is added).")),
                        ("repeat", int("How many times the request is sent, one after another.", 1...100_000)),
                        ("http2", bool("Send it over HTTP/2 (h2c with prior knowledge) instead of HTTP/1.1.")),
                    ], required: ["url"])
            ),
            (
                "behaviour",
                fixed(
                    "How a cluster's mocks answer: the first fail_times requests fail (with fail_status, or by closing the connection when reset), later ones answer 200 with a JSON echo of what they received, or the fixed status, headers and body.",
                    [
                        (
                            "fail_times",
                            int(
                                "How many requests fail (every request when fail_status, fail_headers, reset or refuse_stream is given without it).",
                                0...Int.max)
                        ),
                        ("fail_status", int("The status of a failing answer (503 by default).", 100...599)),
                        (
                            "fail_headers",
                            named(
                                "Headers of a failing answer, which then has an empty body instead of the echo.",
                                keys: str("A header name."),
                                value: str("The value."))
                        ),
                        ("reset", bool("Fail by closing the connection before answering.")),
                        (
                            "refuse_stream",
                            bool(
                                "Fail an HTTP/2 request by resetting its stream with REFUSED_STREAM (an HTTP/1.1 one by closing the connection)."
                            )
                        ),
                        ("delay", str("A delay before every answer, e.g. 2s or 250ms.", pattern: "^[0-9]+(ms|s|m|h)$")),
                        ("status", int("The status of the fixed answer (200 by default).", 100...599)),
                        ("headers", headerMap), ("body", str("The body of the fixed answer.")),
                        (
                            "trailers",
                            named(
                                "Trailers of the fixed answer, sent to HTTP/2 requests only.", keys: str("A trailer name."),
                                value: str("The value."))
                        ),
                    ])
            ),
            (
                "expect",
                fixed(
                    "What to expect; every key is optional. With repeat, response checks apply to every response.",
                    [
                        ("status", status), ("body", text), ("headers", headerExpectations),
                        ("location", str("The redirect's Location header.")), ("upstream", ref("upstream", "What the upstreams received.")),
                        ("split", ref("split", "How a repeated request splits over clusters.")),
                        (
                            "trailers",
                            named(
                                "Response trailer expectations by name (HTTP/2 responses).", keys: str("A trailer name (any case)."),
                                value: header)
                        ),
                    ])
            ),
            (
                "body",
                fixed(
                    "A text expectation.", [("equals", str("Exactly this.")), ("contains", str("Holding this."))],
                    extra: [exactlyOne(["equals", "contains"])])
            ),
            (
                "header",
                fixed(
                    "A header expectation.",
                    [
                        ("equals", str("Exactly this value.")), ("contains", str("A value holding this.")),
                        ("present", obj([("description", .string("Any value.")), ("const", .bool(true))])),
                        ("absent", obj([("description", .string("No such header.")), ("const", .bool(true))])),
                    ], extra: [exactlyOne(["equals", "contains", "present", "absent"])])
            ),
            (
                "upstream",
                fixed(
                    "What the upstreams received. requests counts every request every mock got (retries and mirrors included); the other checks apply to the last attempt of each request that is not a mirror.",
                    [
                        ("service", listOrOne("The cluster that received it (any of a list).", str("A cluster name."))),
                        ("endpoint", str("The configured endpoint, host:port.")),
                        (
                            "requests",
                            anyOf(
                                "Total requests received, or per cluster.",
                                [
                                    int("Total requests.", 0...Int.max),
                                    named("Requests per cluster.", keys: str("A cluster name."), value: int("Requests.", 0...Int.max)),
                                ])
                        ),
                        ("path", str("The request target the upstream saw.")), ("host", str("The Host the upstream saw.")),
                        ("headers", headerExpectations),
                        (
                            "protocol",
                            obj([
                                ("description", .string("The HTTP version the upstream saw.")),
                                ("enum", .array([.string("HTTP/1.1"), .string("HTTP/2")])),
                            ])
                        ),
                    ])
            ),
            (
                "split",
                fixed(
                    "How the requests of a repeated request split over clusters (by the first attempt's cluster).",
                    [
                        ("shares", named("Each cluster's share in percent.", keys: str("A cluster name."), value: percent)),
                        (
                            "tolerance",
                            obj([
                                ("description", .string("Allowed difference in percentage points (5 by default).")),
                                ("type", .string("number")), ("minimum", .integer(0)), ("maximum", .integer(100)),
                            ])
                        ),
                    ], required: ["shares"])
            ),
        ]
        var root = JSONObject()
        root["$schema"] = .string("https://json-schema.org/draft/2020-12/schema")
        root["$id"] = .string("https://xdsc.dev/schemas/traffic.v1.schema.json")
        root["title"] = .string("xdsc traffic test spec")
        let top = fixed(
            "A traffic test spec for xdsc test traffic: the configuration to serve, then tests.",
            [
                ("version", obj([("description", .string("The spec format version.")), ("const", .integer(1))])),
                (
                    "config",
                    listOrOne("The policy or Envoy files to serve, relative to the spec.", str("A file.", minLength: 1), minItems: 1)
                ),
                ("seed", int("The seed of the proxy's per-request random value (0 by default).", 0...Int.max)),
                (
                    "ca_file",
                    str(
                        "A PEM file of the CAs https:// requests trust, relative to the spec; without it they trust exactly the certificates the listener serves.",
                        minLength: 1)
                ),
                (
                    "tests",
                    obj([
                        ("description", .string("The tests, run in order.")), ("type", .string("array")), ("items", ref("test", "A test.")),
                    ])
                ),
            ], required: ["config", "tests"], extra: [("$defs", obj(defs))])
        for (k, v) in top.objectValue!.members { root[k] = v }
        return .object(root)
    }
}
