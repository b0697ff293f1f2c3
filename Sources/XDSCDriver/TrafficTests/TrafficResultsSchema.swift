import XDSCJSON

extension Schemas {
    /// The schema of `xdsc test traffic --format json` (`schemas/traffic-results.v1.schema.json`):
    /// the shape `TrafficReport.json` writes.
    public static var trafficResults: JSON {
        let failure = object(
            "One check of a test that did not hold.",
            [
                ("check", typed("string", "What was checked: status, body, headers.NAME, upstream.path, split NAME, ...")),
                ("expected", typed("string", "What the spec expects, as the human output prints it.")),
                ("actual", typed("string", "What the proxy or the upstream gave.")),
            ])
        let test = object(
            "One test of the spec, in the order written.",
            [
                ("name", typed("string", "The test's name.")),
                ("file", typed("string", "The spec file holding the test.")),
                ("line", typed("integer", "1-based line of the test in the spec.")),
                ("column", typed("integer", "1-based column of the test in the spec.")),
                ("passed", typed("boolean", "Every check held.")),
                ("failures", list("The checks that did not hold; empty when the test passed.", failure)),
            ])
        return obj([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("$id", .string("https://xdsc.dev/schemas/traffic-results.v1.schema.json")),
            ("title", .string("xdsc test traffic --format json")),
            (
                "description",
                .string("The results of a traffic spec; no ports, addresses or timings, so a run gives the same bytes anywhere.")
            ),
            ("type", .string("object")),
            (
                "properties",
                obj([
                    ("version", typed("integer", "Always 1.")), ("spec", typed("string", "The spec file as given.")),
                    ("tests", list("Every test of the spec.", test)),
                    ("passed", typed("integer", "How many tests passed.")), ("failed", typed("integer", "How many tests failed.")),
                ])
            ),
            ("required", .array(["version", "spec", "tests", "passed", "failed"].map(JSON.string))),
            ("additionalProperties", .bool(false)),
        ])
    }
}
