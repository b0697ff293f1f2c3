import XDSCJSON

extension Schemas {
    /// The schema of `xdsc route --format json` (one decision; an array of them when the
    /// input holds several route tables).
    public static var route: JSON {
        func o(_ m: [(String, JSON)]) -> JSON {
            var x = JSONObject()
            for (k, v) in m { x[k] = v }
            return .object(x)
        }
        func t(_ type: String, _ d: String) -> JSON { o([("description", .string(d)), ("type", .string(type))]) }
        func nullable(_ type: String, _ d: String) -> JSON {
            o([("description", .string(d)), ("type", .array([.string(type), .string("null")]))])
        }
        func object(_ d: String, _ props: [(String, JSON)], nullable isNullable: Bool = false) -> JSON {
            o([
                ("description", .string(d)), ("type", isNullable ? .array([.string("object"), .string("null")]) : .string("object")),
                ("properties", o(props)), ("required", .array(props.map { .string($0.0) })), ("additionalProperties", .bool(false)),
            ])
        }
        func list(_ d: String, _ item: JSON) -> JSON { o([("description", .string(d)), ("type", .string("array")), ("items", item)]) }
        let source = o([
            ("description", .string("Where the element is written: its RouteConfiguration field path and, when known, file:line:column.")),
            ("type", .array([.string("object"), .string("null")])),
            (
                "properties",
                o([
                    ("field", t("string", "Proto field path, e.g. virtual_hosts[0].routes[2].route.prefix_rewrite.")),
                    ("file", t("string", "The file.")), ("line", t("integer", "1-based line.")),
                    ("column", t("integer", "1-based column.")),
                ])
            ),
            ("required", .array([.string("field")])), ("additionalProperties", .bool(false)),
        ])
        let header = object("A header.", [("name", t("string", "Lower-case name.")), ("value", t("string", "Value."))])
        let outcome = o([
            (
                "description",
                .string(
                    "What Envoy does: kind no-route (404 NR), tls-redirect, redirect, direct-response or forward; the other keys depend on the kind."
                )
            ),
            ("type", .string("object")),
            (
                "properties",
                o([
                    (
                        "kind",
                        o([
                            ("type", .string("string")),
                            ("enum", .array(["no-route", "tls-redirect", "redirect", "direct-response", "forward"].map(JSON.string))),
                        ])
                    ),
                    ("status", t("integer", "The status Envoy answers itself with.")),
                    ("response_flag", t("string", "NR for no route.")), ("reason", t("string", "Why no route.")),
                    ("location", t("string", "The full Location of a redirect.")),
                    ("rewritten_path", nullable("string", "The :path after a redirect's own rewrite.")),
                    ("body", t("string", "A direct response's body.")), ("cluster", t("string", "The cluster picked.")),
                    (
                        "cluster_from",
                        o([
                            ("type", .string("string")),
                            ("enum", .array(["cluster", "cluster_header", "weighted_clusters"].map(JSON.string))),
                        ])
                    ),
                    ("cluster_header", t("object", "The header and its whole first value (null when absent).")),
                    (
                        "weighted",
                        t(
                            "object",
                            "The split and Envoy's arithmetic: selection_value % total_weight = bucket; the entry whose [start, end) holds bucket."
                        )
                    ),
                    (
                        "cluster_not_found_status",
                        t("integer", "What Envoy answers when the cluster does not exist (503 unless configured).")
                    ),
                    ("path", t("object", "original, rewritten and the rewrite, or nulls.")),
                    ("host", t("object", "original, rewritten, the rewrite, auto_host_rewrite.")), ("source", source),
                ])
            ),
            ("required", .array([.string("kind")])), ("additionalProperties", .bool(false)),
        ])
        let props: [(String, JSON)] = [
            ("version", t("integer", "1.")), ("table", t("string", "The route table: the file, and the listener when there are several.")),
            (
                "request",
                object(
                    "The request as routed.",
                    [
                        ("method", t("string", ":method.")), ("scheme", t("string", ":scheme and x-forwarded-proto.")),
                        ("authority", nullable("string", ":authority.")), ("path", nullable("string", ":path with query.")),
                        ("headers", list("Other headers.", header)), ("random_value", t("integer", "The stream's random value.")),
                        ("internal", t("boolean", "x-envoy-internal: true.")),
                    ])
            ),
            ("matched", t("boolean", "A route (or the TLS redirect) took the request.")),
            (
                "virtual_host",
                object(
                    "The virtual host and why.",
                    [
                        ("name", t("string", "name.")), ("index", t("integer", "Index in virtual_hosts.")),
                        (
                            "reason",
                            o([
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
                        ("require_tls", t("string", "NONE, EXTERNAL_ONLY or ALL.")), ("source", source),
                    ], nullable: true)
            ),
            (
                "routes_tried",
                list(
                    "Every route tried, in order; the last matched when there is a winner.",
                    object(
                        "A route tried.",
                        [
                            ("index", t("integer", "Index in routes.")), ("name", nullable("string", "name.")),
                            ("matched", t("boolean", "Whether it matched.")),
                            ("failed_condition", nullable("string", "The first condition that failed, e.g. match.headers[1].")),
                            ("reason", nullable("string", "Why, in words.")), ("source", source),
                        ]))
            ),
            (
                "route",
                object(
                    "The winner.", [("index", t("integer", "Index.")), ("name", nullable("string", "name.")), ("source", source)],
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
                            ("headers", t("string", "request or response.")), ("level", t("string", "The level.")),
                            (
                                "operation",
                                o([
                                    ("type", .string("string")),
                                    ("enum", .array(["remove", "append", "overwrite", "skipped"].map(JSON.string))),
                                ])
                            ),
                            ("name", t("string", "Header.")), ("value", nullable("string", "Formatted value.")), ("source", source),
                        ]))
            ),
            ("request_headers", list("The request headers as they go upstream.", header)),
            ("response_headers", list("The response headers Envoy's mutations (or its local reply) produce.", header)),
            ("virtual_cluster", nullable("string", "The virtual cluster (stats); other when none matches; null without virtual clusters.")),
            ("timeout", nullable("string", "The route timeout (15s by default).")),
            ("idle_timeout", nullable("string", "The route idle timeout.")),
            ("retry_policy", nullable("object", "The retry policy that applies, as Envoy JSON.")),
            ("mirrors", list("The request mirror policies that apply, as Envoy JSON.", t("object", "A policy."))),
            ("hash_policy", list("The route's hash policy, as Envoy JSON.", t("object", "A policy."))),
            (
                "filter_configs",
                list(
                    "Per-filter configuration that applies, one per filter, from its most specific level.",
                    object(
                        "One filter's config.",
                        [
                            ("filter", t("string", "Filter name.")), ("level", t("string", "The level.")),
                            ("config", t("object", "The config.")), ("source", source),
                        ]))
            ),
        ]
        var root = JSONObject()
        root["$schema"] = .string("https://json-schema.org/draft/2020-12/schema")
        root["$id"] = .string("https://xdsc.dev/schemas/route.v1.schema.json")
        root["title"] = .string("xdsc route decision")
        if case .object(let body) = object("What Envoy decides for one request (xdsc route --format json).", props) {
            for (k, v) in body.members { root[k] = v }
        }
        return .object(root)
    }
}
