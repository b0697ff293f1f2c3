import Testing
import XDSCEnvoy
import XDSCRequest

@testable import XDSCProxy

/// How the router's retry headers combine with the route's retry policy
/// (`RetryStateImpl`'s constructor, retry_state_impl.cc).
@Suite struct RetryPlanTests {
    static func headers(_ pairs: [(String, String)]) -> HeaderMap { HeaderMap(pairs.map { HTTPHeader($0.0, $0.1) }) }

    @Test func withoutHeadersThePolicyAlone() {
        let plan = RetryPlan(RetryPolicy(retryOn: ["5xx"], numRetries: 3), headers: HeaderMap())
        #expect(plan.retryOn == ["5xx"])
        #expect(plan.numRetries == 3)
        #expect(RetryPlan(nil, headers: HeaderMap()).retryOn.isEmpty)
        #expect(RetryPlan(nil, headers: HeaderMap()).numRetries == 0)
    }

    @Test func aRetryOnHeaderWithoutAPolicyRetriesOnce() {
        let plan = RetryPlan(nil, headers: Self.headers([("x-envoy-retry-on", " gateway-error ,,bogus, reset")]))
        #expect(plan.retryOn == ["gateway-error", "reset"])
        #expect(plan.numRetries == 1)
        #expect(plan.retries(status: 502))
        #expect(!plan.retries(status: 500))
    }

    @Test func theHeaderConditionsAddToThePolicys() {
        let plan = RetryPlan(
            RetryPolicy(retryOn: ["connect-failure"], numRetries: 4), headers: Self.headers([("x-envoy-retry-on", "retriable-4xx")]))
        #expect(plan.retryOn == ["connect-failure", "retriable-4xx"])
        #expect(plan.numRetries == 4)
        #expect(plan.retries(status: 409))
    }

    @Test func maxRetriesReplacesTheNumberOnlyWithACondition() {
        let none = RetryPlan(nil, headers: Self.headers([("x-envoy-max-retries", "5")]))
        #expect(none.numRetries == 0)
        let header = RetryPlan(nil, headers: Self.headers([("x-envoy-retry-on", "5xx"), ("x-envoy-max-retries", " 5 ")]))
        #expect(header.numRetries == 5)
        let policy = RetryPlan(RetryPolicy(retryOn: ["5xx"], numRetries: 3), headers: Self.headers([("x-envoy-max-retries", "0")]))
        #expect(policy.numRetries == 0)
        // Not an unsigned integer: the policy's number stays.
        let bad = RetryPlan(RetryPolicy(retryOn: ["5xx"], numRetries: 3), headers: Self.headers([("x-envoy-max-retries", "-1")]))
        #expect(bad.numRetries == 3)
    }

    @Test func retriableStatusCodesAddTheCodesThatParse() {
        let plan = RetryPlan(
            RetryPolicy(retryOn: ["retriable-status-codes"], retriableStatusCodes: [418]),
            headers: Self.headers([("x-envoy-retriable-status-codes", "429, x,,503")]))
        #expect(plan.retriableStatusCodes == [418, 429, 503])
        #expect(plan.retries(status: 429))
        #expect(!plan.retries(status: 500))
        // The codes alone retry nothing: the condition must be on.
        let codesOnly = RetryPlan(nil, headers: Self.headers([("x-envoy-retriable-status-codes", "503")]))
        #expect(!codesOnly.retries(status: 503))
    }

    @Test func theRouterConsumesItsHeaders() {
        for name in [
            "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-max-retries", "x-envoy-retriable-status-codes",
            "x-envoy-retriable-header-names", "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms",
            "x-envoy-hedge-on-per-try-timeout",
        ] {
            #expect(RetryPlan.consumedHeaders.contains(name), "\(name)")
        }
        #expect(!RetryPlan.consumedHeaders.contains("x-envoy-expected-rq-timeout-ms"))
    }
}
