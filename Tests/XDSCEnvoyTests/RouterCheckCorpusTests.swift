import Foundation
import Testing
import XDSCJSON
import XDSCTestSupport

@testable import XDSCEnvoy

/// Runs Envoy's route-table-check corpus (`../shared/conformance/envoy-router-check`) through
/// the decoder and the evaluator, checking the assertions the evaluator can answer:
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
        guard let configJSON = try loadYAMLAsJSON(corpus.appendingPathComponent(files[0])),
            let testsJSON = try loadYAMLAsJSON(corpus.appendingPathComponent(files[1]))
        else {
            print("skipped: python3 with PyYAML is needed to read the YAML corpus")
            return
        }
        var decoder = EnvoyRouteDecoder()
        let config = try decoder.routeConfiguration(configJSON)
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

    @Test func dynamicMetadataIsRejectedClearly() throws {
        guard let corpus = TestPaths.routerCheckCorpus,
            let configJSON = try loadYAMLAsJSON(corpus.appendingPathComponent("DynamicMetadata.yaml"))
        else { return }
        var decoder = EnvoyRouteDecoder()
        #expect(throws: EnvoyDecodingError.self) { try decoder.routeConfiguration(configJSON) }
    }
}
