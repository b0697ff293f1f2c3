import Testing
import XDSCDiagnostics
import XDSCTestSupport

/// `RetryTimeoutPass` on inline policies; each test fails on any diagnostic it did not expect.
@Suite struct RetryTimeoutPassTests {
    @Test func retryTimeoutUsesTheInheritedTimeout() {
        let text = policy(
            routes: """
                      - match: {prefix: /u}
                        to: users
                        retries: {attempts: 2, retry_on: [5xx], per_try_timeout: ⟨p⟩2s}
                      - match: {prefix: /o}
                        to: orders
                        timeout: 0s
                        retries: {attempts: 2, retry_on: [5xx], per_try_timeout: 30s}
                """, defaults: "defaults: {timeout: 2s}")
        expectDiagnostics(text, [(.retryTimeout, "p")])
    }
}
