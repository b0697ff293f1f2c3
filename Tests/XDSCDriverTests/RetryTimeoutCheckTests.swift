import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `RetryTimeoutCheck` on Envoy files; each test fails on any diagnostic it did not expect.
@Suite struct RetryTimeoutCheckTests {
    @Test func perTryTimeoutNotShorterThanTimeout() {
        let text = envoyBootstrap(
            routes: """
                - ⟨equal⟩match: {prefix: /a}
                  route: {cluster: users, timeout: 2s, retry_policy: {retry_on: 5xx, num_retries: 3, per_try_timeout: 2s}}
                - ⟨default⟩match: {prefix: /b}
                  route: {cluster: users, retry_policy: {retry_on: 5xx, per_try_timeout: 20s}}
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
                """, clusters: ["users"])
        expectDiagnostics(files: [("envoy.yaml", text)], [(.retryTimeout, "equal"), (.retryTimeout, "default")])
        let (result, _) = lintMarked([("envoy.yaml", text)])
        #expect(result.diagnostics.contains { $0.message.contains("request timeout 15s (Envoy's default)") })
    }
}
