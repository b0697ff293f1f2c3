import Foundation
import Testing
import XDSCDiagnostics

/// `retries.retry_on` end to end (issue 15): clean under `--strict`, the older `on` builds the
/// same Envoy config with a warning, repeated conditions are emitted once, and no policy
/// meant to be valid trips yamllint's default `truthy` rule.
@Suite struct RetryOnTests {
    /// A policy with `retries` at every level; `key` names the retry conditions.
    static func policy(key: String, route: String = "[5xx, reset]", codes: String = "[503]") -> String {
        """
        version: 1
        defaults:
          retries: {attempts: 2, \(key): [connect-failure]}
        services:
          users: {endpoints: [10.0.0.1:8080]}
        listeners:
          public:
            address: 0.0.0.0:8080
            retries: {\(key): refused-stream}
            hosts:
              api:
                domains: [api.example.com]
                retries: {\(key): [gateway-error]}
                routes:
                  - match: {prefix: /codes}
                    to: users
                    retries: {\(key): [retriable-status-codes], status_codes: \(codes)}
                  - match: {prefix: /}
                    to: users
                    retries:
                      attempts: 3
                      \(key): \(route)
        """
    }

    /// Runs `xdsc args` with `text` written to `policy.yaml` in a fresh directory.
    func run(_ args: [String], policy text: String) throws -> CLIRun {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try text.write(to: dir.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        return try CLI.run(args + ["policy.yaml"], in: dir)
    }

    @Test func retryOnIsCleanUnderStrict() throws {
        let r = try run(["lint", "--strict"], policy: Self.policy(key: "retry_on"))
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.hasPrefix("no problems found"), "\(r.stdout)")
    }

    @Test func onWarnsButBuildsTheSameEnvoyConfig() throws {
        let current = try run(["build", "--stdout"], policy: Self.policy(key: "retry_on"))
        let older = try run(["build", "--stdout"], policy: Self.policy(key: "on"))
        #expect(current.status == 0 && older.status == 0, "\(current.stderr)\(older.stderr)")
        #expect(!current.stdout.isEmpty)
        #expect(Array(older.stdout.utf8) == Array(current.stdout.utf8))
        #expect(current.stderr.isEmpty, "\(current.stderr)")
        #expect(older.stderr.contains("warning[deprecated-field]: `on` is an older spelling of `retry_on`"))
        #expect(older.stderr.contains("help: write `retry_on`"))
        let strict = try run(["lint", "--strict", "--format", "short"], policy: Self.policy(key: "on"))
        #expect(strict.status == 1)
        #expect(strict.stdout.components(separatedBy: "[deprecated-field]").count - 1 == 5, "\(strict.stdout)")
    }

    @Test func repeatedConditionsAndCodesAreEmittedOnce() throws {
        let repeated = try run(
            ["build", "--stdout"], policy: Self.policy(key: "retry_on", route: "[5xx, reset, 5xx]", codes: "[503, 504, 503]"))
        let once = try run(["build", "--stdout"], policy: Self.policy(key: "retry_on", route: "[5xx, reset]", codes: "[503, 504]"))
        #expect(repeated.status == 0 && once.status == 0, "\(repeated.stderr)\(once.stderr)")
        #expect(repeated.stdout.contains("5xx,reset"))
        #expect(!repeated.stdout.contains("5xx,reset,5xx"))
        #expect(repeated.stdout == once.stdout)
        #expect(repeated.stderr.components(separatedBy: "warning[ineffective-setting]").count - 1 == 2, "\(repeated.stderr)")
    }

    @Test func anEmptyConditionListDoesNotBuild() throws {
        let r = try run(["build", "--stdout"], policy: Self.policy(key: "retry_on", route: "[]"))
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("error[invalid-value]: `retry_on` is an empty list"))
    }

    /// Policy files meant to be valid: every fixture and docs example whose `# expect:`
    /// markers name no error (warnings are fine), except those that exist to exercise the
    /// older spelling `on`.
    static func validPolicyFiles() throws -> [String] {
        var files = Tools.fixtureFiles()
        let examples = CLI.packageRoot.appendingPathComponent("docs/examples")
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).sorted()
        where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            files.append("docs/examples/" + name)
        }
        return try files.filter { file in
            let text = try String(contentsOf: CLI.packageRoot.appendingPathComponent(file), encoding: .utf8)
            let rules = Tools.expectedRules(text)
            return !rules.contains(Rule.ID.deprecatedField.rawValue)
                && rules.allSatisfy { Rule.registry.find($0).map { $0.severity != .error } ?? false }
        }
    }

    @Test func yamllintFindsNoTruthyValueInValidPolicies() throws {
        // Required, not optional: scripts/setup --test installs it, and a missing tool must
        // not turn this check into a silent pass.
        let yamllint = try #require(Tools.which("yamllint"), "yamllint is not installed; run scripts/setup --test")
        let files = try Self.validPolicyFiles()
        #expect(files.contains("fixtures/example/edge.yaml") && files.contains("fixtures/build/edge.yaml"))
        #expect(files.contains("fixtures/lint/anchors-valid.yaml") && files.contains("fixtures/lint/warnings.yaml"))
        #expect(!files.contains("fixtures/lint/deprecated-on.yaml"))
        let r = try CLI.runProgram(yamllint, ["-d", "default", "-f", "parsable"] + files)
        // 0: clean, 1: errors (e.g. document-start), 2: warnings only; anything else is a failure to run.
        #expect([0, 1, 2].contains(r.status), "yamllint failed to run (\(r.status)): \(r.stderr)")
        let truthy = r.stdout.split(separator: "\n").filter { $0.hasSuffix("(truthy)") }
        #expect(truthy.isEmpty, "truthy findings:\n\(truthy.joined(separator: "\n"))")
    }

    @Test func yamllintDoesFlagTheOlderSpelling() throws {
        // The check above could pass by not running at all; it must see `on` when it is there.
        let yamllint = try #require(Tools.which("yamllint"), "yamllint is not installed; run scripts/setup --test")
        let r = try CLI.runProgram(yamllint, ["-d", "default", "-f", "parsable", "fixtures/lint/deprecated-on.yaml"])
        #expect(r.stdout.split(separator: "\n").contains { $0.contains("deprecated-on.yaml:16:") && $0.hasSuffix("(truthy)") })
    }
}
