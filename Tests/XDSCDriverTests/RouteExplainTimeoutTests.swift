import Testing
import XDSCDriver
import XDSCEnvoy
import XDSCRequest
import XDSCRouteEngine
import XDSCTestSupport

/// `xdsc route`'s text says where a forward's timeout comes from when it is not the route's
/// `timeout`, the stream limit `max_stream_duration` arms, and which mirrors this request
/// does not sample.
@Suite struct RouteExplainTimeoutTests {
    func text(_ routeAction: String, _ request: EnvoyRequest) throws -> String {
        let rc = try readRouteTable(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":"# + routeAction + "}]}]}")
        return RouteExplain.human(RouteEngine(rc).decide(request), table: "t", sources: [:])
    }

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

    @Test func unsampledMirrorsAreMarked() throws {
        let action =
            #"{"cluster":"c","request_mirror_policies":[{"cluster":"m1"},{"cluster":"m2","runtime_fraction":{"default_value":{"numerator":10}}}]}"#
        let sampled = try text(action, EnvoyRequest(authority: "h", path: "/", randomValue: 9))
        #expect(sampled.contains("mirror: `m1`\nmirror: `m2`\n"))
        let not = try text(action, EnvoyRequest(authority: "h", path: "/", randomValue: 10))
        #expect(not.contains("mirror: `m1`\nmirror: `m2` (not sampled for this request)\n"))
    }
}
