import Foundation
import Testing

/// `xdsc route` and `xdsc test routes` end to end.
@Suite struct RouteCommandTests {
    static let corpus = CLI.shared.appendingPathComponent("conformance/envoy-router-check")
    static var hasCorpus: Bool { FileManager.default.fileExists(atPath: corpus.path) }

    func envoyFile(_ text: String, _ name: String = "rc.yaml") throws -> (URL, String) {
        let dir = try CLI.temporaryDirectory()
        let file = dir.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return (dir, file.path)
    }

    static let table = """
        virtual_hosts:
        - name: api
          domains: [api.example.com]
          routes:
          - match: {prefix: /v1, headers: [{name: x-env, string_match: {exact: prod}}]}
            route: {cluster: prod}
          - name: fallback
            match: {prefix: /v1}
            route: {cluster: v1, prefix_rewrite: /}
        """

    @Test func routeExplainsTheDecisionWithPositions() throws {
        let (dir, file) = try envoyFile(Self.table)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["route", "--config", file, "GET", "http://api.example.com/v1/users?x=1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("virtual host `api` at \(file):2:3: exact domain `api.example.com`"), "\(r.stdout)")
        #expect(r.stdout.contains("#1 \(file):5:5: header `x-env` does not match (absent)"), "\(r.stdout)")
        #expect(r.stdout.contains("winner: route `fallback` at \(file):7:5"), "\(r.stdout)")
        #expect(r.stdout.contains("  8 |     match: {prefix: /v1}"), "\(r.stdout)")
        #expect(r.stdout.contains("outcome: forward to cluster `v1`"))
        #expect(r.stdout.contains("path: /v1/users?x=1 -> //users?x=1 (prefix_rewrite `/`)"), "\(r.stdout)")
        let prod = try CLI.run(["route", "--config", file, "-H", "x-env: prod", "GET", "http://api.example.com/v1"])
        #expect(prod.stdout.contains("outcome: forward to cluster `prod`"))
    }

    @Test func routeExitCodes() throws {
        let (dir, file) = try envoyFile(Self.table)
        defer { try? FileManager.default.removeItem(at: dir) }
        let none = try CLI.run(["route", "--config", file, "GET", "http://other.example.com/"])
        #expect(none.status == 1)
        #expect(none.stdout.contains("outcome: 404 no route (response flag NR)"))
        #expect(try CLI.run(["route", "--config", file, "GET"]).status == 2)
        #expect(try CLI.run(["route", "--config", file, "GET", "ftp://x/"]).status == 2)
        #expect(try CLI.run(["route", "--config", "/no/such/file.yaml", "GET", "http://x/"]).status == 2)
        let bad = try envoyFile("virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {}}]}]\n")
        defer { try? FileManager.default.removeItem(at: bad.0) }
        let r = try CLI.run(["route", "--config", bad.1, "GET", "http://x/"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("`RouteAction` names no cluster"), "\(r.stderr)")
        #expect(r.stderr.contains("rc.yaml:1:"), "\(r.stderr)")
    }

    @Test func routeOnABootstrapFollowsItsConfigSources() throws {
        // The Envoy reader follows the bootstrap's LDS file to the RDS file it names, and the
        // decision's positions are the reader's spans in that file.
        let r = try CLI.run(["route", "--config", "fixtures/envoy/dynamic/bootstrap.yaml", "GET", "http://shop.example.com/api"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("virtual host `shop` at fixtures/envoy/dynamic/rds.yaml:8:7"), "\(r.stdout)")
        #expect(r.stdout.contains("winner: route #1 at fixtures/envoy/dynamic/rds.yaml:11:9"), "\(r.stdout)")
    }

    @Test func routeOnAPolicy() throws {
        let r = try CLI.run(["route", "fixtures/example", "GET", "http://api.example.com/users/1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("winner: route `users-read` at fixtures/example/edge.yaml:46:13"), "\(r.stdout)")
    }

    /// Routes whose decisions fill every timeout key of the JSON.
    static let timeoutTable = """
        virtual_hosts:
        - name: t
          domains: ["*"]
          routes:
          - match: {prefix: /grpc}
            route: {cluster: g, max_grpc_timeout: 10s, retry_policy: {retry_on: 5xx, per_try_timeout: 1s}}
          - match: {prefix: /stream}
            route: {cluster: s, max_stream_duration: {max_stream_duration: 30s}}
          - match: {prefix: /}
            direct_response: {status: 200}
        """

    @Test(.enabled(if: Tools.hasJSONSchemaValidator, "needs python3 with jsonschema and PyYAML"))
    func routeJSONConformsToTheSchema() throws {
        let (dir, file) = try envoyFile(Self.table)
        defer { try? FileManager.default.removeItem(at: dir) }
        let timeouts = dir.appendingPathComponent("timeouts.yaml").path
        try Self.timeoutTable.write(toFile: timeouts, atomically: true, encoding: .utf8)
        let grpc = ["-H", "content-type: application/grpc", "-H", "grpc-timeout: 3S", "POST"]
        var outputs: [String] = []
        for (i, args) in [
            ["--config", file, "GET", "http://api.example.com/v1/users"], ["--config", file, "GET", "http://nope/"],
            ["--config", file, "-H", "x-env: prod", "GET", "http://api.example.com/v1"],
            ["--config", timeouts] + grpc + ["http://x/grpc"], ["--config", timeouts] + grpc + ["http://x/stream"],
            ["--config", timeouts, "GET", "http://x/"],
        ].enumerated() {
            let r = try CLI.run(["route", "--format", "json"] + args)
            let out = dir.appendingPathComponent("out-\(i).json")
            try r.stdout.write(to: out, atomically: true, encoding: .utf8)
            outputs.append(out.path)
        }
        // Version 1 as first released, without the timeout keys added since: still valid.
        let added = [
            "timeout_from", "timeout_source", "per_try_timeout", "expected_timeout_ms", "grpc_timeout", "stream_duration",
            "stream_duration_source",
        ]
        var first = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outputs[3]))) as? [String: Any])
        #expect(added.allSatisfy { first[$0] != nil })
        for k in added { first.removeValue(forKey: k) }
        let earlier = dir.appendingPathComponent("earlier.json")
        try JSONSerialization.data(withJSONObject: first).write(to: earlier)
        let bad = dir.appendingPathComponent("bad.json")
        try #"{"version": 1, "matched": "yes"}"#.write(to: bad, atomically: true, encoding: .utf8)
        let badTimeout = dir.appendingPathComponent("bad-timeout.json")
        first["timeout_from"] = "somewhere"
        try JSONSerialization.data(withJSONObject: first).write(to: badTimeout)
        let schema = CLI.packageRoot.appendingPathComponent("schemas/route.v1.schema.json").path
        let report = try Tools.validate(schema: schema, files: outputs + [earlier.path, bad.path, badTimeout.path])
        for o in outputs + [earlier.path] { #expect(report[o] == [], "\(o): \(report[o] ?? [])") }
        #expect(!(report[bad.path] ?? []).isEmpty)
        #expect(!(report[badTimeout.path] ?? []).isEmpty)
    }

    @Test(.enabled(if: hasCorpus, "needs ../shared/conformance/envoy-router-check"))
    func testRoutesHasTheToolsCommandLine() throws {
        let c = Self.corpus.path
        let ok = try CLI.run(["test", "routes", "-c", "\(c)/Weighted.yaml", "-t", "\(c)/Weighted.golden.proto.json", "--details"])
        #expect(ok.status == 0)
        #expect(ok.stdout.hasSuffix("Test_7\nCurrent route coverage: 100%\n"), "\(ok.stdout)")
        let fail = try CLI.run([
            "test", "routes", "-c", "\(c)/TestRoutes.yaml", "-t", "\(c)/Weighted.golden.proto.json", "--only-show-failures",
        ])
        #expect(fail.status == 1)
        #expect(fail.stderr.contains("Test_2\nexpected: [cluster1], actual: [instant-server], test type: cluster_name\n"), "\(fail.stderr)")
        let usage = try CLI.run(["test", "routes", "-c", "\(c)/TestRoutes.yaml"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("Both --config-path/c and --test-path/t are mandatory"))
    }

    @Test func testRoutesOnAPolicy() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tests = dir.appendingPathComponent("t.yaml")
        try """
        tests:
        - test_name: read
          input: {authority: api.example.com, path: /users/7, method: GET, random_value: 95}
          validate: {cluster_name: users-canary, virtual_host_name: api}
        - test_name: wrong
          input: {authority: api.example.com, path: /users/7, method: GET}
          validate: {cluster_name: orders}
        """.write(to: tests, atomically: true, encoding: .utf8)
        let r = try CLI.run(["test", "routes", "-c", "fixtures/example", "-t", tests.path])
        #expect(r.status == 1)
        #expect(r.stderr == "wrong\nexpected: [orders], actual: [users], test type: cluster_name\n", "\(r.stderr)")
    }
}
