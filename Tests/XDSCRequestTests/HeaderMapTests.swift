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
}
