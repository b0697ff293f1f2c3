import XDSCJSON

extension Schemas {
    /// The schema of `xdsc diff --format json` (`schemas/diff.v1.schema.json`).
    public static var diff: JSON {
        func o(_ m: [(String, JSON)]) -> JSON {
            var x = JSONObject()
            for (k, v) in m { x[k] = v }
            return .object(x)
        }
        func t(_ type: String, _ d: String) -> JSON { o([("description", .string(d)), ("type", .string(type))]) }
        func nullable(_ type: String, _ d: String) -> JSON {
            o([("description", .string(d)), ("type", .array([.string(type), .string("null")]))])
        }
        func object(_ d: String, _ props: [(String, JSON)], required: [String]? = nil, nullable isNullable: Bool = false) -> JSON {
            o([
                ("description", .string(d)), ("type", isNullable ? .array([.string("object"), .string("null")]) : .string("object")),
                ("properties", o(props)), ("required", .array((required ?? props.map(\.0)).map { .string($0) })),
                ("additionalProperties", .bool(false)),
            ])
        }
        func list(_ d: String, _ item: JSON, nullable isNullable: Bool = false) -> JSON {
            o([
                ("description", .string(d)), ("type", isNullable ? .array([.string("array"), .string("null")]) : .string("array")),
                ("items", item),
            ])
        }
        let position = object(
            "A file:line:column, or null when the element has none on that side.",
            [("file", t("string", "The file.")), ("line", t("integer", "1-based line.")), ("column", t("integer", "1-based column."))],
            nullable: true)
        let field = object(
            "One field whose value changed.",
            [
                ("path", t("string", "The field path relative to the element, e.g. route.weighted_clusters.clusters[0].name.")),
                ("old", nullable("string", "The old value as compact JSON; null when absent.")),
                ("new", nullable("string", "The new value as compact JSON; null when absent.")),
            ])
        let semantic = object(
            "One semantic change.",
            [
                ("kind", o([("type", .string("string")), ("enum", .array(["added", "removed", "changed", "moved"].map(JSON.string)))])),
                (
                    "element",
                    o([("type", .string("string")), ("enum", .array(["listener", "cluster", "virtual host", "route"].map(JSON.string)))])
                ),
                ("name", t("string", "The element's name; a route without one is #N, its old position (1-based).")),
                ("context", t("string", "Where it sits: listener `public`, host `api` (empty for listeners and clusters).")),
                ("old", position), ("new", position), ("fields", list("The fields that changed (changed entries).", field)),
                ("old_index", t("integer", "Moved routes: the old position in the table, 1-based.")),
                ("new_index", t("integer", "Moved routes: the new position in the table, 1-based.")),
            ], required: ["kind", "element", "name", "context", "old", "new", "fields"])
        let side = object(
            "Which route wins on one side and what Envoy does.",
            [
                ("route", t("string", "route `NAME`, route #N, no route, or require_tls.")), ("position", position),
                ("outcome", t("string", "What Envoy does: a cluster, a weighted split, a redirect, a direct response, 404.")),
            ])
        let header = object("A header.", [("name", t("string", "Lower-case name.")), ("value", t("string", "Value."))])
        let behaviour = object(
            "One class of requests whose outcome changes, with an example verified through the route engine on both sides.",
            [
                ("listener", t("string", "listener `NAME` or route_config `NAME`.")),
                ("old_host", nullable("string", "The old virtual host; null when none takes the host.")),
                ("new_host", nullable("string", "The new virtual host; null when none takes the host.")),
                (
                    "example",
                    object(
                        "The example request.",
                        [
                            ("method", t("string", "Method.")), ("host", t("string", "Host.")),
                            ("path", t("string", "Path with its query.")), ("headers", list("Other headers.", header)),
                            ("curl", t("string", "The request as a curl command line.")),
                        ])
                ),
                ("before", side), ("after", side),
                (
                    "changes",
                    list(
                        "What differs: outcome, headers, timeout, retry policy, mirrors, hash policy, filter config, require_tls.",
                        t("string", "An aspect."))
                ),
            ])
        return o([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("$id", .string("https://xdsc.dev/schemas/diff.v1.schema.json")),
            ("title", .string("xdsc diff --format json")),
            ("description", .string("What changed between two configurations and which requests behave differently.")),
            ("type", .string("object")),
            (
                "properties",
                o([
                    ("version", t("integer", "Always 1.")), ("equal", t("boolean", "No change of the kinds computed.")),
                    ("semantic", list("Semantic changes; null with --behaviour-only.", semantic, nullable: true)),
                    ("behaviour", list("Behaviour changes; null with --semantic-only.", behaviour, nullable: true)),
                    ("undecided", t("integer", "Cases that could not be decided exactly; nothing is reported for them.")),
                    ("undecided_details", list("The first undecided cases.", t("string", "A case and its reason."))),
                ])
            ),
            ("required", .array(["version", "equal", "semantic", "behaviour", "undecided", "undecided_details"].map(JSON.string))),
            ("additionalProperties", .bool(false)),
        ])
    }
}
