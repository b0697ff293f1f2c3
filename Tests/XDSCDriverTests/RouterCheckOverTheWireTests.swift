import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEnvoy
import XDSCJSON
import XDSCProxy
import XDSCRequest
import XDSCRouteEngine
import XDSCTestSupport

/// Envoy's route-table-check corpus over real sockets: each case the proxy can express is
/// sent through the embedded proxy, and the mock upstream must see the cluster, path and
/// host `xdsc test routes` decides (or, for a local answer, the status and no upstream
/// request). Cases the proxy cannot express are counted with their reason, never dropped.
@Suite struct RouterCheckOverTheWireTests {
    /// The pairs of the manifest whose tests pass (`RouterCheckCorpusTests`).
    static let pairs = [
        ("ClusterHeader.yaml", "ClusterHeader.golden.proto.json"),
        ("ComprehensiveRoutes.yaml", "ComprehensiveRoutes.golden.proto.json"),
        ("ContentType.yaml", "ContentType.golden.proto.json"),
        ("DetailedCoverage.yaml", "DetailedCoverage.golden.proto.json"),
        ("DirectResponse.yaml", "DirectResponse.golden.proto.json"),
        ("DynamicMetadata.yaml", "DynamicMetadata.golden.proto.json"),
        ("HeaderMatchedRouting.yaml", "HeaderMatchedRouting.golden.proto.json"),
        ("Redirect.yaml", "Redirect.golden.proto.json"),
        ("Redirect2.yaml", "Redirect2.golden.proto.json"),
        ("Redirect3.yaml", "Redirect3.golden.proto.json"),
        ("Redirect4.yaml", "Redirect4.golden.proto.json"),
        ("Runtime.yaml", "Runtime.golden.proto.json"),
        ("TestRoutes.yaml", "TestRoutes.golden.proto.json"),
        ("Weighted.yaml", "Weighted.golden.proto.json"),
    ]

    struct Case {
        var name: String
        var request: EnvoyRequest
        var decision: RouteDecision
    }

    /// Why the proxy cannot send a case as the tool evaluates it; nil when it can.
    static func unexpressible(_ input: JSON, _ decision: RouteDecision) -> String? {
        if input["ssl"]?.boolValue == true { return "ssl: the proxy serves plain HTTP" }
        if input["internal"]?.boolValue == true { return "internal: every request through the proxy is external" }
        if input["runtime"] != nil { return "runtime: the proxy has no runtime key per request" }
        if input["dynamic_metadata"] != nil { return "dynamic_metadata: no filter sets it in the proxy" }
        for h in input["additional_request_headers"]?.arrayValue ?? [] {
            let name = (h["key"]?.stringValue ?? "").lowercased()
            if name.hasPrefix("x-envoy-") { return "header \(name): the proxy strips x-envoy-* from clients" }
            if name.hasPrefix(":") || name == "host" { return "header \(name): sent as the request line and Host" }
        }
        let path = input["path"]?.stringValue ?? ""
        if !path.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) { return "path: bytes HTTP/1.1 cannot carry raw" }
        if case .forward(let f) = decision.outcome, case .weighted = f.choice {
            return "random_value: the proxy draws its own value for weighted clusters"
        }
        return nil
    }

    @Test func corpusCasesGiveTheSameClusterAndRewritesOverTheWire() async throws {
        let corpus = try #require(
            TestPaths.routerCheckCorpus, "the router-check corpus (../shared/conformance/envoy-router-check) is missing")
        var run = 0
        var skipped: [String: Int] = [:]
        for (config, tests) in Self.pairs {
            let loaded = RouteInputs.load([corpus.appendingPathComponent(config).path])
            let table = try #require(loaded.tables.first, "\(config) does not load")
            let sink = DiagnosticSink()
            let data = try #require(RouteInputs.readData(corpus.appendingPathComponent(tests).path, sink: sink))
            var cases: [Case] = []
            for t in data["tests"]?.arrayValue ?? [] {
                let input = t["input"] ?? .object([:])
                var headers: [HTTPHeader] = []
                for h in input["additional_request_headers"]?.arrayValue ?? [] {
                    headers.append(HTTPHeader(h["key"]?.stringValue ?? "", h["value"]?.stringValue ?? ""))
                }
                let request = EnvoyRequest(
                    method: input["method"]?.stringValue ?? "GET", scheme: "http", authority: input["authority"]?.stringValue ?? "",
                    path: input["path"]?.stringValue ?? "", headers: headers, randomValue: 0, tls: false, isInternal: false)
                let decision = table.engine.decide(request, semantics: .routerCheckTool(runtimeKey: nil), trace: false)
                if let why = Self.unexpressible(input, decision) {
                    skipped["\(config): \(why)", default: 0] += 1
                    continue
                }
                cases.append(Case(name: "\(tests) \(t["test_name"]?.stringValue ?? "?")", request: request, decision: decision))
            }
            run += try await Self.send(cases, engine: table.engine)
        }
        print("router-check corpus over the wire: \(run) cases run, \(skipped.values.reduce(0, +)) skipped")
        for (why, n) in skipped.sorted(by: { $0.key < $1.key }) { print("  skipped \(n): \(why)") }
        #expect(run >= 40)
    }

    /// Serves `engine` with a mock per decided cluster and checks every case; returns how many ran.
    static func send(_ cases: [Case], engine: RouteEngine) async throws -> Int {
        var clusters: [String] = []
        for c in cases {
            if case .forward(let f) = c.decision.outcome, !f.cluster.isEmpty, !clusters.contains(f.cluster) { clusters.append(f.cluster) }
        }
        let configuration = ProxyConfiguration(
            listeners: [ProxyListener(name: "routes", port: 0, engine: engine)],
            clusters: clusters.enumerated().map { ($1, [ProxyEndpoint(host: "10.0.0.\($0 + 1)", port: 80)]) })
        let server = try await ProxyServer.start(configuration)
        let port = try #require(server.port(of: "routes"))
        for c in cases {
            server.registry.reset()
            let r = c.request
            let response = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: r.method, target: r.path ?? "/", host: r.authority ?? "",
                headers: r.headers.map { HTTPHeader($0.name, $0.value) }, body: "")
            let received = server.registry.received
            switch c.decision.outcome {
            case .forward(let f) where !f.cluster.isEmpty:
                #expect(received.count == 1, "\(c.name): \(response.status) \(response.body)")
                #expect(received.first?.cluster == f.cluster, "\(c.name): cluster")
                #expect(received.first?.path == (f.rewrittenPath ?? r.path), "\(c.name): path")
                #expect(received.first?.host == (f.rewrittenHost ?? r.authority), "\(c.name): host")
            case .forward(let f):
                #expect(received.isEmpty, "\(c.name)")
                #expect(response.status == f.clusterNotFoundStatus, "\(c.name): no cluster")
            case .redirect(let o), .tlsRedirect(let o):
                #expect(received.isEmpty, "\(c.name)")
                #expect(response.status == o.status, "\(c.name): status")
                #expect(response.header("location") == o.location, "\(c.name): location")
            case .directResponse(let d):
                #expect(received.isEmpty, "\(c.name)")
                #expect(response.status == d.status, "\(c.name): status")
                #expect(response.body == d.body, "\(c.name): body")
            case .noRoute:
                #expect(received.isEmpty, "\(c.name)")
                #expect(response.status == 404, "\(c.name): no route")
            }
        }
        await server.shutdown()
        return cases.count
    }
}
