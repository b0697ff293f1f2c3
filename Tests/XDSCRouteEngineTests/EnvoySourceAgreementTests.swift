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
        #expect(zero.expectedTimeout == nil)
    }

    func grpc(_ headers: [HTTPHeader] = []) -> EnvoyRequest {
        request(headers: [HTTPHeader("content-type", "application/grpc")] + headers)
    }

    /// `Grpc::Common::getGrpcTimeout` / `toGrpcTimeout` (source/common/grpc/common.cc).
    @Test func grpcTimeoutHeaderParsingAndWriting() {
        #expect(RouteEngine.grpcTimeout(nil) == nil)
        #expect(RouteEngine.grpcTimeout("") == nil)
        #expect(RouteEngine.grpcTimeout("1") == nil)
        #expect(RouteEngine.grpcTimeout("123") == nil)
        #expect(RouteEngine.grpcTimeout("123F") == nil)
        #expect(RouteEngine.grpcTimeout("0H") == 0)
        #expect(RouteEngine.grpcTimeout("1H") == 3_600_000)
        #expect(RouteEngine.grpcTimeout("2M") == 120_000)
        #expect(RouteEngine.grpcTimeout("3S") == 3000)
        #expect(RouteEngine.grpcTimeout("4m") == 4)
        #expect(RouteEngine.grpcTimeout("1001u") == 2)
        #expect(RouteEngine.grpcTimeout("1000u") == 1)
        #expect(RouteEngine.grpcTimeout("1000001n") == 2)
        #expect(RouteEngine.grpcTimeout("99999999S") == 99_999_999_000)
        #expect(RouteEngine.grpcTimeout("100000000S") == nil)
        #expect(RouteEngine.grpcTimeout("-1S") == nil)
        #expect(RouteEngine.grpcTimeout(" 5m") == 5)
        #expect(RouteEngine.grpcTimeoutText(0) == "0m")
        #expect(RouteEngine.grpcTimeoutText(99_999_999) == "99999999m")
        #expect(RouteEngine.grpcTimeoutText(100_000_000) == "100000S")
        #expect(RouteEngine.grpcTimeoutText(99_999_999 * 1000 + 1000) == "1666666M")
        #expect(RouteEngine.grpcTimeoutText(.max) == "99999999H")
    }

    /// `finalTimeout` with `max_grpc_timeout`: a gRPC request's timeout is its `grpc-timeout`
    /// less `grpc_timeout_offset` (only when that leaves more than 0), capped (0 is no cap,
    /// and no header takes the cap); the upstream `grpc-timeout` is rewritten to it. A
    /// request that is not gRPC keeps the route's `timeout`.
    @Test func maxGrpcTimeoutTakesTheGrpcTimeoutHeader() throws {
        let e = try engine(#""route":{"cluster":"c","timeout":"7s","max_grpc_timeout":"10s","grpc_timeout_offset":"0.1s"}"#)
        let d = e.decide(grpc([HTTPHeader("grpc-timeout", "2S")]))
        #expect(d.timeout == .milliseconds(1900))
        #expect(d.timeoutSource == .grpcTimeoutHeader)
        #expect(d.timeoutOrigin?.path == "virtual_hosts[0].routes[0].route.max_grpc_timeout")
        #expect(d.expectedTimeout == .milliseconds(1900))
        #expect(d.grpcTimeoutHeader == "1900m")
        let capped = e.decide(grpc([HTTPHeader("grpc-timeout", "1M")]))
        #expect(capped.timeout == .seconds(10) && capped.timeoutSource == .maxGrpcTimeout && capped.grpcTimeoutHeader == "10000m")
        #expect(e.decide(grpc()).timeout == .seconds(10))
        // An offset not below the header's value is not applied.
        #expect(e.decide(grpc([HTTPHeader("grpc-timeout", "50m")])).timeout == .milliseconds(50))
        let plain = e.decide(request(headers: [HTTPHeader("grpc-timeout", "2S")]))
        #expect(plain.timeout == .seconds(7) && plain.timeoutSource == .route && plain.grpcTimeoutHeader == nil)
        // No cap: without a header the timeout is none.
        let uncapped = try engine(#""route":{"cluster":"c","max_grpc_timeout":"0s"}"#)
        let none = uncapped.decide(grpc())
        #expect(none.timeout == .zero && none.expectedTimeout == nil && none.grpcTimeoutHeader == nil)
        #expect(uncapped.decide(grpc([HTTPHeader("grpc-timeout", "1H")])).timeout == .seconds(3600))
    }

    /// `x-envoy-upstream-rq-timeout-ms` and `x-envoy-upstream-rq-per-try-timeout-ms` replace
    /// the route's values when they parse; a per-try timeout not below the global one is
    /// dropped; `x-envoy-expected-rq-timeout-ms` is the per-try timeout, else the global one
    /// (`setTimeoutHeaders`), or the global one when hedging on per-try timeouts.
    @Test func timeoutHeadersAndTheExpectedTimeout() throws {
        let e = try engine(#""route":{"cluster":"c","timeout":"5s","retry_policy":{"retry_on":"5xx","per_try_timeout":"2s"}}"#)
        let d = e.decide(request())
        #expect(d.timeout == .seconds(5) && d.perTryTimeout == .seconds(2) && d.expectedTimeout == .seconds(2))
        let header = e.decide(request(headers: [HTTPHeader("x-envoy-upstream-rq-timeout-ms", "1500")]))
        #expect(header.timeout == .milliseconds(1500) && header.timeoutSource == .upstreamTimeoutHeader && header.timeoutOrigin == nil)
        // The 2 s per-try timeout is not below the new 1.5 s: dropped.
        #expect(header.perTryTimeout == nil && header.expectedTimeout == .milliseconds(1500))
        let bad = e.decide(request(headers: [HTTPHeader("x-envoy-upstream-rq-timeout-ms", "1.5")]))
        #expect(bad.timeout == .seconds(5) && bad.timeoutSource == .route)
        let perTry = e.decide(request(headers: [HTTPHeader("x-envoy-upstream-rq-per-try-timeout-ms", "300")]))
        #expect(perTry.perTryTimeout == .milliseconds(300) && perTry.expectedTimeout == .milliseconds(300))
        let tooLong = e.decide(request(headers: [HTTPHeader("x-envoy-upstream-rq-per-try-timeout-ms", "5000")]))
        #expect(tooLong.perTryTimeout == nil && tooLong.expectedTimeout == .seconds(5))
        let hedge = e.decide(request(headers: [HTTPHeader("x-envoy-hedge-on-per-try-timeout", "true")]))
        #expect(hedge.perTryTimeout == .seconds(2) && hedge.expectedTimeout == .seconds(5))
        // With no global timeout the per-try timeout stays and is the expected one.
        let noGlobal = try engine(#""route":{"cluster":"c","timeout":"0s","retry_policy":{"retry_on":"5xx","per_try_timeout":"2s"}}"#)
        #expect(noGlobal.decide(request()).perTryTimeout == .seconds(2))
        #expect(noGlobal.decide(request()).expectedTimeout == .seconds(2))
        // The headers as received count, not the route's request_headers_to_add.
        let added = try engine(
            #""route":{"cluster":"c"},"request_headers_to_add":[{"header":{"key":"x-envoy-upstream-rq-timeout-ms","value":"1"}}]"#)
        #expect(added.decide(request()).timeout == .seconds(15))
    }

    /// The router filter's settings (`RouteEngine.router`): `respect_expected_rq_timeout`
    /// reads `x-envoy-expected-rq-timeout-ms` instead of `x-envoy-upstream-rq-timeout-ms`
    /// (`finalTimeout`); `suppress_envoy_headers` writes no expected timeout and no
    /// `x-envoy-original-path` (`insert_envoy_original_path`).
    @Test func theRouterFilterSettings() throws {
        var e = try engine(#""route":{"cluster":"c","timeout":"5s","prefix_rewrite":"/new"}"#)
        // The engine is immutable: a changed setting is a new engine of the same table.
        func setting(_ change: (inout HttpConnectionManager.RouterFilterConfig) -> Void) {
            var router = e.router
            change(&router)
            e = RouteEngine(e.config, spans: e.spans, router: router)
        }
        let both = [HTTPHeader("x-envoy-expected-rq-timeout-ms", "700"), HTTPHeader("x-envoy-upstream-rq-timeout-ms", "900")]
        let plain = e.decide(request(headers: both))
        #expect(plain.timeout == .milliseconds(900) && plain.timeoutSource == .upstreamTimeoutHeader)
        #expect(plain.requestHeaders.get("x-envoy-original-path") != nil && plain.expectedTimeout == .milliseconds(900))
        setting { $0.respectExpectedRqTimeout = true }
        let respected = e.decide(request(headers: both))
        #expect(respected.timeout == .milliseconds(700) && respected.timeoutSource == .expectedTimeoutHeader)
        #expect(respected.expectedTimeout == .milliseconds(700))
        // Present but not a number: the route's timeout, and x-envoy-upstream-rq-timeout-ms is still not read.
        let bad = e.decide(request(headers: [HTTPHeader("x-envoy-expected-rq-timeout-ms", "soon"), both[1]]))
        #expect(bad.timeout == .seconds(5) && bad.timeoutSource == .route)
        #expect(e.decide(request(headers: [both[1]])).timeout == .milliseconds(900), "without it, the other header")
        setting { $0.suppressEnvoyHeaders = true }
        let quiet = e.decide(request())
        #expect(quiet.timeout == .seconds(5) && quiet.expectedTimeout == nil)
        #expect(quiet.requestHeaders.get("x-envoy-original-path") == nil)
        #expect(quiet.requestHeaders.get(":path")?.hasPrefix("/new") == true)
    }

    /// `max_stream_duration` (`usingNewTimeouts`): the router sets no timeout of its own;
    /// the connection manager's stream timer is `max_stream_duration` (0 disables it), or,
    /// with `grpc_timeout_header_max` and a readable `grpc-timeout`, that value capped then
    /// less `grpc_timeout_header_offset` (down to 0); a gRPC request's upstream
    /// `grpc-timeout` becomes the timer's value (`refreshDurationTimeout`).
    @Test func maxStreamDurationTurnsTheRouterTimeoutOff() throws {
        let e = try engine(
            #""route":{"cluster":"c","timeout":"3s","max_grpc_timeout":"1s","max_stream_duration":{"max_stream_duration":"20s","grpc_timeout_header_max":"8s","grpc_timeout_header_offset":"1s"}}"#
        )
        let plain = e.decide(request())
        #expect(plain.timeout == .zero && plain.timeoutSource == .maxStreamDuration && plain.expectedTimeout == nil)
        #expect(plain.streamDuration == .seconds(20) && plain.grpcTimeoutHeader == nil)
        #expect(plain.streamDurationOrigin?.path == "virtual_hosts[0].routes[0].route.max_stream_duration")
        let g = e.decide(grpc([HTTPHeader("grpc-timeout", "5S")]))
        #expect(g.streamDuration == .seconds(4) && g.grpcTimeoutHeader == "4000m" && g.timeout == .zero)
        #expect(e.decide(grpc([HTTPHeader("grpc-timeout", "1M")])).streamDuration == .seconds(7))
        #expect(e.decide(grpc([HTTPHeader("grpc-timeout", "500m")])).streamDuration == .zero)
        #expect(e.decide(grpc()).streamDuration == .seconds(20))
        // The header counts on any request; the upstream header is rewritten only for gRPC.
        let notGrpc = e.decide(request(headers: [HTTPHeader("grpc-timeout", "5S")]))
        #expect(notGrpc.streamDuration == .seconds(4) && notGrpc.grpcTimeoutHeader == nil)
        // `x-envoy-upstream-rq-timeout-ms` still sets the router's timeout.
        #expect(e.decide(request(headers: [HTTPHeader("x-envoy-upstream-rq-timeout-ms", "100")])).timeout == .milliseconds(100))
        let off = try engine(#""route":{"cluster":"c","max_stream_duration":{"max_stream_duration":"0s"}}"#).decide(grpc())
        #expect(off.streamDuration == nil && off.timeout == .zero && off.grpcTimeoutHeader == nil)
        let empty = try engine(#""route":{"cluster":"c","max_stream_duration":{}}"#).decide(request())
        #expect(empty.streamDuration == nil && empty.timeout == .zero)
        // Read back into the same JSON.
        let rc = try readRouteTable(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c","max_grpc_timeout":"1s","grpc_timeout_offset":"0.5s","max_stream_duration":{"max_stream_duration":"2s","grpc_timeout_header_max":"3s","grpc_timeout_header_offset":"0.25s"}}}]}]}"#
        )
        guard case .route(let a) = rc.virtualHosts[0].routes[0].action else {
            Issue.record("not a route action")
            return
        }
        #expect(a.maxGrpcTimeout == .seconds(1) && a.grpcTimeoutOffset == .milliseconds(500))
        #expect(
            a.maxStreamDuration
                == MaxStreamDuration(
                    maxStreamDuration: .seconds(2), grpcTimeoutHeaderMax: .seconds(3), grpcTimeoutHeaderOffset: .milliseconds(250)))
        #expect(a.json["max_stream_duration"]?["grpc_timeout_header_max"] == .string("3s"))
        // The rule itself (`using_new_timeouts_`: `has_max_stream_duration()`), an empty one included.
        #expect(RouteEngine.usesNewTimeouts(a))
        var none = a
        none.maxStreamDuration = nil
        #expect(!RouteEngine.usesNewTimeouts(none))
        none.maxStreamDuration = MaxStreamDuration()
        #expect(RouteEngine.usesNewTimeouts(none))
    }

    /// `shouldShadow` (router.cc) with `ShadowPolicyImpl`'s defaults: a mirror without
    /// `runtime_fraction` always fires; one with a fraction fires when the request's random
    /// value (the stream id) falls below the numerator over the denominator.
    @Test func mirrorsFireByTheirRuntimeFraction() throws {
        let e = try engine(
            #""route":{"cluster":"c","request_mirror_policies":[{"cluster":"all"},{"cluster":"some","runtime_fraction":{"default_value":{"numerator":25},"runtime_key":"mirror.some"}},{"cluster":"fine","runtime_fraction":{"default_value":{"numerator":5,"denominator":"TEN_THOUSAND"}}}]}"#
        )
        #expect(e.decide(request(random: 3)).mirrorsFiring == [true, true, true])
        #expect(e.decide(request(random: 24)).mirrorsFiring == [true, true, false])
        #expect(e.decide(request(random: 25)).mirrorsFiring == [true, false, false])
        #expect(e.decide(request(random: 10_004)).mirrorsFiring == [true, true, true])
        #expect(e.decide(request(random: 10_005)).mirrorsFiring == [true, true, false])
        #expect(e.decide(request(random: 24)).mirrors.map(\.cluster) == ["all", "some", "fine"])
        // The route-check tool's runtime: only the test's key, never the key-less default.
        let tool = e.decide(request(random: 24), semantics: .routerCheckTool(runtimeKey: "mirror.some"))
        #expect(tool.mirrorsFiring == [false, true, false])
        #expect(e.decide(request(random: 24), semantics: .routerCheckTool(runtimeKey: nil)).mirrorsFiring == [false, false, false])
        // A host's mirrors fire the same way; CONNECT is never mirrored.
        let host = try engine(
            #""route":{"cluster":"c"}"#,
            host: #","request_mirror_policies":[{"cluster":"h","runtime_fraction":{"default_value":{"numerator":50}}}]"#)
        #expect(host.decide(request(random: 149)).mirrorsFiring == [true])
        #expect(host.decide(request(random: 150)).mirrorsFiring == [false])
        let connect = host.decide(EnvoyRequest(method: "CONNECT", authority: "old.example", path: "/"))
        #expect(connect.cluster == "c" && connect.mirrors.isEmpty && connect.mirrorsFiring.isEmpty)
    }
}
