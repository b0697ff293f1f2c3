import Testing
import XDSCTestSupport

@testable import XDSCDriver
@testable import XDSCEnvoy
@testable import XDSCRequest
@testable import XDSCRouteEngine

/// Origins are recorded as host and route indexes plus a field and spelled out on demand:
/// the spelled paths must be the proto field paths, for every level.
@Suite struct RouteEngineOriginTests {
    @Test func originPathsNameTheProtoFields() throws {
        let e = RouteEngine(
            try readRouteTable(
                #"{"request_headers_to_add":[{"header":{"key":"x-c","value":"1"}}],"virtual_hosts":[{"name":"v","domains":["*"],"#
                    + #""request_headers_to_remove":["x-gone"],"routes":[{"match":{"prefix":"/a"},"route":{"cluster":"a"}},"#
                    + #"{"match":{"prefix":"/"},"route":{"timeout":"3s","weighted_clusters":{"clusters":[{"name":"w0","weight":1},"#
                    + #"{"name":"w1","weight":1,"request_headers_to_add":[{"header":{"key":"x-w","value":"1"}}]}]}}}]}]}"#))
        let d = e.decide(EnvoyRequest(authority: "h", path: "/b", randomValue: 1))
        guard case .forward(let f) = d.outcome else {
            Issue.record("not forwarded: \(d.outcome)")
            return
        }
        #expect(f.cluster == "w1")
        #expect(f.origin.path == "virtual_hosts[0].routes[1].route.weighted_clusters.clusters[1]")
        #expect(d.routeOrigin?.path == "virtual_hosts[0].routes[1]")
        #expect(d.virtualHost?.origin.path == "virtual_hosts[0]")
        #expect(d.timeoutOrigin?.path == "virtual_hosts[0].routes[1].route.timeout")
        if case .weighted(let pick) = f.choice {
            #expect(pick.entries.map(\.origin.path) == (0..<2).map { "virtual_hosts[0].routes[1].route.weighted_clusters.clusters[\($0)]" })
        } else {
            Issue.record("not a weighted pick: \(f.choice)")
        }
        #expect(
            d.mutations.map(\.origin.path) == [
                "virtual_hosts[0].routes[1].route.weighted_clusters.clusters[1].request_headers_to_add[0]",
                "virtual_hosts[0].request_headers_to_remove[0]", "request_headers_to_add[0]",
            ])
        // The traced decision names every route tried.
        #expect(
            e.decide(EnvoyRequest(authority: "h", path: "/b")).attempts.map(\.origin.path) == [
                "virtual_hosts[0].routes[0]", "virtual_hosts[0].routes[1]",
            ])
    }

    @Test func originsCompareByTheirSpelledPath() {
        #expect(Origin(.route(host: 1, route: 2), ".route") == Origin("virtual_hosts[1].routes[2].route"))
        #expect(Origin(.host(1), ".cors") != Origin(.host(2), ".cors"))
        var o = Origin(.host(3), ".retry_policy")
        o.path = "elsewhere"
        #expect(o.path == "elsewhere")
    }

    /// `removeQueryAndFragment` cuts at the first `?` byte: a combining mark after the `?`
    /// (one Swift `Character` with it) does not hide the query.
    @Test func queryEndsThePathEvenBeforeACombiningMark() throws {
        let e = RouteEngine(
            try readRouteTable(
                #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"path":"/a"},"route":{"cluster":"exact"}}]}]}"#))
        for trace in [true, false] {
            #expect(e.decide(EnvoyRequest(authority: "h", path: "/a?\u{301}x=1"), trace: trace).cluster == "exact")
        }
    }
}
