import Foundation
import Testing

/// `xdsc test traffic SPEC` end to end: the binary starts the proxy and the mocks on
/// loopback, sends every request over a socket and prints the results.
@Suite struct TrafficCommandTests {
    static let shop = "fixtures/traffic/shop.yaml"

    /// A spec in a fresh folder whose config is the example shop policy.
    static func spec(_ tests: String) throws -> (dir: URL, path: String) {
        let dir = try CLI.temporaryDirectory()
        let edge = CLI.packageRoot.appendingPathComponent("fixtures/example/edge.yaml").path
        let path = dir.appendingPathComponent("spec.yaml").path
        try ("config: \(edge)\ntests:\n" + tests).write(toFile: path, atomically: true, encoding: .utf8)
        return (dir, path)
    }

    @Test func theShopSpecPasses() throws {
        let r = try CLI.run(["test", "traffic", Self.shop])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("10 tests: 10 passed, 0 failed\n"))
        #expect(r.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("PASS ") }.count == 10)
        // The HTTP/2 service `orders` is reached over HTTP/2 now: nothing to warn about.
        #expect(!r.stderr.contains("HTTP/2"), "\(r.stderr)")
    }

    @Test func theUpstreamsSpecShowsEjectionRetryOverflowAndRingHash() throws {
        let r = try CLI.run(["test", "traffic", "fixtures/traffic/upstreams.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("5 tests: 5 passed, 0 failed\n"))
        // Outlier detection, `max_retries` and RING_HASH are simulated: nothing is warned.
        #expect(r.stderr.isEmpty, "\(r.stderr)")
    }

    /// The retry conditions on response headers (gRPC statuses, retriable headers,
    /// `x-envoy-ratelimited`), REFUSED_STREAM and the router filter's settings, from an Envoy
    /// file: executed, so nothing of them is warned.
    @Test func theRetriesSpecShowsHeaderConditionsRefusedStreamsAndRouterSettings() throws {
        let r = try CLI.run(["test", "traffic", "fixtures/traffic/retries.yaml"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("15 tests: 15 passed, 0 failed\n"))
        #expect(!r.stderr.contains("retry"), "\(r.stderr)")
        #expect(!r.stderr.contains("router filter"), "\(r.stderr)")
    }

    @Test func outputIsTheSameOnEveryRun() throws {
        for format in ["human", "json", "junit"] {
            let a = try CLI.run(["test", "traffic", Self.shop, "--format", format])
            let b = try CLI.run(["test", "traffic", Self.shop, "--format", format])
            #expect(a.status == 0)
            #expect(a.stdout == b.stdout, "\(format) output differs between runs")
            #expect(!a.stdout.contains("127.0.0.1"), "no ports or addresses in the \(format) output")
        }
    }

    @Test func failuresShowExpectedAndActual() throws {
        let (dir, path) = try Self.spec(
            """
              - name: wrong status and upstream
                request: {url: http://www.example.com/index.html, headers: {x-internal-token: t}}
                expect:
                  status: 404
                  headers: {x-nope: {present: true}}
                  upstream: {service: users, path: /elsewhere, headers: {x-internal-token: t}}
              - name: right
                request: {url: http://example.com/healthz}
                expect: {status: 200, body: ok}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["test", "traffic", path])
        #expect(r.status == 1)
        let lines = r.stdout.components(separatedBy: "\n")
        #expect(lines[0] == "FAIL wrong status and upstream (\(path):3:5)")
        #expect(lines.contains("  status: expected 404, actual `200`"))
        #expect(lines.contains("  header x-nope: expected present, actual absent"))
        #expect(lines.contains("  upstream.service: expected `users`, actual `web`"))
        #expect(lines.contains("  upstream.path: expected `/elsewhere`, actual `/index.html`"))
        #expect(lines.contains("  upstream.header x-internal-token: expected `t`, actual absent"))
        #expect(lines.contains("PASS right"))
        #expect(r.stdout.hasSuffix("2 tests: 1 passed, 1 failed\n"))

        let junit = try CLI.run(["test", "traffic", path, "--format", "junit"])
        #expect(junit.status == 1)
        #expect(junit.stdout.contains("<testsuites name=\"xdsc test traffic\" tests=\"2\" failures=\"1\">"))
        #expect(junit.stdout.contains("<failure message=\"status: expected 404, actual `200`\">"))
        #expect(junit.stdout.contains("<testcase name=\"right\""))

        let json = try CLI.run(["test", "traffic", path, "--format", "json"])
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"check\": \"upstream.service\""))
        #expect(json.stdout.contains("\"failed\": 1"))
    }

    @Test func jsonResultsMatchTheirSchema() throws {
        let (dir, path) = try Self.spec(
            """
              - name: fails
                request: {url: http://www.example.com/index.html}
                expect: {status: 404, upstream: {path: /elsewhere}}
              - name: passes
                request: {url: http://example.com/healthz}
                expect: {status: 200}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let failing = try CLI.run(["test", "traffic", path, "--format", "json"])
        let passing = try CLI.run(["test", "traffic", Self.shop, "--format", "json"])
        #expect(failing.status == 1 && passing.status == 0, "\(failing.stderr)\(passing.stderr)")
        let files = [
            ("failing.json", failing.stdout), ("passing.json", passing.stdout), ("bad.json", #"{"version": 1, "tests": [{"name": 1}]}"#),
        ]
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let paths = files.map { dir.appendingPathComponent($0.0).path }
        let schema = CLI.packageRoot.appendingPathComponent("schemas/traffic-results.v1.schema.json").path
        let report = try Tools.validate(schema: schema, files: paths)
        #expect(report[paths[0]] == [], "\(report[paths[0]] ?? [])")
        #expect(report[paths[1]] == [], "\(report[paths[1]] ?? [])")
        #expect(!(report[paths[2]] ?? []).isEmpty)
    }

    @Test func repeatedRequestsAndSplitsAreChecked() throws {
        let (dir, path) = try Self.spec(
            """
              - name: an even split that is not
                request: {url: http://api.example.com/users/1, repeat: 100}
                expect: {split: {shares: {users: 50, users-canary: 50}, tolerance: 10}}
              - name: health every time
                request: {url: http://example.com/healthz, repeat: 5}
                expect: {status: 200, upstream: {requests: 0}}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["test", "traffic", path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("  split users: expected 50% ± 10, actual "))
        #expect(r.stdout.contains("  split users-canary: expected 50% ± 10, actual "))
        #expect(r.stdout.contains("PASS health every time"))
    }

    @Test func upstreamBehaviourIsScripted() throws {
        let (dir, path) = try Self.spec(
            """
              - name: three failures beat two retries
                request: {url: http://www.example.com/}
                upstreams: {web: {fail_times: 3, fail_status: 502}}
                expect: {status: 502, upstream: {requests: 3}}
              - name: a slow upstream still answers within the route timeout
                request: {url: http://www.example.com/slow}
                upstreams: {web: {delay: 300ms}}
                expect: {status: 200, upstream: {requests: {web: 1}}}
              - name: an upstream slower than the per-try timeout (2s) is retried until the route timeout (5s), then 504
                request: {url: http://api.example.com/users/1}
                upstreams: {users: {delay: 3s}, users-canary: {delay: 3s}}
                expect: {status: 504, body: upstream request timeout}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["test", "traffic", path])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.hasSuffix("3 tests: 3 passed, 0 failed\n"))
    }

    @Test func aBadSpecIsReportedAtItsPositionsWithExit2() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.yaml").path
        try """
        config: x.yaml
        tests:
          - reqest: {url: /}
            expect: {stauts: 200}
          - request: {url: "ftp://a/"}
            expect: {}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["test", "traffic", path])
        // A spec with errors is input with errors: 1, as for every command.
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("error[unknown-field]: unknown key `reqest` in test #1; did you mean `request`?\n --> \(path):3:5"))
        #expect(r.stderr.contains("error[unknown-field]: unknown key `stauts` in `expect`; did you mean `status`?\n --> \(path):4:14"))
        #expect(
            r.stderr.contains(
                "error[invalid-value]: `ftp://a/` is not an `http://HOST/PATH` or `https://HOST/PATH` URL or a path\n --> \(path):5:20"))
    }

    @Test func unknownClustersAndListenersAreSpecErrors() throws {
        let (dir, path) = try Self.spec(
            """
              - request: {url: /}
                listener: privat
                upstreams: {userz: {reset: true}}
                expect: {status: 200}
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try CLI.run(["test", "traffic", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("error[invalid-value]: no listener `privat` in the configuration\n --> \(path):4:15"))
        #expect(r.stderr.contains("error[unknown-service]: no cluster `userz` in the configuration\n --> \(path):5:17"))
    }

    @Test func aConfigurationWithErrorsIsExit1AndUnreadableInputExit2() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "version: 1\nservices: {a: {endpoints: [nope]}}\n".write(
            to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        let path = dir.appendingPathComponent("spec.yaml").path
        try "config: policy.yaml\ntests: []\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["test", "traffic", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("policy.yaml:2:"))
        let missing = try CLI.run(["test", "traffic", dir.appendingPathComponent("none.yaml").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("error[unreadable-input]: no such file or directory: "), "\(missing.stderr)")
        // A spec naming a configuration that is not there: unreadable input.
        let noConfig = dir.appendingPathComponent("no-config.yaml").path
        try "config: absent.yaml\ntests: []\n".write(toFile: noConfig, atomically: true, encoding: .utf8)
        let absent = try CLI.run(["test", "traffic", noConfig])
        #expect(absent.status == 2, "\(absent.stderr)")
        #expect(absent.stderr.contains("absent.yaml"), "\(absent.stderr)")
    }

    @Test func lintEmitsTheFindingsAsASpecThatPasses() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("witnesses.yaml").path
        let lint = try CLI.run(["lint", "fixtures/lint/shadowing.yaml", "--emit-tests", spec])
        #expect(lint.status == 1)
        #expect(lint.stderr == "wrote 5 traffic tests to \(spec)\n")
        let text = try String(contentsOfFile: spec, encoding: .utf8)
        #expect(text.contains("url: \"http://api.example.com/api/users\""))
        let r = try CLI.run(["test", "traffic", spec])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasSuffix("5 tests: 5 passed, 0 failed\n"))
        // The lint output itself is unchanged by the flag.
        #expect(lint.stdout == (try CLI.run(["lint", "fixtures/lint/shadowing.yaml"])).stdout)
    }
}
