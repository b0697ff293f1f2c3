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

    @Test func helpListsStrict() throws {
        for command in [["route"], ["diff"], ["graph"], ["run"], ["test", "routes"], ["test", "traffic"]] {
            let r = try CLI.run(command + ["--help"])
            #expect(r.stdout.contains("--strict"), "xdsc \(command.joined(separator: " ")) --help")
        }
    }
}
