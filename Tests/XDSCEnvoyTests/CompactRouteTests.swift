import Testing
import XDSCDiagnostics
import XDSCJSON

@testable import XDSCEnvoy

/// Issue 13: a route of the Envoy model stays small (its rare parts live out of line, in
/// boxes shared by copies), and the boxed fields read, write, copy and compare as stored
/// fields did.
@Suite struct CompactRouteTests {
    @Test func routesAreCompact() {
        // A large table holds one `Route` per route inline in its virtual host's array.
        #expect(MemoryLayout<RouteMatch>.size <= 48)
        #expect(MemoryLayout<RouteAction>.size <= 48)
        #expect(MemoryLayout<Route>.size <= 160)
    }

    @Test func boxedRouteFieldsReadBackAndCopiesAreIndependent() {
        var a = Route(match: RouteMatch(.prefix("/")), action: .route(RouteAction(.cluster("c"))))
        #expect(a.typedPerFilterConfig.isEmpty && a.requestHeadersToAdd.isEmpty && a.responseHeadersToRemove.isEmpty)
        #expect(a.position == nil)
        a.position = 7
        #expect(a.position == 7)
        a.position = 0
        #expect(a.position == nil)
        a.requestHeadersToRemove.append("x-a")
        var b = a
        b.requestHeadersToRemove.append("x-b")
        b.responseHeadersToAdd = [HeaderValueOption(key: "x-c", value: "1")]
        #expect(a.requestHeadersToRemove == ["x-a"] && a.responseHeadersToAdd.isEmpty)
        #expect(b.requestHeadersToRemove == ["x-a", "x-b"] && b.responseHeadersToAdd.count == 1)
        #expect(a != b)
        b.requestHeadersToRemove = ["x-a"]
        b.responseHeadersToAdd = []
        // Equal by value, whether or not each holds a box.
        #expect(a == b)
        a.requestHeadersToRemove = []
        let c = Route(match: RouteMatch(.prefix("/")), action: .route(RouteAction(.cluster("c"))))
        #expect(a == c)
    }

    @Test func boxedMatchFieldsReadBackAndCopiesAreIndependent() {
        var m = RouteMatch(.path("/a"), queryParameters: [QueryParameterMatcher(name: "q", presentMatch: true)], grpc: true)
        #expect(m.grpc && m.queryParameters.count == 1 && m.runtimeFraction == nil && m.unmodeledCriteria.isEmpty)
        var n = m
        n.grpc = false
        n.unmodeledCriteria.append("filter_state")
        #expect(m.grpc && m.unmodeledCriteria.isEmpty)
        #expect(!n.grpc && n.unmodeledCriteria == ["filter_state"])
        #expect(m != n)
        m.grpc = false
        m.unmodeledCriteria = ["filter_state"]
        #expect(m == n)
        // The JSON form still carries every boxed condition.
        let text = RouteMatch(.prefix("/"), queryParameters: [QueryParameterMatcher(name: "q", presentMatch: true)], grpc: true)
            .json.compactText()
        #expect(text.contains("\"query_parameters\"") && text.contains("\"grpc\":{}"))
        #expect(RouteMatch(.prefix("/")) == RouteMatch(.prefix("/"), grpc: false))
    }

    @Test func weightedClustersStillMatchAsBefore() {
        let w = WeightedClusters([WeightedClusters.Entry(name: "a", weight: 1), WeightedClusters.Entry(name: "b", weight: 3)])
        let a = RouteAction(.weightedClusters(w))
        guard case .weightedClusters(let back) = a.clusterSpecifier else {
            Issue.record("not a split")
            return
        }
        #expect(back == w && back.clusters.map(\.name) == ["a", "b"])
        #expect(a == RouteAction(.weightedClusters(w)) && a != RouteAction(.cluster("a")))
    }
}
