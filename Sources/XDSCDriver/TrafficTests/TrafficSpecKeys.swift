/// The keys each mapping of a traffic test spec accepts. The reader reads only these, and a
/// test checks `schemas/traffic.v1.schema.json` names exactly these, so the two cannot drift.
public enum TrafficSpecKeys {
    /// The keys of each mapping, by the mapping's name.
    public static let table: [String: [String]] = [
        "top": ["version", "config", "seed", "ca_file", "tests"],
        "test": ["name", "listener", "request", "upstreams", "expect"],
        "request": ["method", "url", "headers", "body", "repeat", "http2"],
        "behaviour": [
            "fail_times", "fail_status", "fail_headers", "reset", "refuse_stream", "delay", "status", "headers", "body", "trailers",
        ],
        "expect": ["status", "body", "headers", "location", "upstream", "split", "trailers"],
        "body": ["equals", "contains"],
        "header": ["equals", "contains", "present", "absent"],
        "upstream": ["service", "endpoint", "requests", "path", "host", "headers", "protocol"],
        "split": ["shares", "tolerance"],
    ]

    /// The keys of mapping `name`.
    static func keys(_ name: String) -> [String] { table[name] ?? [] }
}
