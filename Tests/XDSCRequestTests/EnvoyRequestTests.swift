import Testing
import XDSCJSON
import XDSCRequest

@Suite struct EnvoyRequestTests {
    @Test func curlCommandQuotesAndEncodes() {
        let w = EnvoyRequest(method: "POST", authority: "api.example.com", path: "/users?x='1'", headers: [HTTPHeader("x-env", "prod")])
        #expect(w.curlCommand == "curl -X POST -H 'x-env: prod' 'http://api.example.com/users?x='\\''1'\\'''")
        // A control byte and non-ASCII text are percent-encoded; `%` is kept as written.
        let raw = EnvoyRequest(authority: "h", path: "/a\u{1}é%41")
        #expect(raw.curlCommand == "curl 'http://h/a%01%C3%A9%41'")
        // A path-less request has an empty target; an absent authority an empty host.
        #expect(EnvoyRequest(method: "CONNECT", authority: nil, path: nil).curlCommand == "curl -X CONNECT 'http://'")
    }

    @Test func headerNamesAreLowerCasedAndHeaderMapOrderIsEnvoys() {
        let r = EnvoyRequest(authority: "h", path: "/p", headers: [HTTPHeader("X-A", "1"), HTTPHeader("x-a", "2")], isInternal: true)
        #expect(r.headers.map(\.name) == ["x-a", "x-a"])
        let m = r.headerMap
        #expect(
            m.entries.map(\.name) == [":authority", ":path", ":method", "x-forwarded-proto", ":scheme", "x-envoy-internal", "x-a", "x-a"])
        #expect(m.get("X-A") == "1,2")
        #expect(m.first("x-a") == "1")
        #expect(m.get("x-forwarded-proto") == "http")
    }

    @Test func queryParametersAreReadAsEnvoyReadsThem() {
        let r = EnvoyRequest(authority: "h", path: "/p?a=b=c&e&x=1#f")
        #expect(r.queryParameter("a") == "b=c")
        #expect(r.queryParameter("e") == "")
        #expect(r.queryParameter("x") == "1#f")
        #expect(r.queryParameter("missing") == nil)
        #expect(EnvoyRequest.pathWithoutQuery("/p?q#f") == "/p")
        #expect(EnvoyRequest.pathWithoutQuery("/p#f?q") == "/p")
        #expect(EnvoyRequest(authority: "h", path: nil).queryParameter("a") == nil)
    }

    @Test func equalRequestsHashEqualAndMetadataCounts() {
        var a = EnvoyRequest(authority: "h", path: "/")
        let b = a
        #expect(Set([a, b]).count == 1)
        a.dynamicMetadata = ["ns": .object(["k": .string("v")])]
        #expect(a != b)
    }
}
