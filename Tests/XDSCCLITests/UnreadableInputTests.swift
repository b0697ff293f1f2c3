import Foundation
import Testing

/// Unreadable input is exit 2 in every command (the policy language's exit codes), with an
/// `unreadable-input` diagnostic naming the file; an input with errors stays 1.
@Suite struct UnreadableInputTests {
    static let policy = "fixtures/example/edge.yaml"

    func expectUnreadable(_ r: CLIRun, _ file: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)", sourceLocation: sourceLocation)
        let said = r.stdout + r.stderr
        #expect(said.contains(file), "the diagnostic names the file: \(said)", sourceLocation: sourceLocation)
    }

    func withDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        return try body(dir)
    }

    static let routeTests = """
        {"tests": [{"test_name": "root", "input": {"authority": "api.example.com", "path": "/users", "method": "GET"}, \
        "validate": {"cluster_name": "users"}}]}
        """

    @Test func everyCommandExitsTwoForAMissingFile() throws {
        try withDirectory { dir in
            let missing = dir.appendingPathComponent("missing.yaml").path
            let commands: [[String]] = [
                ["lint", missing], ["build", "--stdout", missing], ["graph", missing], ["route", missing, "GET", "http://a/"],
                ["route", "--config", missing, "GET", "http://a/"], ["diff", missing, Self.policy], ["diff", Self.policy, missing],
                ["run", missing],
            ]
            for c in commands { expectUnreadable(try CLI.run(c), "missing.yaml") }
        }
    }

    @Test func testRoutesExitsTwoForAnUnreadableConfigOrTestFile() throws {
        try withDirectory { dir in
            let tests = dir.appendingPathComponent("tests.json")
            try Self.routeTests.write(to: tests, atomically: true, encoding: .utf8)
            let ok = try CLI.run(["test", "routes", "-c", Self.policy, "-t", tests.path])
            #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")

            let missingConfig = try CLI.run(["test", "routes", "-c", dir.appendingPathComponent("nope.yaml").path, "-t", tests.path])
            expectUnreadable(missingConfig, "nope.yaml")
            #expect(missingConfig.stderr.contains("error[unreadable-input]"), "\(missingConfig.stderr)")

            let missingTests = try CLI.run(["test", "routes", "-c", Self.policy, "-t", dir.appendingPathComponent("nope.json").path])
            expectUnreadable(missingTests, "nope.json")
            #expect(missingTests.stderr.contains("error[unreadable-input]"), "\(missingTests.stderr)")

            // A directory is not a test file.
            let directory = try CLI.run(["test", "routes", "-c", Self.policy, "-t", dir.path])
            expectUnreadable(directory, dir.lastPathComponent)
            #expect(directory.stderr.contains("is not a regular file"), "\(directory.stderr)")

            // A file the configuration names (RDS by path) that is not there.
            let bootstrap = dir.appendingPathComponent("bootstrap.yaml")
            try """
            static_resources:
              listeners:
              - name: l
                address: {socket_address: {address: 0.0.0.0, port_value: 8080}}
                filter_chains:
                - filters:
                  - name: envoy.filters.network.http_connection_manager
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                      stat_prefix: l
                      rds:
                        route_config_name: r
                        config_source: {path_config_source: {path: \(dir.path)/gone-rds.yaml}}
                      http_filters:
                      - name: envoy.filters.http.router
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
            """.write(to: bootstrap, atomically: true, encoding: .utf8)
            expectUnreadable(try CLI.run(["test", "routes", "-c", bootstrap.path, "-t", tests.path]), "gone-rds.yaml")
        }
    }

    /// Errors in a readable input, and failed tests, stay 1.
    @Test func testRoutesKeepsOneForErrorsAndFailures() throws {
        try withDirectory { dir in
            let broken = dir.appendingPathComponent("broken.json")
            try "{\"tests\": [".write(to: broken, atomically: true, encoding: .utf8)
            let syntax = try CLI.run(["test", "routes", "-c", Self.policy, "-t", broken.path])
            #expect(syntax.status == 1, "\(syntax.stderr)")
            let failing = dir.appendingPathComponent("failing.json")
            try Self.routeTests.replacingOccurrences(of: "\"users\"", with: "\"orders\"").write(
                to: failing, atomically: true, encoding: .utf8)
            let failed = try CLI.run(["test", "routes", "-c", Self.policy, "-t", failing.path])
            #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
            let badConfig = dir.appendingPathComponent("bad.yaml")
            try "version: 1\nlisteners: {}\n".write(to: badConfig, atomically: true, encoding: .utf8)
            let invalid = try CLI.run(["test", "routes", "-c", badConfig.path, "-t", failing.path])
            #expect(invalid.status == 1, "\(invalid.stdout)\(invalid.stderr)")
        }
    }

    @Test func testTrafficExitsTwoForAnUnreadableSpecOrConfig() throws {
        try withDirectory { dir in
            expectUnreadable(try CLI.run(["test", "traffic", dir.appendingPathComponent("nope.yaml").path]), "nope.yaml")
            let spec = dir.appendingPathComponent("spec.yaml")
            try """
            config: \(dir.path)/gone.yaml
            tests:
              - name: root
                request: {url: http://api.example.com/}
                expect: {status: 200}
            """.write(to: spec, atomically: true, encoding: .utf8)
            expectUnreadable(try CLI.run(["test", "traffic", spec.path]), "gone.yaml")
        }
    }

    /// The spec itself unreadable: the `unreadable-input` diagnostic `lint` gives, exit 2; its
    /// `ca_file` too, reported where the spec names it.
    @Test func testTrafficReportsAnUnreadableSpecAsEveryCommandDoes() throws {
        try withDirectory { dir in
            let missing = try CLI.run(["test", "traffic", dir.appendingPathComponent("nope.yaml").path])
            #expect(missing.stderr.hasPrefix("error[unreadable-input]: no such file or directory: "), "\(missing.stderr)")
            #expect(missing.stderr.contains(" --> \(dir.path)/nope.yaml:1:1\n"), "\(missing.stderr)")

            let directory = try CLI.run(["test", "traffic", dir.path])
            expectUnreadable(directory, dir.lastPathComponent)
            #expect(directory.stderr.contains("error[unreadable-input]: \(dir.path) is not a regular file"), "\(directory.stderr)")

            let link = dir.appendingPathComponent("dangling.yaml")
            try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "gone.yaml")
            let dangling = try CLI.run(["test", "traffic", link.path])
            expectUnreadable(dangling, "dangling.yaml")
            #expect(dangling.stderr.contains("error[unreadable-input]: \(link.path) is a symbolic link to gone.yaml"), "\(dangling.stderr)")

            let spec = dir.appendingPathComponent("spec.yaml")
            try """
            config: \(CLI.packageRoot.appendingPathComponent(Self.policy).path)
            ca_file: certs/none.pem
            tests:
              - request: {url: https://api.example.com/}
                expect: {status: 200}
            """.write(to: spec, atomically: true, encoding: .utf8)
            let ca = try CLI.run(["test", "traffic", spec.path])
            expectUnreadable(ca, "none.pem")
            #expect(ca.stderr.contains("error[unreadable-input]: the spec's `ca_file`: no such file or directory: "), "\(ca.stderr)")
            #expect(ca.stderr.contains(" --> \(spec.path):2:10\n"), "\(ca.stderr)")
            #expect(ca.stdout.isEmpty, "no test runs: \(ca.stdout)")
        }
    }

    /// A spec that is not YAML, is empty, or is not a spec has errors at file:line:column, exit 1.
    @Test func testTrafficGivesASpecThatIsNotYAMLPositionedErrors() throws {
        try withDirectory { dir in
            let cases: [(text: [UInt8], expected: String, at: String)] = [
                ([0x00, 0x01, 0xFF, 0xFE] + Array(" garbage\n".utf8), "error[yaml-syntax]: file is not valid UTF-8", "1:3"),
                (Array("tests: [\n  - a\n".utf8), "error[yaml-syntax]: ", "2:3"),
                (Array("".utf8), "error[missing-field]: the traffic spec is empty", "1:1"),
                (Array("# only a comment\n".utf8), "error[missing-field]: the traffic spec is empty", "1:1"),
                (Array("just text\n".utf8), "error[type-mismatch]: the traffic spec must be a mapping, but this is a string", "1:1"),
                (Array("config: []\ntests: []\n".utf8), "error[invalid-value]: `config` names no file", "1:9"),
                (Array("config: a.yaml\nconfgi: 1\ntests: []\n".utf8), "error[unknown-field]: unknown key `confgi`", "2:1"),
                (
                    Array("config: a.yaml\ntests:\n  - request: {url: /, repeat: x}\n    expect: {}\n".utf8),
                    "error[type-mismatch]: `repeat` must be an integer", "3:31"
                ),
            ]
            for (i, c) in cases.enumerated() {
                let path = dir.appendingPathComponent("spec\(i).yaml").path
                #expect(FileManager.default.createFile(atPath: path, contents: Data(c.text)))
                let r = try CLI.run(["test", "traffic", path])
                #expect(r.status == 1, "\(i): \(r.stderr)")
                #expect(r.stderr.hasPrefix(c.expected), "\(i): \(r.stderr)")
                #expect(r.stderr.contains(" --> \(path):\(c.at)\n"), "\(i): \(r.stderr)")
            }
        }
    }

    @Test func diffExitsTwoForAnUnreadableExpectFile() throws {
        let r = try CLI.run(["diff", "--expect", "/nonexistent/expect.json", Self.policy, Self.policy])
        expectUnreadable(r, "expect.json")
    }
}
