import Testing
import XDSCRequest

@Suite struct HeaderMapTests {
    /// The router's control headers are looked up only when a name starts with `x-envoy-`;
    /// a name that only looks like one (`x-envoy`, `x-envoyx-…`) does not count.
    @Test func envoyHeadersAreSeenOnlyWhenPresent() {
        let none = HeaderMap([HTTPHeader("x-request-id", "1"), HTTPHeader("x-envoy", "2"), HTTPHeader("x-envoyx-retry-on", "5xx")])
        #expect(!none.hasEnvoyHeaders)
        #expect(none.envoyHeader("x-envoy-retry-on", present: none.hasEnvoyHeaders) == nil)
        let some = HeaderMap([HTTPHeader("host", "h"), HTTPHeader("x-envoy-retry-on", "5xx"), HTTPHeader("x-envoy-retry-on", "reset")])
        #expect(some.hasEnvoyHeaders)
        // As `get`: repeats joined with `,`.
        #expect(some.envoyHeader("x-envoy-retry-on", present: some.hasEnvoyHeaders) == "5xx,reset")
        #expect(some.envoyHeader("x-envoy-retry-on", present: false) == nil)
    }

    /// The prefix is compared as one word: each of its eight bytes counts, the bare prefix is
    /// not a control header, and a long (heap-stored) name is read like a short one.
    @Test(arguments: [
        ("x-envoy-a", true), ("x-envoy-", false), ("x-envoy", false), ("y-envoy-a", false), ("x-envoy_a", false),
        ("X-envoy-a", false), ("x-envoy-upstream-rq-per-try-timeout-ms", true), ("x-forwarded-for-and-a-long-tail", false),
    ])
    func envoyNamesAreRecognisedByTheirFirstEightBytes(name: String, isEnvoy: Bool) {
        #expect(HeaderMap([HTTPHeader(lowerCaseName: name, "v")]).hasEnvoyHeaders == isEnvoy)
    }
}
