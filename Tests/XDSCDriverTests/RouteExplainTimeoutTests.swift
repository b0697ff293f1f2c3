import Foundation
import Testing
import XDSCDiagnostics
import XDSCDriver
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine
import XDSCTestSupport

/// `xdsc route`'s text says where a forward's timeout comes from when it is not the route's
/// `timeout`, the per-try timeout and stream limit armed, the timeout headers sent upstream,
/// and which mirrors this request does not sample; its JSON carries the same timeouts.
@Suite struct RouteExplainTimeoutTests {
    func decision(_ routeAction: String, _ request: EnvoyRequest) throws -> RouteDecision {
        let rc = try readRouteTable(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":"# + routeAction + "}]}]}")
        return RouteEngine(rc).decide(request)
    }

    func text(_ routeAction: String, _ request: EnvoyRequest) throws -> String {
        RouteExplain.human(try decision(routeAction, request), table: "t", sources: [:])
    }

    /// The JSON's timeout keys, in the order written.
    func timeouts(_ routeAction: String, _ request: EnvoyRequest) throws -> [String: JSON] {
        let j = RouteExplain.json(try decision(routeAction, request), table: "t")
        var out: [String: JSON] = [:]
        for k in [
            "timeout", "timeout_from", "timeout_source", "per_try_timeout", "expected_timeout_ms", "grpc_timeout", "stream_duration",
            "stream_duration_source",
        ] {
            out[k] = try #require(j[k], "no `\(k)`")
        }
        return out
    }

    static let grpc = EnvoyRequest(
        method: "POST", authority: "h", path: "/",
        headers: [HTTPHeader("content-type", "application/grpc"), HTTPHeader("grpc-timeout", "3S")])

    func line(_ text: String, _ prefix: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
    }

    @Test func timeoutLineNamesItsSource() throws {
        let plain = EnvoyRequest(authority: "h", path: "/")
        #expect(line(try text(#"{"cluster":"c"}"#, plain), "timeout:") == "timeout: 15s (default)")
        #expect(line(try text(#"{"cluster":"c","timeout":"2s"}"#, plain), "timeout:") == "timeout: 2s")
        let header = EnvoyRequest(authority: "h", path: "/", headers: [HTTPHeader("x-envoy-upstream-rq-timeout-ms", "250")])
        #expect(
            line(try text(#"{"cluster":"c","timeout":"2s"}"#, header), "timeout:")
                == "timeout: 0.250s (from x-envoy-upstream-rq-timeout-ms)")
        let grpc = EnvoyRequest(
            method: "POST", authority: "h", path: "/",
            headers: [HTTPHeader("content-type", "application/grpc"), HTTPHeader("grpc-timeout", "3S")])
        #expect(
            line(try text(#"{"cluster":"c","max_grpc_timeout":"10s"}"#, grpc), "timeout:")
                == "timeout: 3s (from grpc-timeout, max_grpc_timeout)")
        #expect(
            line(try text(#"{"cluster":"c","max_stream_duration":{"max_stream_duration":"30s"}}"#, plain), "timeout:")
                == "timeout: 0s (none: the route sets max_stream_duration), stream limit: 30s")
    }

    @Test func perTryAndHeadersSentUpstream() throws {
        let plain = EnvoyRequest(authority: "h", path: "/")
        let retry = #"{"cluster":"c","timeout":"2s","retry_policy":{"retry_on":"5xx","per_try_timeout":"0.5s"}}"#
        let t = try text(retry, plain)
        #expect(line(t, "timeout:") == "timeout: 2s, per try: 0.500s")
        #expect(line(t, "timeout headers") == "timeout headers sent upstream: x-envoy-expected-rq-timeout-ms: 500")
        // A per-try timeout not below the timeout is dropped: no per try, the timeout is expected.
        let long = try text(#"{"cluster":"c","timeout":"2s","retry_policy":{"retry_on":"5xx","per_try_timeout":"3s"}}"#, plain)
        #expect(line(long, "timeout:") == "timeout: 2s")
        #expect(line(long, "timeout headers") == "timeout headers sent upstream: x-envoy-expected-rq-timeout-ms: 2000")
        let g = try text(#"{"cluster":"c","max_grpc_timeout":"10s"}"#, Self.grpc)
        #expect(line(g, "timeout headers") == "timeout headers sent upstream: x-envoy-expected-rq-timeout-ms: 3000, grpc-timeout: 3000m")
        // No timeout at all: nothing is sent.
        #expect(line(try text(#"{"cluster":"c","timeout":"0s"}"#, plain), "timeout headers") == nil)
    }

    @Test func jsonCarriesTheTimeouts() throws {
        let plain = EnvoyRequest(authority: "h", path: "/")
        let route = try timeouts(#"{"cluster":"c","timeout":"2s","retry_policy":{"retry_on":"5xx","per_try_timeout":"0.5s"}}"#, plain)
        #expect(route["timeout"] == .string("2s"))
        #expect(route["timeout_from"] == .string("route"))
        #expect(route["timeout_source"]?["field"] == .string("virtual_hosts[0].routes[0].route.timeout"))
        #expect(route["per_try_timeout"] == .string("0.500s"))
        #expect(route["expected_timeout_ms"] == .integer(500))
        #expect(route["grpc_timeout"] == .null && route["stream_duration"] == .null && route["stream_duration_source"] == .null)

        let byDefault = try timeouts(#"{"cluster":"c"}"#, plain)
        #expect(byDefault["timeout_from"] == .string("default") && byDefault["timeout_source"] == .null)
        #expect(byDefault["per_try_timeout"] == .null && byDefault["expected_timeout_ms"] == .integer(15000))

        let header = try timeouts(
            #"{"cluster":"c","timeout":"2s"}"#,
            EnvoyRequest(authority: "h", path: "/", headers: [HTTPHeader("x-envoy-upstream-rq-timeout-ms", "250")]))
        #expect(header["timeout_from"] == .string("upstream-timeout-header") && header["timeout_source"] == .null)
        #expect(header["expected_timeout_ms"] == .integer(250))

        let grpc = try timeouts(#"{"cluster":"c","max_grpc_timeout":"10s"}"#, Self.grpc)
        #expect(grpc["timeout"] == .string("3s") && grpc["timeout_from"] == .string("grpc-timeout-header"))
        #expect(grpc["timeout_source"]?["field"] == .string("virtual_hosts[0].routes[0].route.max_grpc_timeout"))
        #expect(grpc["grpc_timeout"] == .string("3000m") && grpc["expected_timeout_ms"] == .integer(3000))

        let capped = try timeouts(#"{"cluster":"c","max_grpc_timeout":"1s"}"#, Self.grpc)
        #expect(capped["timeout_from"] == .string("max-grpc-timeout") && capped["grpc_timeout"] == .string("1000m"))

        // max_stream_duration: no router timeout, nothing expected; the stream timer, and on a
        // gRPC request its value as grpc-timeout.
        let stream = try timeouts(#"{"cluster":"c","timeout":"2s","max_stream_duration":{"max_stream_duration":"30s"}}"#, Self.grpc)
        #expect(stream["timeout"] == .string("0s") && stream["timeout_from"] == .string("max-stream-duration"))
        #expect(stream["expected_timeout_ms"] == .null && stream["stream_duration"] == .string("30s"))
        #expect(stream["grpc_timeout"] == .string("30000m"))
        #expect(stream["stream_duration_source"]?["field"] == .string("virtual_hosts[0].routes[0].route.max_stream_duration"))
    }

    @Test func jsonTimeoutsAreNullForLocalReplies() throws {
        let rc = try readRouteTable(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"direct_response":{"status":200}}]}]}"#)
        let j = RouteExplain.json(RouteEngine(rc).decide(EnvoyRequest(authority: "h", path: "/")), table: "t")
        for k in ["timeout", "timeout_from", "timeout_source", "per_try_timeout", "expected_timeout_ms", "grpc_timeout", "stream_duration"]
        {
            #expect(j[k] == .null, "\(k)")
        }
    }

    @Test func unsampledMirrorsAreMarked() throws {
        let action =
            #"{"cluster":"c","request_mirror_policies":[{"cluster":"m1"},{"cluster":"m2","runtime_fraction":{"default_value":{"numerator":10}}}]}"#
        let sampled = try text(action, EnvoyRequest(authority: "h", path: "/", randomValue: 9))
        #expect(sampled.contains("mirror: `m1`\nmirror: `m2`\n"))
        let not = try text(action, EnvoyRequest(authority: "h", path: "/", randomValue: 10))
        #expect(not.contains("mirror: `m1`\nmirror: `m2` (not sampled for this request)\n"))
    }

    /// On a policy, `timeout_source` is the line the timeout came from: the route's own, or
    /// the host's, the listener's or `defaults`' that it inherits (the IR's provenance), not
    /// the route. The retry policy's origin likewise.
    @Test func policyTimeoutSourceIsWhereTheInheritedValueIsWritten() throws {
        let marked = Marked(
            """
            version: 1
            defaults:
              timeout: ⟨defaults⟩7s
            services:
              users:
                endpoints: [10.0.0.1:8080]
            listeners:
              public:
                address: 0.0.0.0:8080
                timeout: ⟨listener⟩9s
                hosts:
                  api:
                    domains: [api.example.com]
                    timeout: ⟨host⟩11s
                    retries: ⟨retries⟩{attempts: 2, retry_on: [5xx]}
                    routes:
                      - match: {prefix: /inherits}
                        to: users
                      - match: {prefix: /}
                        to: users
                        timeout: ⟨route⟩3s
                  web:
                    domains: [web.example.com]
                    routes:
                      - match: {prefix: /}
                        to: users
              internal:
                address: 0.0.0.0:8081
                hosts:
                  all:
                    domains: ["*"]
                    routes:
                      - match: {prefix: /}
                        to: users
            """)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xdsc-timeout-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("policy.yaml").path
        try marked.text.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = RouteInputs.load([path])
        #expect(!loaded.diagnostics.contains { $0.severity == .error }, "\(loaded.diagnostics)")
        let tables = Dictionary(uniqueKeysWithValues: loaded.tables.map { ($0.label, $0.engine) })
        let publicTable = try #require(tables["listener public"])
        let internalTable = try #require(tables["listener internal"])

        func source(_ engine: RouteEngine, _ authority: String, _ path: String) -> SourcePosition? {
            engine.decide(EnvoyRequest(authority: authority, path: path)).timeoutOrigin?.span?.start
        }
        #expect(source(publicTable, "api.example.com", "/inherits") == marked.markers["host"])
        #expect(source(publicTable, "api.example.com", "/") == marked.markers["route"])
        #expect(source(publicTable, "web.example.com", "/") == marked.markers["listener"])
        #expect(source(internalTable, "a", "/") == marked.markers["defaults"])
        let d = publicTable.decide(EnvoyRequest(authority: "api.example.com", path: "/inherits"))
        #expect(d.retryOrigin?.span?.start == marked.markers["retries"])
        let json = RouteExplain.json(d, table: "t")
        #expect(json["timeout_source"]?["line"] == .integer(marked.markers["host"]!.line))
        #expect(json["timeout_source"]?["column"] == .integer(marked.markers["host"]!.column))
    }
}
