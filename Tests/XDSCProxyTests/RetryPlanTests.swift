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

    /// A per-try (idle) timeout is a local reset (router.cc `onPerTryTimeoutCommon`):
    /// retried under `5xx`, `gateway-error` and `reset`, not `connect-failure`.
    @Test func aPerTryTimeoutIsRetriedAsALocalReset() {
        for (on, retried) in [
            ("5xx", true), ("gateway-error", true), ("reset", true), ("connect-failure", false), ("retriable-4xx", false),
        ] {
            #expect(RetryPlan(RetryPolicy(retryOn: [on])).retries(.perTryTimeout) == retried, "\(on)")
        }
    }

    /// `host_selection_retry_max_attempts`: 0 keeps Envoy's 1; other values as a uint32.
    @Test func hostSelectionAttempts() {
        var p = RetryPolicy(retryOn: ["5xx"])
        p.retryHostPredicates = [.previousHosts]
        #expect(RetryPlan(p).avoidsPreviousHosts && RetryPlan(p).retryPicks == 2)
        p.hostSelectionRetryMaxAttempts = 0
        #expect(RetryPlan(p).retryPicks == 2)
        p.hostSelectionRetryMaxAttempts = 4
        #expect(RetryPlan(p).retryPicks == 5)
        p.hostSelectionRetryMaxAttempts = -1
        #expect(RetryPlan(p).retryPicks == 1000)
        p.perTryIdleTimeout = .milliseconds(250)
        #expect(RetryPlan(p).perTryIdleTimeout == 250_000_000)
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

    static func response(_ pairs: [(String, String)]) -> [(name: String, value: String)] { pairs.map { (name: $0.0, value: $0.1) } }

    /// `retry_on` holds the gRPC conditions too (`RetryPolicyImpl` parses it both ways), and
    /// `x-envoy-retry-grpc-on` adds the ones it knows: a `grpc-status` in the response headers
    /// (a trailers-only answer) is retried when its condition is on.
    @Test func grpcStatusesInTheHeadersAreRetriedOnTheirCondition() {
        let plan = RetryPlan(
            RetryPolicy(retryOn: ["unavailable, resource-exhausted"]),
            headers: Self.headers([("x-envoy-retry-grpc-on", "cancelled, bogus,,deadline-exceeded")]))
        #expect(plan.retryOn == ["unavailable", "resource-exhausted", "cancelled", "deadline-exceeded"])
        for (code, retried) in [("14", true), ("8", true), ("1", true), ("4", true), ("13", false), ("0", false), (" 14 ", true)] {
            #expect(plan.retries(status: 200, headers: Self.response([("grpc-status", code)])) == retried, "grpc-status \(code)")
        }
        // Unparsable or above 16: `InvalidCode`, which no condition names; absent: nothing to read.
        #expect(!plan.retries(status: 200, headers: Self.response([("grpc-status", "14x")])))
        #expect(!plan.retries(status: 200, headers: Self.response([("grpc-status", "30")])))
        #expect(!plan.retries(status: 200, headers: []))
        // `internal` only through its own condition; an HTTP condition is not a gRPC one.
        let grpcInternal = RetryPlan(nil, headers: Self.headers([("x-envoy-retry-grpc-on", "internal")]))
        #expect(grpcInternal.numRetries == 1, "a header condition without a policy retries once")
        #expect(grpcInternal.retries(status: 200, headers: Self.response([("grpc-status", "13")])))
        #expect(
            !RetryPlan(RetryPolicy(retryOn: ["5xx"]), headers: HeaderMap()).retries(
                status: 200, headers: Self.response([("grpc-status", "14")])))
        // gRPC values are not `x-envoy-retry-on` values.
        #expect(RetryPlan(nil, headers: Self.headers([("x-envoy-retry-on", "unavailable")])).retryOn.isEmpty)
    }

    /// `retriable-headers`: the policy's matchers and a name-only matcher per
    /// `x-envoy-retriable-header-names` entry, on every value of the header joined.
    @Test func retriableHeadersMatchTheResponse() {
        var policy = RetryPolicy(retryOn: ["retriable-headers"])
        policy.retriableHeaders = [HeaderMatcher(name: "x-verdict", .string(StringMatcher(.exact("retry"))))]
        let plan = RetryPlan(policy, headers: Self.headers([("x-envoy-retriable-header-names", " X-Try-Again ,, ")]))
        #expect(plan.retriableHeaders.map(\.name) == ["x-verdict", "x-try-again"])
        #expect(plan.retries(status: 200, headers: Self.response([("x-verdict", "retry")])))
        #expect(!plan.retries(status: 200, headers: Self.response([("x-verdict", "done")])))
        // Two values are one, joined with `,`: no longer exactly `retry`.
        #expect(!plan.retries(status: 200, headers: Self.response([("x-verdict", "retry"), ("x-verdict", "again")])))
        #expect(plan.retries(status: 200, headers: Self.response([("x-try-again", "")])))
        // The matchers alone retry nothing: the condition must be on.
        var off = policy
        off.retryOn = ["5xx"]
        #expect(!RetryPlan(off, headers: HeaderMap()).retries(status: 200, headers: Self.response([("x-verdict", "retry")])))
    }

    /// A response from an upstream Envoy's rate limiter is retried only under
    /// `envoy-ratelimited`, whatever else would retry it.
    @Test func xEnvoyRatelimitedIsRetriedOnlyUnderItsCondition() {
        let limited = Self.response([("x-envoy-ratelimited", "true")])
        let fivexx = RetryPlan(RetryPolicy(retryOn: ["5xx", "retriable-status-codes"], retriableStatusCodes: [429]), headers: HeaderMap())
        #expect(fivexx.retries(status: 503, headers: []))
        #expect(!fivexx.retries(status: 503, headers: limited))
        #expect(!fivexx.retries(status: 429, headers: limited))
        let on = RetryPlan(RetryPolicy(retryOn: ["envoy-ratelimited"]), headers: HeaderMap())
        #expect(on.retries(status: 429, headers: limited))
        #expect(on.retries(status: 200, headers: limited))
        #expect(!on.retries(status: 503, headers: []))
    }

    /// `retriable_request_headers`: a request matching none of them is not retried at all,
    /// and then `x-envoy-max-retries` does not apply either.
    @Test func retriableRequestHeadersGateEveryCondition() {
        var policy = RetryPolicy(retryOn: ["5xx"], numRetries: 2)
        policy.retriableRequestHeaders = [
            HeaderMatcher(name: "x-idempotent", nil), HeaderMatcher(name: ":method", .string(StringMatcher(.exact("GET")))),
        ]
        let unmarked = RetryPlan(policy, headers: Self.headers([(":method", "POST"), ("x-envoy-retry-on", "reset")]))
        #expect(unmarked.retryOn.isEmpty)
        #expect(!unmarked.retries(status: 503))
        #expect(RetryPlan(policy, headers: Self.headers([(":method", "POST"), ("x-idempotent", "1")])).retries(status: 503))
        #expect(RetryPlan(policy, headers: Self.headers([(":method", "GET")])).retries(status: 503))
    }

    /// `wouldRetryFromReset`: REFUSED_STREAM under `refused-stream` (and the reset
    /// conditions); `reset-before-request` retries a failed connect only.
    @Test func resetsAndRefusedStreams() {
        let refused = RetryPlan(nil, headers: Self.headers([("x-envoy-retry-on", "refused-stream")]))
        #expect(refused.retries(.refusedStream))
        #expect(!refused.retries(.connectionTermination))
        #expect(!refused.retries(.connectionFailure))
        #expect(RetryPlan(RetryPolicy(retryOn: ["reset"]), headers: HeaderMap()).retries(.refusedStream))
        #expect(!RetryPlan(RetryPolicy(retryOn: ["connect-failure"]), headers: HeaderMap()).retries(.refusedStream))
        let before = RetryPlan(RetryPolicy(retryOn: ["reset-before-request"]), headers: HeaderMap())
        #expect(before.retries(.connectionFailure))
        #expect(before.retries(.transportFailure("x")))
        #expect(!before.retries(.connectionTermination))
        #expect(!before.retries(.refusedStream))
    }

    /// `JitteredExponentialBackOffStrategy`: a random wait below base * 2^n, capped at
    /// `max_interval` (ten times the base by default); `retry_back_off` sets both, rounded up
    /// to whole milliseconds.
    @Test func exponentialBackOff() {
        let plan = RetryPlan(RetryPolicy(retryOn: ["5xx"]), headers: HeaderMap())
        let ms: Int64 = 1_000_000
        // `random` one below a multiple of every range (3 s): the wait is the range less 1 ns.
        let top: UInt64 = 3_000_000_000 - 1
        let waits = (0..<6).map { plan.backOff(after: nil, step: $0, defaultBase: 25 * ms, random: top, now: 0).wait }
        #expect(waits == [25, 50, 100, 200, 250, 250].map { $0 * ms - 1 })
        var policy = RetryPolicy(retryOn: ["5xx"])
        policy.backOff = RetryBackOff(baseInterval: EnvoyDuration(nanoseconds: 100), maxInterval: .milliseconds(3))
        let own = RetryPlan(policy, headers: HeaderMap())
        #expect(own.baseInterval == ms, "a sub-millisecond base is 1 ms")
        let capped = (0..<4).map { own.backOff(after: nil, step: $0, defaultBase: 25 * ms, random: top, now: 0).wait }
        #expect(capped == [1, 2, 3, 3].map { $0 * ms - 1 })
        #expect(!own.backOff(after: nil, step: 0, defaultBase: 25 * ms, random: 0, now: 0).rateLimited)
    }

    /// `rate_limited_retry_back_off`: the first reset header with an interval above 1 ms and
    /// within `max_interval` (300 s by default) sets a wait from the interval to 1.5 times
    /// it; otherwise the exponential back-off applies.
    @Test func rateLimitedBackOffFromTheResetHeaders() {
        var policy = RetryPolicy(retryOn: ["5xx"])
        policy.rateLimitedBackOff = RateLimitedRetryBackOff(
            resetHeaders: [.init(name: "retry-after"), .init(name: "x-ratelimit-reset", format: .unixTimestamp)],
            maxInterval: .seconds(10))
        let plan = RetryPlan(policy, headers: HeaderMap())
        let now: UInt64 = 1_700_000_000
        func wait(_ pairs: [(String, String)], random: UInt64 = 0) -> (wait: Int64, rateLimited: Bool) {
            plan.backOff(after: Self.response(pairs), step: 0, defaultBase: 25_000_000, random: random, now: now)
        }
        #expect(wait([("retry-after", "2")]) == (2_000_000_000, true))
        #expect(wait([("retry-after", "2")], random: 999) == (2_999_000_000, true), "at most 1.5 times the interval")
        #expect(wait([("x-ratelimit-reset", String(now + 3))]) == (3_000_000_000, true))
        // In the past, over the maximum, 0 s, or not a number: the next header, else exponential.
        #expect(wait([("x-ratelimit-reset", String(now - 1))]).rateLimited == false)
        #expect(wait([("retry-after", "11")]).rateLimited == false)
        #expect(wait([("retry-after", "0")]).rateLimited == false)
        #expect(wait([("retry-after", "soon"), ("x-ratelimit-reset", String(now + 1))]) == (1_000_000_000, true))
        // Only after a response; a reset gives none.
        #expect(plan.backOff(after: nil, step: 0, defaultBase: 25_000_000, random: 0, now: now).rateLimited == false)
    }
}
