import Foundation
import Testing

/// `xdsc lint` and `xdsc graph` on users' Envoy files, as a user runs them.
@Suite struct EnvoyLintCLITests {
    static let shadowed = "fixtures/envoy/shadowed-routes.yaml"

    @Test func humanOutputPointsAtTheEnvoyToken() throws {
        let r = try CLI.run(["lint", Self.shadowed])
        #expect(r.status == 1)
        #expect(
            r.stdout.contains("error[route-shadowed]: route #2 can never be reached: earlier route #1 matches every request it matches"))
        #expect(r.stdout.contains("--> fixtures/envoy/shadowed-routes.yaml:22:17"))
        #expect(r.stdout.contains("22 |               - match: {prefix: /api/v2}"))
    }

    @Test func everyFormatWorks() throws {
        for format in ["short", "json", "sarif", "github"] {
            let r = try CLI.run(["lint", "--format", format, Self.shadowed])
            #expect(r.status == 1, "\(format)")
            #expect(r.stdout.contains("shadowed-routes.yaml"), "\(format)")
        }
        let json = try CLI.run(["lint", "--format", "json", Self.shadowed])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rules = (doc["diagnostics"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
        #expect(rules.contains("route-shadowed") && rules.contains("duplicate-domain"))
    }

    @Test func cleanEnvoyFileAndStrict() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let routes =
            #"{"name":"r","virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"}}]}]}"#
        try routes.write(to: dir.appendingPathComponent("rds.json"), atomically: true, encoding: .utf8)
        let clean = try CLI.run(["lint", "rds.json"], in: dir)
        #expect(clean.status == 0)
        #expect(clean.stdout == "no problems found: 1 Envoy file, 0 listeners, 1 route table, 1 route, 0 clusters\n")
        // A warning (a one-element list written as an object) fails only under --strict.
        let warn = routes.replacingOccurrences(of: #""domains":["*"]"#, with: #""domains":"*""#)
        try warn.write(to: dir.appendingPathComponent("rds.json"), atomically: true, encoding: .utf8)
        #expect(try CLI.run(["lint", "rds.json"], in: dir).status == 0)
        #expect(try CLI.run(["lint", "--strict", "rds.json"], in: dir).status == 1)
    }

    @Test func directoriesIncludeEnvoyJSONButNotOtherJSON() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"a"}},{"match":{"path":"/x"},"route":{"cluster":"b"}}]}]}"#
            .write(to: dir.appendingPathComponent("rds.json"), atomically: true, encoding: .utf8)
        try #"{"$schema": "not envoy"}"#.write(to: dir.appendingPathComponent("other.json"), atomically: true, encoding: .utf8)
        let r = try CLI.run(["lint", "--format", "short", "."], in: dir)
        #expect(r.status == 1)
        #expect(
            r.stdout
                == "./rds.json:1:106: error[route-shadowed]: route #2 can never be reached: earlier route #1 matches every request it matches\n"
        )
        // Forced to policy, the directory's JSON files are not read at all.
        let asPolicy = try CLI.run(["lint", "--input", "policy", "."], in: dir)
        #expect(asPolicy.status == 2)
    }

    @Test func verboseNamesOpaqueExtensions() throws {
        let r = try CLI.run(["lint", "--verbose", "fixtures/envoy/dynamic/bootstrap.yaml"])
        #expect(
            r.stderr.contains(
                "opaque extension: `authz` (type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz) at fixtures/envoy/dynamic/lds.yaml:14:11"
            ))
        #expect(r.stderr.contains("opaque extension: `tcp`"))
    }

    @Test func graphDrawsEnvoyInput() throws {
        let r = try CLI.run(["graph", Self.shadowed])
        // Shadowed routes are errors: drawn, and the run fails (as for policies); the
        // duplicate domain is another error, so nothing is drawn here.
        #expect(r.status == 1)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try
            #"{"name":"r","virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"a"}},{"match":{"path":"/x"},"route":{"weighted_clusters":{"clusters":[{"name":"a","weight":1},{"name":"b","weight":3}]}}}]}]}"#
            .write(to: dir.appendingPathComponent("rds.json"), atomically: true, encoding: .utf8)
        let g = try CLI.run(["graph", "rds.json"], in: dir)
        #expect(g.status == 1)
        #expect(
            g.stdout.contains(
                #""table/0/r/host/0/route/1" [shape=ellipse, color=red, fontcolor=red, style=dashed, label="2. route\npath /x\n(shadowed)"];"#
            ))
        #expect(g.stdout.contains(#""table/0/r/host/0/route/1" -> "cluster/b" [label="3/4"];"#))
    }

    /// `build` compiles policies only: an Envoy file given to it is read as a policy (and
    /// fails as one), never built into an empty bootstrap.
    @Test func buildReadsPoliciesOnly() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        let r = try CLI.run(["build", "fixtures/envoy/dynamic/cds.yaml", "-o", out])
        #expect(r.status == 1)
        #expect(!FileManager.default.fileExists(atPath: out + "/bootstrap.json"))
    }
}
