import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEnvoy
import XDSCEnvoyReader

let envoyConfigsRoot = Paths.shared.appendingPathComponent("conformance/envoy-configs")
let routerCheckRoot = Paths.shared.appendingPathComponent("conformance/envoy-router-check")

/// Envoy's own sample configurations (`../shared/conformance/envoy-configs`, which Envoy's
/// CI loads): every one reads, and gives exactly the findings written here (no false
/// positives: only what xdsc does not model, and the legacy file Envoy rejects).
/// Without the corpus the suite is reported as skipped, never passed.
@Suite(.enabled(if: Paths.exists(envoyConfigsRoot), "../shared/conformance/envoy-configs not found"))
struct ConformanceSampleTests {
    static let root = envoyConfigsRoot

    /// File -> expected `rule@line:column` findings of `xdsc lint`.
    static let expected: [String: [String]] = [
        "configs/csrf.yaml": [],
        "configs/envoy-demo.yaml": [],
        "configs/front-proxy_envoy.yaml": [],
        "configs/front-proxy_service-envoy.yaml": [],
        "configs/grpc-bridge_server_envoy-proxy.yaml": [],
        "configs/proxy_connect.yaml": [],
        "configs/terminate_http_in_http2_connect.yaml": [],
        // Excluded from Envoy's config tests: a router found by name only. Its `host_rewrite`
        // was a v2 field; the v3 API has it again, as a substitution format string.
        "configs/using_deprecated_config.yaml": ["unsimulated-field@30:19", "missing-field@36:13"],
        "configs/google-vrp/envoy-edge.yaml": ["unmodeled-field@50:11", "unmodeled-field@51:11", "unmodeled-field@52:11"],
        "docs/root/configuration/best_practices/_include/edge.yaml": [
            "unmodeled-field@60:11", "unmodeled-field@61:11", "unmodeled-field@62:11",
        ],
        "docs/root/intro/_include/life-of-a-request.yaml": [],
        "docs/root/_configs/retry/retry-previous-hosts.yaml": [],
        "docs/root/configuration/http/http_conn_man/_include/header_formatters.yaml": [],
        "docs/root/configuration/http/http_filters/_include/aws-lambda-typed-filter.yaml": [],
        "docs/root/_configs/route/route-match-tree.yaml": ["unmodeled-field@24:15"],
    ]

    @Test func everySampleIsListed() throws {
        let found = try FileManager.default.subpathsOfDirectory(atPath: Self.root.path).filter { $0.hasSuffix(".yaml") }
        #expect(Set(found) == Set(Self.expected.keys))
    }

    @Test(arguments: expected.keys.sorted())
    func sample(_ name: String) throws {
        let path = Self.root.appendingPathComponent(name).path
        let result = Pipeline().check([path])
        #expect(result.envoyInput != nil, "\(name) must be read as Envoy configuration")
        #expect(summary(result.diagnostics) == Self.expected[name], "\(name)")
        let config = try #require(result.envoyInput?.config)
        #expect(!config.listeners.isEmpty && !config.clusters.isEmpty)
        #expect(!config.routeTables.isEmpty)
    }

    /// What the samples exercise is really in the model.
    @Test func samplesModelWhatTheyShow() throws {
        func config(_ name: String) -> EnvoyConfig {
            Pipeline().check([Self.root.appendingPathComponent(name).path]).envoyInput?.config ?? EnvoyConfig()
        }
        let sni = config("docs/root/intro/_include/life-of-a-request.yaml")
        #expect(sni.listeners[0].filterChains[0].serverNames == ["acme.com"])
        #expect(sni.clusters.map(\.name) == ["some_service", "some_statsd_sink"])
        #expect(sni.clusters[0].upstreamProtocol == .http2)
        let lambda = config("docs/root/configuration/http/http_filters/_include/aws-lambda-typed-filter.yaml")
        guard case .route(let a) = lambda.routeTables[0].table.virtualHosts[0].routes[0].action,
            case .weightedClusters(let w) = a.clusterSpecifier
        else {
            Issue.record("expected weighted clusters")
            return
        }
        #expect(w.clusters.map(\.weight) == [42])
        let connect = config("configs/proxy_connect.yaml")
        #expect(connect.routeTables[0].table.virtualHosts[0].routes.map(\.match.pathSpecifier).contains(.connectMatcher))
        let grpc = config("configs/grpc-bridge_server_envoy-proxy.yaml")
        #expect(grpc.routeTables[0].table.virtualHosts[0].routes[0].match.grpc)
    }
}

/// Every route configuration of Envoy's route-table-check corpus reads without an error.
/// Without the corpus the suite is reported as skipped, never passed.
@Suite(.enabled(if: Paths.exists(routerCheckRoot), "../shared/conformance/envoy-router-check not found"))
struct RouterCheckCorpusReadTests {
    static let root = routerCheckRoot

    static var configs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []).filter {
            $0.hasSuffix(".yaml") && !$0.contains(".golden.")
        }.sorted()
    }

    @Test func theCorpusIsThere() {
        #expect(Self.configs.count >= 14)
    }

    @Test(arguments: configs)
    func reads(_ name: String) {
        let (r, ds) = read(paths: [Self.root.appendingPathComponent(name).path])
        #expect(!ds.contains { $0.severity == .error }, "\(name): \(summary(ds))")
        #expect(r.config.routeConfigurations.count == 1)
        #expect(!(r.config.routeConfigurations.first?.virtualHosts.isEmpty ?? true))
        // Only the dynamic-metadata config uses what xdsc does not model.
        #expect(ds.allSatisfy { $0.rule == .unmodeledField } && (ds.isEmpty || name == "DynamicMetadata.yaml"), "\(name)")
    }
}
