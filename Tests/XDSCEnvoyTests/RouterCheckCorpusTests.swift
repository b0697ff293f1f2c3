import Foundation
import Testing
import XDSCDiagnostics
import XDSCEnvoyReader
import XDSCJSON
import XDSCTestSupport

@testable import XDSCEnvoy

/// Runs Envoy's route-table-check corpus (`../shared/conformance/envoy-router-check`) through
/// the reader and the evaluator, checking the assertions the evaluator can answer:
/// `cluster_name`, `virtual_host_name` and `code_redirect`.
@Suite struct RouterCheckCorpusTests {
    /// Config/test pairs the manifest says pass, minus those needing unmodelled features
    /// (dynamic metadata matchers).
    static let pairs: [(config: String, tests: String)] = [
        ("ClusterHeader.yaml", "ClusterHeader.golden.proto.json"),
        ("ComprehensiveRoutes.yaml", "ComprehensiveRoutes.golden.proto.json"),
        ("ContentType.yaml", "ContentType.golden.proto.json"),
        ("DetailedCoverage.yaml", "DetailedCoverage.golden.proto.json"),
        ("DirectResponse.yaml", "DirectResponse.golden.proto.json"),
        ("HeaderMatchedRouting.yaml", "HeaderMatchedRouting.golden.proto.json"),
        ("Redirect.yaml", "Redirect.golden.proto.json"),
        ("Redirect2.yaml", "Redirect2.golden.proto.json"),
        ("Redirect3.yaml", "Redirect3.golden.proto.json"),
        ("Redirect4.yaml", "Redirect4.golden.proto.json"),
        ("Runtime.yaml", "Runtime.golden.proto.json"),
        ("TestRoutes.yaml", "TestRoutes.golden.proto.json"),
        ("Weighted.yaml", "Weighted.golden.proto.json"),
        ("Weighted.yaml", "Weighted.golden.proto.yaml"),
    ]

    @Test(arguments: pairs.map { "\($0.config) + \($0.tests)" })
    func pair(_ name: String) throws {
        guard let corpus = TestPaths.routerCheckCorpus else {
            print("skipped: router-check corpus not found at ../shared/conformance/envoy-router-check")
            return
        }
        let files = name.components(separatedBy: " + ")
        guard let testsJSON = try loadYAMLAsJSON(corpus.appendingPathComponent(files[1])) else {
            print("skipped: python3 with PyYAML is needed to read the YAML tests")
            return
        }
        let config = try readRouteConfiguration(corpus.appendingPathComponent(files[0]))
        let tests = testsJSON["tests"]?.arrayValue ?? []
        #expect(!tests.isEmpty)
        var checked = 0
        for test in tests {
            let testName = test["test_name"]?.stringValue ?? "?"
            let input = test["input"] ?? .null
            let validate = test["validate"] ?? .null
            var headers: [(name: String, value: String)] = []
            if input["internal"]?.boolValue == true { headers.append(("x-envoy-internal", "true")) }
            for h in input["additional_request_headers"]?.arrayValue ?? [] {
                headers.append((h["key"]?.stringValue ?? "", h["value"]?.stringValue ?? ""))
            }
            let request = HTTPRequest(
                method: input["method"]?.stringValue ?? "GET", authority: input["authority"]?.stringValue,
                path: input["path"]?.stringValue ?? "/", scheme: input["ssl"]?.boolValue == true ? "https" : "http",
                headers: headers)
            let random = UInt64(clamping: input["random_value"]?.intValue ?? 0)
            let result = config.route(request, randomValue: random, runtime: .routerCheckTool(enabledKey: input["runtime"]?.stringValue))
            // The tool reports route-entry fields as "" unless the result forwards to a cluster.
            var isRouteEntry = false
            var code = 0
            switch result {
            case .matched(_, _, let route, _):
                switch route.action {
                case .route: isRouteEntry = true
                case .redirect(let r): code = r.responseCode.status
                case .directResponse(let d): code = d.status
                }
            case .tlsRedirect: code = 301
            case .noRoute: break
            }
            if let expected = validate["cluster_name"]?.stringValue {
                #expect((isRouteEntry ? result.cluster ?? "" : "") == expected, "\(name) \(testName): cluster_name")
                checked += 1
            }
            if let expected = validate["virtual_host_name"]?.stringValue {
                #expect((isRouteEntry ? result.virtualHostName ?? "" : "") == expected, "\(name) \(testName): virtual_host_name")
                checked += 1
            }
            if let expected = validate["code_redirect"]?.intValue {
                #expect(Int64(code) == expected, "\(name) \(testName): code_redirect")
                checked += 1
            }
        }
        print("\(name): \(tests.count) tests, \(checked) assertions checked")
    }

    /// The config read by the Envoy reader, which must report no problem.
    func readRouteConfiguration(_ url: URL) throws -> RouteConfiguration {
        let sink = DiagnosticSink()
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: url.path)))
        let read = EnvoyReader().read([(url.path, bytes)], into: sink)
        #expect(sink.all.isEmpty, "\(url.lastPathComponent): \(sink.all.map(\.message))")
        return try #require(read.config.routeConfigurations.first)
    }

    @Test func dynamicMetadataIsSaidClearly() throws {
        guard let corpus = TestPaths.routerCheckCorpus else { return }
        let url = corpus.appendingPathComponent("DynamicMetadata.yaml")
        let sink = DiagnosticSink()
        let read = EnvoyReader().read([(url.path, [UInt8](try #require(FileManager.default.contents(atPath: url.path))))], into: sink)
        // Every route matching on dynamic metadata is said (not modelled) and kept opaque.
        #expect(!sink.all.isEmpty && sink.all.allSatisfy { $0.rule == .unmodeledField })
        let routes = read.config.routeConfigurations.flatMap(\.virtualHosts).flatMap(\.routes)
        #expect(routes.filter { $0.match.unmodeledCriteria == ["dynamic_metadata"] }.count == sink.all.count)
    }
}
