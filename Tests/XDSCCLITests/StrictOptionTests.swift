import Foundation
import Testing

/// `--strict` on every command that reads a configuration: a warning about the input makes
/// the exit code 1 (the exit-code rule), and the same input passes without it.
@Suite struct StrictOptionTests {
    /// A policy with warnings only (`retry-timeout`, `ineffective-setting`, `unused-service`).
    static let warnings = "fixtures/lint/warnings.yaml"

    func expectStoppedOnWarnings(_ r: CLIRun, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("warning[retry-timeout]"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("warnings with --strict"), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func route() throws {
        let plain = try CLI.run(["route", Self.warnings, "GET", "http://api.example.com/"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("outcome: forward to cluster"))
        let strict = try CLI.run(["route", "--strict", Self.warnings, "GET", "http://api.example.com/"])
        expectStoppedOnWarnings(strict)
        #expect(strict.stdout.isEmpty, "nothing is routed: \(strict.stdout)")
    }

    @Test func diff() throws {
        let plain = try CLI.run(["diff", Self.warnings, Self.warnings])
        #expect(plain.status == 0, "\(plain.stderr)")
        let strict = try CLI.run(["diff", "--strict", Self.warnings, Self.warnings])
        expectStoppedOnWarnings(strict)
        #expect(strict.stdout.isEmpty, "nothing is compared: \(strict.stdout)")
    }

    @Test func graph() throws {
        let plain = try CLI.run(["graph", Self.warnings])
        #expect(plain.status == 0, "\(plain.stderr)")
        let strict = try CLI.run(["graph", "--strict", Self.warnings])
        #expect(strict.status == 1, "\(strict.stderr)")
        #expect(strict.stderr.contains("warning[retry-timeout]"), "\(strict.stderr)")
        // As for shadowed routes, the graph is still written.
        #expect(strict.stdout == plain.stdout)
        #expect(strict.stdout.contains("digraph"), "\(strict.stdout)")
    }

    @Test func testRoutes() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tests = dir.appendingPathComponent("tests.json")
        try """
        {"tests": [{"test_name": "root", "input": {"authority": "api.example.com", "path": "/", "method": "GET"}, "validate": {"cluster_name": "users"}}]}
        """.write(to: tests, atomically: true, encoding: .utf8)
        let plain = try CLI.run(["test", "routes", "-c", Self.warnings, "-t", tests.path])
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        let strict = try CLI.run(["test", "routes", "--strict", "-c", Self.warnings, "-t", tests.path])
        expectStoppedOnWarnings(strict)
    }

    @Test func testTraffic() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("spec.yaml")
        let config = CLI.packageRoot.appendingPathComponent(Self.warnings).path
        try """
        config: \(config)
        tests:
          - name: root
            request: {url: http://api.example.com/}
            expect: {status: 200}
        """.write(to: spec, atomically: true, encoding: .utf8)
        let strict = try CLI.run(["test", "traffic", "--strict", spec.path])
        expectStoppedOnWarnings(strict)
        #expect(strict.stdout.isEmpty, "no test runs: \(strict.stdout)")
    }

    /// Without `--strict` the command would serve until stopped; with it, warnings stop it
    /// before anything is bound.
    @Test func run() throws {
        let strict = try CLI.run(["run", "--strict", Self.warnings])
        expectStoppedOnWarnings(strict)
    }

    /// An Envoy route table whose only finding is lint's `route-overlap` (no reader warning).
    static let envoyOverlap = """
        name: edge
        virtual_hosts:
        - name: shop
          domains: ["*"]
          routes:
          - match: {prefix: /api, headers: [{name: x-beta, present_match: true}]}
            route: {cluster: beta}
          - match: {path: /api/index.html}
            route: {cluster: web}
          - match: {prefix: /}
            route: {cluster: web}
        """

    /// The same finding in a policy: `diff` reads it without the route analysis.
    static let policyOverlap = """
        version: 1
        services:
          users:
            endpoints: [10.0.0.1:8080]
        listeners:
          public:
            address: 0.0.0.0:8080
            hosts:
              api:
                domains: ["*"]
                routes:
                  - match: {prefix: /api, headers: {x-beta: {present: true}}}
                    to: users
                  - match: {path: /api/index.html}
                    to: users
                  - match: {prefix: /}
                    to: users
        """

    func expectStoppedOnOverlap(_ r: CLIRun, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("warning[route-overlap]"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains("error: 1 warning with --strict"), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    /// `--strict` counts what `lint --strict` counts, on Envoy files as on policies: lint's
    /// own findings (here `route-overlap`), not only the Envoy reader's warnings.
    @Test func strictCountsLintFindingsOnEnvoyInput() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let envoy = dir.appendingPathComponent("routes.yaml")
        try Self.envoyOverlap.write(to: envoy, atomically: true, encoding: .utf8)
        let lint = try CLI.run(["lint", "--strict", envoy.path])
        #expect(lint.status == 1 && lint.stdout.contains("warning[route-overlap]"), "\(lint.stdout)")

        let plain = try CLI.run(["route", "--config", envoy.path, "GET", "http://a/api"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let strict = try CLI.run(["route", "--strict", "--config", envoy.path, "GET", "http://a/api"])
        expectStoppedOnOverlap(strict)
        #expect(strict.stdout.isEmpty, "nothing is routed: \(strict.stdout)")

        let copy = dir.appendingPathComponent("routes-new.yaml")
        try Self.envoyOverlap.write(to: copy, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["diff", envoy.path, copy.path]).status == 0)
        let diff = try CLI.run(["diff", "--strict", envoy.path, copy.path])
        #expect(diff.status == 1, "\(diff.stderr)")
        // The old side stops the run: its warning is printed, the new side is not read.
        #expect(diff.stderr.components(separatedBy: "warning[route-overlap]").count == 2, "\(diff.stderr)")

        let tests = dir.appendingPathComponent("tests.json")
        try """
        {"tests": [{"test_name": "api", "input": {"authority": "a", "path": "/api", "method": "GET"}, "validate": {"cluster_name": "web"}}]}
        """.write(to: tests, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["test", "routes", "-c", envoy.path, "-t", tests.path]).status == 0)
        expectStoppedOnOverlap(try CLI.run(["test", "routes", "--strict", "-c", envoy.path, "-t", tests.path]))
    }

    /// `diff --strict` on policies: `route-overlap` comes from the route analysis, which a
    /// side read to compare skips; --strict still counts it, as lint does.
    @Test func diffStrictCountsRouteOverlap() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let old = dir.appendingPathComponent("old.yaml")
        let new = dir.appendingPathComponent("new.yaml")
        try Self.policyOverlap.write(to: old, atomically: true, encoding: .utf8)
        try Self.policyOverlap.write(to: new, atomically: true, encoding: .utf8)
        #expect(try CLI.run(["diff", old.path, new.path]).status == 0)
        let strict = try CLI.run(["diff", "--strict", old.path, new.path])
        expectStoppedOnOverlap(strict)
        #expect(strict.stdout.isEmpty, "nothing is compared: \(strict.stdout)")
        #expect(strict.stderr.contains("old.yaml:14:13"), "\(strict.stderr)")
    }

    @Test func helpListsStrict() throws {
        for command in [["route"], ["diff"], ["graph"], ["run"], ["test", "routes"], ["test", "traffic"]] {
            let r = try CLI.run(command + ["--help"])
            #expect(r.stdout.contains("--strict"), "xdsc \(command.joined(separator: " ")) --help")
        }
    }
}
