import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `RetryTimeoutCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct RetryTimeoutCheckTests {
    @Test func perTryTimeoutNotShorterThanTimeout() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users, timeout: 2s, retry_policy: {retry_on: 5xx, num_retries: 3, per_try_timeout: ⟨equal⟩2s}}
                - match: {prefix: /b}
                  route: {cluster: users, retry_policy: {retry_on: 5xx, per_try_timeout: ⟨default⟩20s}}
                - match: {prefix: /c}
                  route: {cluster: users, timeout: 6s, retry_policy: {retry_on: 5xx, per_try_timeout: 2s}}
                - match: {prefix: /d}
                  route: {cluster: users, timeout: 0s, retry_policy: {retry_on: 5xx, per_try_timeout: 2s}}
                - match: {prefix: /e}
                  route:
                    cluster: users
                    timeout: 2s
                    max_stream_duration: {max_stream_duration: 30s}
                    retry_policy: {retry_on: 5xx, per_try_timeout: 2s}
                - match: {prefix: /f}
                  route:
                    cluster: users
                    max_stream_duration: {}
                    retry_policy: {retry_on: 5xx, per_try_timeout: 20s}
                - match: {prefix: /g}
                  route: {cluster: users, timeout: 1s, retry_policy: {retry_on: 5xx, num_retries: 0, per_try_timeout: 2s}}
                """, clusters: ["users"])
        expectDiagnostics(files: [("envoy.yaml", text)], [(.retryTimeout, "equal"), (.retryTimeout, "default")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(result.diagnostics.contains { $0.message.contains("request timeout 15s (Envoy's default)") })
    }

    /// `buildRetryPolicy` (config_impl.cc): a route without `retry_policy` uses its virtual
    /// host's; a route with one, even without `per_try_timeout`, uses its own. One finding
    /// per request timeout, at the host's `per_try_timeout`, naming the routes.
    @Test func virtualHostRetryPolicyApplies() throws {
        let text = envoyBootstrap(
            routes: """
                - ⟨a⟩match: {prefix: /a}
                  route: {cluster: users, timeout: 3s}
                - ⟨b⟩match: {prefix: /b}
                  route: {cluster: users, timeout: 3s}
                - ⟨c⟩match: {prefix: /c}
                  route: {cluster: users}
                - match: {prefix: /d}
                  route: {cluster: users, timeout: 30s}
                - match: {prefix: /e}
                  route: {cluster: users, timeout: 3s, retry_policy: {retry_on: 5xx}}
                - match: {prefix: /f}
                  route: {cluster: users, timeout: 3s, retry_policy: {retry_on: 5xx, per_try_timeout: ⟨own⟩4s}}
                """, clusters: ["users"], hostFields: "retry_policy: {retry_on: 5xx, num_retries: 2, per_try_timeout: ⟨host⟩15s}")
        expectDiagnostics(
            files: [("envoy.yaml", text)], [(.retryTimeout, "host"), (.retryTimeout, "host"), (.retryTimeout, "own")])
        let (result, markers) = lintMarked([("envoy.yaml", text)])
        let host = result.diagnostics.filter { $0.message.hasPrefix("the virtual host's per_try_timeout 15s") }
        #expect(host.count == 2)
        let threeSeconds = try #require(host.first { $0.message.contains("request timeout 3s,") })
        #expect(threeSeconds.related.map(\.span.start) == [markers["a"]?.1, markers["b"]?.1])
        let byDefault = try #require(host.first { $0.message.contains("15s (Envoy's default)") })
        #expect(byDefault.related.map(\.span.start) == [markers["c"]?.1])
        #expect(result.diagnostics.contains { $0.message.hasPrefix("per_try_timeout 4s is not shorter than the request timeout 3s") })
    }

    /// `PROTOBUF_GET_MS_OR_DEFAULT` keeps whole milliseconds and `finalTimeout` compares
    /// those: equal after truncation is reported, a per-try timeout under 1 ms is none, and a
    /// route timeout under 1 ms is no timeout.
    @Test func comparesWholeMilliseconds() {
        let text = envoyBootstrap(
            routes: """
                - match: {prefix: /a}
                  route: {cluster: users, timeout: 2.0009s, retry_policy: {retry_on: 5xx, per_try_timeout: ⟨truncated⟩2.0001s}}
                - match: {prefix: /b}
                  route: {cluster: users, timeout: 0.0004s, retry_policy: {retry_on: 5xx, per_try_timeout: 0.0009s}}
                - match: {prefix: /c}
                  route: {cluster: users, timeout: 0.0005s, retry_policy: {retry_on: 5xx, per_try_timeout: 0.0008s}}
                - match: {prefix: /d}
                  route: {cluster: users, timeout: 2.001s, retry_policy: {retry_on: 5xx, per_try_timeout: 2.0009s}}
                """, clusters: ["users"])
        expectDiagnostics(files: [("envoy.yaml", text)], [(.retryTimeout, "truncated")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        let expected = "per_try_timeout 2s is not shorter than the request timeout 2s, so no retry can happen"
        #expect(result.diagnostics.map(\.message) == [expected])
    }
}
