import XDSCJSON

extension Schemas {
    /// The schema of `xdsc diff --format json` (`schemas/diff.v1.schema.json`).
    public static var diff: JSON {
        let position = object(
            "A file:line:column, or null when the element has none on that side.",
            [
                ("file", typed("string", "The file.")), ("line", typed("integer", "1-based line.")),
                ("column", typed("integer", "1-based column.")),
            ],
            nullable: true)
        let field = object(
            "One field whose value changed.",
            [
                ("path", typed("string", "The field path relative to the element, e.g. route.weighted_clusters.clusters[0].name.")),
                ("old", nullable("string", "The old value as compact JSON; null when absent.")),
                ("new", nullable("string", "The new value as compact JSON; null when absent.")),
            ])
        let semantic = object(
            "One semantic change.",
            [
                ("kind", obj([("type", .string("string")), ("enum", .array(["added", "removed", "changed", "moved"].map(JSON.string)))])),
                (
                    "element",
                    obj([
                        ("type", .string("string")),
                        ("enum", .array(["listener", "cluster", "service", "virtual host", "host", "route"].map(JSON.string))),
                    ])
                ),
                ("name", typed("string", "The element's name; a route without one is #N, its old position (1-based).")),
                ("context", typed("string", "Where it sits: listener `public`, host `api` (empty for listeners, clusters and services).")),
                ("old", position), ("new", position), ("fields", list("The fields that changed (changed entries).", field)),
                ("old_index", typed("integer", "Moved routes: the old position in the table, 1-based.")),
                ("new_index", typed("integer", "Moved routes: the new position in the table, 1-based.")),
            ], required: ["kind", "element", "name", "context", "old", "new", "fields"])
        let side = object(
            "Which route wins on one side and what Envoy does.",
            [
                ("route", typed("string", "route `NAME`, route #N, no route, or require_tls.")), ("position", position),
                ("outcome", typed("string", "What Envoy does: a cluster, a weighted split, a redirect, a direct response, 404.")),
            ])
        let header = object("A header.", [("name", typed("string", "Lower-case name.")), ("value", typed("string", "Value."))])
        let behaviour = object(
            "One class of requests whose outcome changes, with an example verified through the route engine on both sides.",
            [
                ("listener", typed("string", "listener `NAME` or route_config `NAME`.")),
                ("old_host", nullable("string", "The old virtual host; null when none takes the host.")),
                ("new_host", nullable("string", "The new virtual host; null when none takes the host.")),
                (
                    "example",
                    object(
                        "The example request.",
                        [
                            ("method", typed("string", "Method.")), ("host", typed("string", "Host.")),
                            ("path", typed("string", "Path with its query.")), ("headers", list("Other headers.", header)),
                            ("curl", typed("string", "The request as a curl command line.")),
                        ])
                ),
                ("before", side), ("after", side),
                (
                    "changes",
                    list(
                        "What differs: outcome, headers, timeout, retry policy, mirrors, hash policy, filter config, require_tls.",
                        typed("string", "An aspect."))
                ),
            ])
        return obj([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("$id", .string("https://xdsc.dev/schemas/diff.v1.schema.json")),
            ("title", .string("xdsc diff --format json")),
            ("description", .string("What changed between two configurations and which requests behave differently.")),
            ("type", .string("object")),
            (
                "properties",
                obj([
                    ("version", typed("integer", "Always 1.")), ("equal", typed("boolean", "No change of the kinds computed.")),
                    ("semantic", list("Semantic changes; null with --behaviour-only.", semantic, nullable: true)),
                    ("behaviour", list("Behaviour changes; null with --semantic-only.", behaviour, nullable: true)),
                    ("undecided", typed("integer", "Cases that could not be decided exactly; nothing is reported for them.")),
                    ("undecided_details", list("The first undecided cases.", typed("string", "A case and its reason."))),
                ])
            ),
            ("required", .array(["version", "equal", "semantic", "behaviour", "undecided", "undecided_details"].map(JSON.string))),
            ("additionalProperties", .bool(false)),
        ])
    }
}
