import XDSCJSON

extension Schemas {
    /// The schema of `xdsc route --format json` (one decision; an array of them when the
    /// input holds several route tables).
    public static var route: JSON {
        let source = obj([
            ("description", .string("Where the element is written: its RouteConfiguration field path and, when known, file:line:column.")),
            ("type", .array([.string("object"), .string("null")])),
            (
                "properties",
                obj([
                    ("field", typed("string", "Proto field path, e.g. virtual_hosts[0].routes[2].route.prefix_rewrite.")),
                    ("file", typed("string", "The file.")), ("line", typed("integer", "1-based line.")),
                    ("column", typed("integer", "1-based column.")),
                ])
            ),
            ("required", .array([.string("field")])), ("additionalProperties", .bool(false)),
        ])
        // `source` with its own description.
        func sourceOrNull(_ description: String) -> JSON {
            guard case .object(var o) = source else { return source }
            o["description"] = .string(description)
            return .object(o)
        }
        let header = object("A header.", [("name", typed("string", "Lower-case name.")), ("value", typed("string", "Value."))])
        let outcome = obj([
            (
                "description",
                .string(
                    "What Envoy does: kind no-route (404 NR), tls-redirect, redirect, direct-response or forward; the other keys depend on the kind."
                )
            ),
            ("type", .string("object")),
            (
                "properties",
                obj([
                    (
                        "kind",
                        obj([
                            ("type", .string("string")),
                            ("enum", .array(["no-route", "tls-redirect", "redirect", "direct-response", "forward"].map(JSON.string))),
                        ])
                    ),
                    ("status", typed("integer", "The status Envoy answers itself with.")),
                    ("response_flag", typed("string", "NR for no route.")), ("reason", typed("string", "Why no route.")),
                    ("location", typed("string", "The full Location of a redirect.")),
                    ("rewritten_path", nullable("string", "The :path after a redirect's own rewrite.")),
                    ("body", typed("string", "A direct response's body.")), ("cluster", typed("string", "The cluster picked.")),
                    (
                        "cluster_from",
                        obj([
                            ("type", .string("string")),
                            ("enum", .array(["cluster", "cluster_header", "weighted_clusters"].map(JSON.string))),
                        ])
                    ),
                    ("cluster_header", typed("object", "The header and its whole first value (null when absent).")),
                    (
                        "weighted",
                        typed(
                            "object",
                            "The split and Envoy's arithmetic: selection_value % total_weight = bucket; the entry whose [start, end) holds bucket."
                        )
                    ),
                    (
                        "cluster_not_found_status",
                        typed("integer", "What Envoy answers when the cluster does not exist (503 unless configured).")
                    ),
                    ("path", typed("object", "original, rewritten and the rewrite, or nulls.")),
                    ("host", typed("object", "original, rewritten, the rewrite, auto_host_rewrite.")), ("source", source),
                ])
            ),
            ("required", .array([.string("kind")])), ("additionalProperties", .bool(false)),
        ])
        let props: [(String, JSON)] = [
            ("version", typed("integer", "1.")),
            ("table", typed("string", "The route table: the file, and the listener when there are several.")),
            (
                "request",
                object(
                    "The request as routed.",
                    [
                        ("method", typed("string", ":method.")), ("scheme", typed("string", ":scheme and x-forwarded-proto.")),
                        ("authority", nullable("string", ":authority.")), ("path", nullable("string", ":path with query.")),
                        ("headers", list("Other headers.", header)), ("random_value", typed("integer", "The stream's random value.")),
                        ("internal", typed("boolean", "x-envoy-internal: true.")),
                    ])
            ),
            ("matched", typed("boolean", "A route (or the TLS redirect) took the request.")),
            (
                "virtual_host",
                object(
                    "The virtual host and why.",
                    [
                        ("name", typed("string", "name.")), ("index", typed("integer", "Index in virtual_hosts.")),
                        (
                            "reason",
                            obj([
                                ("type", .string("string")),
                                (
                                    "enum",
                                    .array(["only-default", "exact", "suffix-wildcard", "prefix-wildcard", "default"].map(JSON.string))
                                ),
                            ])
                        ),
                        ("domain", nullable("string", "The domain that matched.")),
                        (
                            "compared_host",
                            nullable("string", "The host compared (lower-cased; port dropped with ignore_port_in_host_matching).")
                        ),
                        ("require_tls", typed("string", "NONE, EXTERNAL_ONLY or ALL.")), ("source", source),
                    ], nullable: true)
            ),
            (
                "routes_tried",
                list(
                    "Every route tried, in order; the last matched when there is a winner.",
                    object(
                        "A route tried.",
                        [
                            ("index", typed("integer", "Index in routes.")), ("name", nullable("string", "name.")),
                            ("matched", typed("boolean", "Whether it matched.")),
                            ("failed_condition", nullable("string", "The first condition that failed, e.g. match.headers[1].")),
                            ("reason", nullable("string", "Why, in words.")), ("source", source),
                        ]))
            ),
            (
                "route",
                object(
                    "The winner.", [("index", typed("integer", "Index.")), ("name", nullable("string", "name.")), ("source", source)],
                    nullable: true)
            ),
            ("outcome", outcome),
            (
                "header_mutations",
                list(
                    "Every header change in Envoy's order: weighted cluster, route, virtual host, route configuration (reversed with most_specific_header_mutations_wins), router.",
                    object(
                        "One change.",
                        [
                            ("headers", typed("string", "request or response.")), ("level", typed("string", "The level.")),
                            (
                                "operation",
                                obj([
                                    ("type", .string("string")),
                                    ("enum", .array(["remove", "append", "overwrite", "skipped"].map(JSON.string))),
                                ])
                            ),
                            ("name", typed("string", "Header.")), ("value", nullable("string", "Formatted value.")), ("source", source),
                        ]))
            ),
            ("request_headers", list("The request headers as they go upstream.", header)),
            ("response_headers", list("The response headers Envoy's mutations (or its local reply) produce.", header)),
            ("virtual_cluster", nullable("string", "The virtual cluster (stats); other when none matches; null without virtual clusters.")),
            (
                "timeout",
                nullable(
                    "string",
                    "The router's timeout for a forward (FilterUtility::finalTimeout): the route's timeout (15s by default), or from grpc-timeout under max_grpc_timeout, or x-envoy-upstream-rq-timeout-ms; 0s is none (always with max_stream_duration). Null for other outcomes."
                )
            ),
            ("idle_timeout", nullable("string", "The route idle timeout.")),
        ]
        // Keys added within version 1 after its first release: optional, so that the output
        // of an earlier xdsc still validates (docs/route-engine.md, "JSON output").
        let added: [(String, JSON)] = [
            (
                "timeout_from",
                obj([
                    ("description", .string("Where timeout comes from (forwards; null otherwise).")),
                    ("type", .array([.string("string"), .string("null")])),
                    (
                        "enum",
                        .array(
                            [
                                "default", "route", "grpc-timeout-header", "max-grpc-timeout", "max-stream-duration",
                                "upstream-timeout-header", "expected-timeout-header",
                            ]
                            .map(JSON.string) + [.null])
                    ),
                ])
            ),
            ("timeout_source", sourceOrNull("Where timeout is configured; null for the default and for a request header's value.")),
            (
                "per_try_timeout",
                nullable(
                    "string",
                    "The per-try timeout the router arms: the retry policy's per_try_timeout or x-envoy-upstream-rq-per-try-timeout-ms, dropped when not below timeout; null is none."
                )
            ),
            (
                "expected_timeout_ms",
                nullable("integer", "The x-envoy-expected-rq-timeout-ms value the router sends upstream; null when it sends none.")
            ),
            (
                "grpc_timeout",
                nullable(
                    "string",
                    "The grpc-timeout value sent upstream when Envoy rewrites it (max_grpc_timeout, or max_stream_duration on a gRPC request); null leaves the header as received."
                )
            ),
            (
                "stream_duration",
                nullable(
                    "string",
                    "The connection manager's stream timer for the route (max_stream_duration, or grpc-timeout under grpc_timeout_header_max); null is none, 0s fires at once."
                )
            ),
            ("stream_duration_source", sourceOrNull("Where stream_duration is configured.")),
        ]
        let rest: [(String, JSON)] = [
            ("retry_policy", nullable("object", "The retry policy that applies, as Envoy JSON.")),
            ("mirrors", list("The request mirror policies that apply, as Envoy JSON.", typed("object", "A policy."))),
            ("hash_policy", list("The route's hash policy, as Envoy JSON.", typed("object", "A policy."))),
            (
                "filter_configs",
                list(
                    "Per-filter configuration that applies, one per filter, from its most specific level.",
                    object(
                        "One filter's config.",
                        [
                            ("filter", typed("string", "Filter name.")), ("level", typed("string", "The level.")),
                            ("config", typed("object", "The config.")), ("source", source),
                        ]))
            ),
        ]
        var root = JSONObject()
        root["$schema"] = .string("https://json-schema.org/draft/2020-12/schema")
        root["$id"] = .string("https://xdsc.dev/schemas/route.v1.schema.json")
        root["title"] = .string("xdsc route decision")
        if case .object(let body) = object(
            "What Envoy decides for one request (xdsc route --format json).", props + added + rest,
            required: (props + rest).map(\.0))
        {
            for (k, v) in body.members { root[k] = v }
        }
        return .object(root)
    }
}
