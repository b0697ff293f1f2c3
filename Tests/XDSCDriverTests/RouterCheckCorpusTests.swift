import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCJSON
import XDSCTestSupport

/// Runs Envoy's route-table-check corpus (`../shared/conformance/envoy-router-check`) through
/// `xdsc test routes`'s runner: every pairing of the manifest, every assertion of every test,
/// the expected failures with the tool's messages, the coverage figures, the bad config.
/// Without the corpus the suite is reported as skipped, never passed.
@Suite(.enabled(if: TestPaths.routerCheckCorpus != nil, "../shared/conformance/envoy-router-check not found"))
struct RouterCheckCorpusTests {
    struct Case: Sendable, CustomStringConvertible {
        var config: String
        var tests: String
        var flags: [String] = []
        /// Exit status the tool gives.
        var exit: Int32 = 0
        /// Lines (or fragments) the output must contain.
        var contains: [String] = []
        /// Fragments the output must not contain.
        var excludes: [String] = []
        var description: String { "\(config) + \(tests) \(flags.joined(separator: " "))" }
    }

    static let cases: [Case] = [
        Case(config: "ClusterHeader.yaml", tests: "ClusterHeader.golden.proto.json", flags: ["-d"]),
        Case(
            config: "ComprehensiveRoutes.yaml", tests: "ComprehensiveRoutes.golden.proto.json", flags: ["-d", "-f", "100", "--covall"],
            contains: ["Current route coverage: 100%"]),
        Case(config: "ContentType.yaml", tests: "ContentType.golden.proto.json", flags: ["-d"]),
        Case(
            config: "DetailedCoverage.yaml", tests: "DetailedCoverage.golden.proto.json", flags: ["--detailed-coverage"],
            contains: ["Missing test for host: localhost, route name: new_endpoint2-", "Missing test for host: localhost, route name: -"]),
        Case(config: "DetailedCoverage.yaml", tests: "DetailedCoverage.golden.proto.json", excludes: ["Missing test"]),
        Case(config: "DirectResponse.yaml", tests: "DirectResponse.golden.proto.json", flags: ["-d"]),
        Case(
            config: "DirectResponse.yaml", tests: "DirectResponse.golden.proto.json", flags: ["-d", "-f", "100", "--covall"],
            contains: ["Current route coverage: 100%"]),
        Case(config: "DynamicMetadata.yaml", tests: "DynamicMetadata.golden.proto.json", flags: ["-d"]),
        Case(config: "HeaderMatchedRouting.yaml", tests: "HeaderMatchedRouting.golden.proto.json", flags: ["-d"]),
        Case(config: "Redirect.yaml", tests: "Redirect.golden.proto.json", flags: ["-d"]),
        Case(
            config: "Redirect.yaml", tests: "Redirect.golden.proto.json", flags: ["-d", "-f", "1.0"], contains: ["Current route coverage: "]
        ),
        Case(
            config: "Redirect.yaml", tests: "Redirect.golden.proto.json", flags: ["-d", "-f", "100"], exit: 1,
            contains: ["Failed to meet coverage requirement: 100%"]),
        Case(config: "Redirect2.yaml", tests: "Redirect2.golden.proto.json", flags: ["-d"]),
        Case(config: "Redirect3.yaml", tests: "Redirect3.golden.proto.json", flags: ["-d"]),
        Case(config: "Redirect4.yaml", tests: "Redirect4.golden.proto.json", flags: ["-d"]),
        Case(config: "Runtime.yaml", tests: "Runtime.golden.proto.json", flags: ["-d"]),
        Case(
            config: "Runtime.yaml", tests: "Runtime.golden.proto.json", flags: ["-d", "--covall"],
            contains: ["Current route coverage: 100%"]),
        Case(config: "TestRoutes.yaml", tests: "TestRoutes.golden.proto.json", flags: ["-d"]),
        Case(
            config: "TestRoutes.yaml", tests: "TestRoutes.golden.proto.json", flags: ["-d", "--covall"],
            contains: [
                "Missing test for host: www2_staging, route: prefix: \"/\"",
                "Missing test for host: default, route: prefix: \"/api/application_data\"",
            ]),
        Case(
            config: "TestRoutes.yaml", tests: "TestRoutesFailures.golden.proto.json", flags: ["--only-show-failures"], exit: 1,
            contains: [
                "expected: [content-type: text/plain], actual: NOT [content-type: text/plain], test type: response_header_matches.string_match.exact",
                "actual: [content-length: 25], test type: response_header_matches.range_match",
                "expected: [x-ping-response: pong], actual: [x-ping-response: yes], test type: response_header_matches.string_match.exact",
                "expected: [has(x-ping-response):false], actual: [has(x-ping-response):true], test type: response_header_matches.present_match",
                "expected: [has(x-pong-response):true], actual: [has(x-pong-response):false], test type: response_header_matches.present_match",
            ]),
        Case(
            config: "TestRoutes.yaml", tests: "Weighted.golden.proto.json", flags: ["-d"], exit: 1,
            contains: [
                "Test_1", "Test_2", "expected: [cluster1], actual: [instant-server], test type: cluster_name",
                "expected: [test_virtual_cluster], actual: [other], test type: virtual_cluster_name", "Test_3",
            ]),
        Case(
            config: "TestRoutes.yaml", tests: "Weighted.golden.proto.json", flags: ["-d", "--only-show-failures"], exit: 1,
            contains: ["Test_2", "expected: [cluster1], actual: [instant-server], test type: cluster_name"], excludes: ["Test_1\n"]),
        Case(
            config: "TestRoutes.yaml", tests: "Weighted.golden.proto.json", flags: ["--only-show-failures"], exit: 1,
            contains: ["Test_2", "expected: [cluster1], actual: [instant-server], test type: cluster_name"], excludes: ["Test_1\n"]),
        Case(
            config: "Weighted.yaml", tests: "Weighted.golden.proto.json", flags: ["-d"],
            contains: ["\nCurrent route coverage: 100%\n"]),
        Case(config: "Weighted.yaml", tests: "Weighted.golden.proto.yaml", flags: ["-d"]),
        Case(config: "Weighted.yaml", tests: "Weighted.golden.proto.pb_text", flags: ["-d"]),
        Case(
            config: "Redirect.golden.proto.json", tests: "TestRoutes.yaml", exit: 1,
            contains: ["INVALID_ARGUMENT", "envoy.config.route.v3.RouteConfiguration", "tests"]),
    ]

    @Test(arguments: cases)
    func corpusCase(_ c: Case) throws {
        let corpus = try #require(TestPaths.routerCheckCorpus)
        let config = corpus.appendingPathComponent(c.config).path
        let tests = corpus.appendingPathComponent(c.tests).path
        let run = RouteTestCommand.run(config: [config], tests: tests, arguments: c.flags)
        let output = run.stdout + run.stderr
        #expect(run.exitCode == c.exit, "\(c): exit \(run.exitCode)\n\(output)")
        for s in c.contains { #expect(output.contains(s), "\(c): missing \(s)\n\(output)") }
        for s in c.excludes { #expect(!output.contains(s), "\(c): unexpected \(s)\n\(output)") }
        if c.exit == 0 {
            // Every test passes and every assertion in the file was evaluated.
            let data = RouteInputs.readData(tests, sink: DiagnosticSink())
            let declared = Self.countAssertions(data ?? .null)
            #expect(run.report?.assertions == declared, "\(c): \(run.report?.assertions ?? -1) of \(declared) assertions checked")
            print("\(c): \(run.report?.results.count ?? 0) tests, \(run.report?.assertions ?? 0) of \(declared) assertions checked")
        }
    }

    /// Every `validate` field and every header matcher in a test file.
    static func countAssertions(_ tests: JSON) -> Int {
        var n = 0
        for t in tests["tests"]?.arrayValue ?? [] {
            guard case .object(let v)? = t["validate"] else { continue }
            for (k, value) in v.members {
                if k.hasSuffix("_matches") || k.hasSuffix("_fields") { n += value.arrayValue?.count ?? 0 } else { n += 1 }
            }
        }
        return n
    }

    /// The whole manifest: every test file of a passing pair, counted once per pairing.
    @Test func everyAssertionOfTheCorpusIsChecked() throws {
        let corpus = try #require(TestPaths.routerCheckCorpus)
        var tests = 0
        var assertions = 0
        var declared = 0
        for c in Self.cases where c.exit == 0 && c.flags == ["-d"] || c.tests.hasSuffix(".proto.yaml") || c.tests.hasSuffix(".pb_text") {
            guard c.exit == 0, !(c.flags.contains("-f")) else { continue }
            let path = corpus.appendingPathComponent(c.tests).path
            let run = RouteTestCommand.run(config: [corpus.appendingPathComponent(c.config).path], tests: path, arguments: c.flags)
            tests += run.report?.results.count ?? 0
            assertions += run.report?.assertions ?? 0
            declared += Self.countAssertions(RouteInputs.readData(path, sink: DiagnosticSink()) ?? .null)
        }
        print("router-check corpus: \(tests) tests, \(assertions) of \(declared) assertions checked")
        #expect(assertions == declared)
        #expect(tests > 0)
    }
}
