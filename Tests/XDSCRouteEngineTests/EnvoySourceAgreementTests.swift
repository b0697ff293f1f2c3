import Testing
import XDSCTestSupport

@testable import XDSCEnvoy
@testable import XDSCRequest
@testable import XDSCRouteEngine

/// Places where the engine differed from Envoy's source (docs/route-engine.md, "Checked
/// against Envoy's source"); each test failed before its fix.
@Suite struct EnvoySourceAgreementTests {
    func engine(_ routeAction: String, host: String = "") throws -> RouteEngine {
        RouteEngine(
            try readRouteTable(
                #"{"virtual_hosts":[{"name":"v","domains":["*"]"# + host + #","routes":[{"match":{"prefix":"/"},"#
                    + routeAction + "}]}]}"))
    }

    func request(_ path: String = "/p", headers: [HTTPHeader] = [], random: UInt64 = 0) -> EnvoyRequest {
        EnvoyRequest(authority: "old.example", path: path, headers: headers, randomValue: random)
    }

    /// `WeightedClusterEntry::finalizeRequestHeaders`: the entry's `host_rewrite_literal` is a
    /// plain `setHost`, unlike the route's (`updateAuthority`).
    @Test func weightedEntryHostRewriteKeepsNoOriginalHost() throws {
        let e = try engine(
            #""route":{"append_x_forwarded_host":true,"weighted_clusters":{"clusters":[{"name":"w","weight":1,"host_rewrite_literal":"new.example"}]}}"#
        )
        let h = e.decide(request()).requestHeaders
        #expect(h.first(":authority") == "new.example")
        #expect(h.first("x-envoy-original-host") == nil)
        #expect(h.first("x-forwarded-host") == nil)
        // The route's own literal still records the old host, here the entry's.
        let both = try engine(
            #""route":{"host_rewrite_literal":"route.example","weighted_clusters":{"clusters":[{"name":"w","weight":1,"host_rewrite_literal":"new.example"}]}}"#
        )
        let b = both.decide(request()).requestHeaders
        #expect(b.first(":authority") == "route.example" && b.first("x-envoy-original-host") == "new.example")
    }

    /// `Http::Utility::updateAuthority`: the old host is appended to `x-forwarded-host` only
    /// when it is not already the last value.
    @Test func forwardedHostIsAppendedOnlyWhenNotAlreadyLast() throws {
        let e = try engine(#""route":{"cluster":"c","host_rewrite_literal":"new.example","append_x_forwarded_host":true}"#)
        let same = e.decide(request(headers: [HTTPHeader("x-forwarded-host", "a.example,old.example")])).requestHeaders
        #expect(same.get("x-forwarded-host") == "a.example,old.example")
        let other = e.decide(request(headers: [HTTPHeader("x-forwarded-host", "a.example")])).requestHeaders
        #expect(other.get("x-forwarded-host") == "a.example,old.example")
        #expect(other.first("x-envoy-original-host") == "old.example")
    }

    /// `finalizeHostHeader`: a host rewrite that produces an empty name rewrites nothing.
    @Test func emptyPathRegexHostRewriteLeavesTheHost() throws {
        let e = try engine(
            #""route":{"cluster":"c","host_rewrite_path_regex":{"pattern":{"regex":".*"},"substitution":""}}"#)
        let d = e.decide(request())
        #expect(d.requestHeaders.first(":authority") == "old.example")
        #expect(d.requestHeaders.first("x-envoy-original-host") == nil)
    }

    /// `pickWeightedCluster` reads `header_name` with `absl::SimpleAtoi` (whitespace allowed).
    @Test func weightedHeaderValueIsParsedAsSimpleAtoi() throws {
        let e = try engine(
            #""route":{"weighted_clusters":{"header_name":"x-pick","clusters":[{"name":"a","weight":1},{"name":"b","weight":1}]}}"#)
        #expect(e.decide(request(headers: [HTTPHeader("x-pick", " 1 ")])).cluster == "b")
        #expect(e.decide(request(headers: [HTTPHeader("x-pick", "-1")])).cluster == "a")
        #expect(HeaderMatcher.simpleAtoiUnsigned("+18446744073709551615") == .max)
        #expect(HeaderMatcher.simpleAtoiUnsigned("18446744073709551616") == nil)
    }

    /// `Http::Utility::newUri`: the scheme of the original URL is `:scheme`, not
    /// `x-forwarded-proto` (which only decides whether the default port is dropped).
    @Test func redirectKeepsTheRequestScheme() throws {
        let e = try engine(#""redirect":{"host_redirect":"to.example"}"#)
        let d = e.decide(request(headers: [HTTPHeader("x-forwarded-proto", "https")]))
        guard case .redirect(let r) = d.outcome else {
            Issue.record("not a redirect: \(d.outcome)")
            return
        }
        #expect(r.location == "http://to.example/p")
    }

    /// `HeaderParser::evaluateHeaders` overwrites with `setReferenceKey`: remove, then add at
    /// the end.
    @Test func overwrittenHeaderMovesToTheEnd() throws {
        let e = try engine(
            #""route":{"cluster":"c"},"request_headers_to_add":[{"header":{"key":"x-a","value":"9"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"}]"#
        )
        let h = e.decide(request(headers: [HTTPHeader("x-a", "1"), HTTPHeader("x-b", "2"), HTTPHeader("x-a", "3")])).requestHeaders
        #expect(h.entries.suffix(2).map(\.name) == ["x-b", "x-a"])
        #expect(h.values("x-a") == ["9"])
    }

    /// `Filter::decodeHeaders` (router.cc): `Location` is added on 201 and 3xx only when the
    /// request has a `:path` (the URI is not computed otherwise).
    @Test func locationNeedsAPath() throws {
        let e = try engine(#""direct_response":{"status":201}"#)
        #expect(e.decide(request()).responseHeaders.first("location") == "http://old.example/p")
        // A CONNECT route answering a path-less CONNECT.
        let c = RouteEngine(
            try readRouteTable(
                #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"connect_matcher":{}},"direct_response":{"status":201}}]}]}"#
            ))
        let d = c.decide(EnvoyRequest(method: "CONNECT", authority: "old.example", path: nil))
        #expect(d.outcome.localStatus == 201)
        #expect(d.responseHeaders.first("location") == nil)
        let ok = try engine(#""direct_response":{"status":200}"#)
        #expect(ok.decide(request()).responseHeaders.first("location") == nil)
    }

    /// `VirtualHostImpl::getRouteFromEntries`: an empty `x-forwarded-proto` is no route, as a
    /// missing one is (`scheme.empty()`).
    @Test func emptyForwardedProtoIsNoRoute() throws {
        let e = try engine(#""route":{"cluster":"c"}"#)
        let r = request(headers: [HTTPHeader("x-forwarded-proto", "")])
        #expect(e.decide(r).outcome == .noRoute(.missingForwardedProto))
        #expect(e.select(r).outcome == .noRoute(.missingForwardedProto))
    }

    /// `processRequestHost` (utility.cc): the schemes compare exactly, but the protocol's
    /// default port is recognised case-insensitively (`schemeIsHttps`).
    @Test func httpsPortRuleIgnoresTheProtocolsCase() throws {
        let e = try engine(#""redirect":{"https_redirect":true}"#)
        let r = EnvoyRequest(authority: "old.example:443", path: "/p", headers: [HTTPHeader("x-forwarded-proto", "HTTPS")])
        guard case .redirect(let red) = e.decide(r).outcome else {
            Issue.record("not a redirect")
            return
        }
        #expect(red.location == "https://old.example/p")
    }

    /// `Filter::decodeHeaders` (router.cc) starts no shadow for a CONNECT request; other
    /// requests take the route's policies, else the virtual host's.
    @Test func connectIsNeverMirrored() throws {
        let e = try engine(
            #""route":{"cluster":"c"}"#, host: #","request_mirror_policies":[{"cluster":"shadow"}]"#)
        #expect(e.decide(request()).mirrors.map(\.cluster) == ["shadow"])
        let connect = EnvoyRequest(method: "CONNECT", authority: "old.example", path: "/p")
        #expect(e.decide(connect).mirrors.isEmpty)
    }

    /// `RouteEntryImplBase`: `timeout` defaults to 15 s (`DEFAULT_ROUTE_TIMEOUT_MS`), `0s`
    /// is kept (it disables the timeout); only the route's `hash_policy` applies.
    @Test func timeoutDefaultAndZero() throws {
        #expect(try engine(#""route":{"cluster":"c"}"#).decide(request()).timeout == .seconds(15))
        let zero = try engine(#""route":{"cluster":"c","timeout":"0s"}"#).decide(request())
        #expect(zero.timeout == .seconds(0))
        #expect(zero.timeoutOrigin != nil)
    }
}
