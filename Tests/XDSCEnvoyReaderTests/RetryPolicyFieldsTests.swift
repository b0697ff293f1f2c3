import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader

/// The retry policy fields the embedded proxy executes (`retriable_headers`,
/// `retriable_request_headers`, `retry_back_off`, `rate_limited_retry_back_off`) are read into
/// the model and written back, and what Envoy refuses is an error at its position.
@Suite struct RetryPolicyFieldsTests {
    static func policy(_ body: String) -> String {
        table(route: #"{"match": {"prefix": "/"}, "route": {"cluster": "c", "retry_policy": "# + body + "}}")
    }

    static func retryPolicy(_ c: EnvoyConfig) -> RetryPolicy? {
        guard case .route(let a)? = c.routeConfigurations.first?.virtualHosts.first?.routes.first?.action else { return nil }
        return a.retryPolicy
    }

    @Test func theFieldsAreReadAndWrittenBack() throws {
        let (c, ds) = read(
            Self.policy(
                #"""
                {"retry_on": "retriable-headers,unavailable",
                 "retriable_headers": [{"name": "X-Verdict", "string_match": {"exact": "retry"}}],
                 "retriable_request_headers": [{"name": ":method", "string_match": {"exact": "GET"}}],
                 "retry_back_off": {"base_interval": "0.1s", "max_interval": "2s"},
                 "rate_limited_retry_back_off": {"reset_headers": [{"name": "Retry-After"},
                   {"name": "X-RateLimit-Reset", "format": "UNIX_TIMESTAMP"}], "max_interval": "30s"}}
                """#), file: "rc.json")
        #expect(ds.isEmpty, "\(summary(ds))")
        let p = try #require(Self.retryPolicy(c))
        #expect(p.retriableHeaders == [HeaderMatcher(name: "x-verdict", .string(StringMatcher(.exact("retry"))))])
        #expect(p.retriableRequestHeaders.map(\.name) == [":method"])
        #expect(p.backOff == RetryBackOff(baseInterval: .milliseconds(100), maxInterval: .seconds(2)))
        #expect(
            p.rateLimitedBackOff
                == RateLimitedRetryBackOff(
                    resetHeaders: [.init(name: "retry-after"), .init(name: "x-ratelimit-reset", format: .unixTimestamp)],
                    maxInterval: .seconds(30)))
        let json = p.json.compactText()
        #expect(json.contains(#""retry_back_off":{"base_interval":"0.100s","max_interval":"2s"}"#), "\(json)")
        #expect(json.contains(#""reset_headers":[{"name":"retry-after"},{"name":"x-ratelimit-reset","format":"UNIX_TIMESTAMP"}]"#))
        #expect(json.contains(#""retriable_headers":[{"name":"x-verdict""#))
        // Read back, the same policy.
        let (again, more) = read(Self.policy(json), file: "rc.json")
        #expect(more.isEmpty, "\(summary(more))")
        #expect(Self.retryPolicy(again) == p)
    }

    @Test func whatEnvoyRefusesIsAnError() {
        for (body, message) in [
            (#"{"retry_back_off": {"max_interval": "1s"}}"#, "`RetryBackOff` needs `base_interval`"),
            (#"{"retry_back_off": {"base_interval": "0s"}}"#, "`base_interval` must be above 0"),
            (
                #"{"retry_back_off": {"base_interval": "2s", "max_interval": "1s"}}"#,
                "`max_interval` (1s) is below `base_interval` (2s); Envoy refuses the retry policy"
            ),
            (
                #"{"rate_limited_retry_back_off": {"max_interval": "1s"}}"#,
                "`RateLimitedRetryBackOff` needs at least one of `reset_headers`"
            ),
            (#"{"rate_limited_retry_back_off": {"reset_headers": [{"name": ""}]}}"#, "a reset header's `name` must not be empty"),
        ] {
            let (c, ds) = read(Self.policy(body), file: "rc.json")
            let errors = ds.filter { $0.severity == .error }
            #expect(errors.map(\.message).contains(message), "\(body): \(errors.map(\.message))")
            #expect(Self.retryPolicy(c)?.backOff == nil && Self.retryPolicy(c)?.rateLimitedBackOff == nil)
        }
    }
}
