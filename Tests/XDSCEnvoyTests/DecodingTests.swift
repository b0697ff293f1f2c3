import Foundation
import Testing
import XDSCJSON

@testable import XDSCEnvoy

@Suite struct DecodingTests {
    @Test func roundTripsTheModel() throws {
        let rc = RouteConfiguration(
            name: "main",
            virtualHosts: [
                VirtualHost(
                    name: "api", domains: ["api.example.com", "*.api.example.com"],
                    routes: [
                        Route(
                            name: "read",
                            match: RouteMatch(
                                .safeRegex("/users/[0-9]+"),
                                headers: [HeaderMatcher(name: "x-env", .string(StringMatcher(.prefix("prod-"))), invertMatch: true)],
                                queryParameters: [QueryParameterMatcher(name: "v", stringMatch: .exact("2"))], grpc: true),
                            action: .route(
                                RouteAction(
                                    .weightedClusters(WeightedClusters([.init(name: "a", weight: 90), .init(name: "b", weight: 10)])),
                                    pathRewrite: .regex(pattern: "^/users", substitution: "/u"), hostRewriteLiteral: "h",
                                    timeout: .zero, idleTimeout: .seconds(300),
                                    retryPolicy: RetryPolicy(
                                        retryOn: ["retriable-status-codes"], numRetries: 2, perTryTimeout: .seconds(2),
                                        retriableStatusCodes: [503]),
                                    requestMirrorPolicies: [
                                        RequestMirrorPolicy(
                                            cluster: "shadow", runtimeFraction: RuntimeFractionalPercent(defaultValue: .percent(10)))
                                    ],
                                    hashPolicy: [.header("x-user"), .cookie("c"), .sourceIP], upgradeTypes: ["websocket"])),
                            responseHeadersToRemove: ["server"]),
                        Route(
                            match: RouteMatch(.path("/old"), caseSensitive: false),
                            action: .redirect(
                                RedirectAction(
                                    scheme: "https", port: 443, path: .prefixRewrite("/new"), responseCode: .permanentRedirect,
                                    stripQuery: true))),
                        Route(match: RouteMatch(.prefix("/")), action: .directResponse(DirectResponseAction(status: 404, body: "nope"))),
                    ])
            ])
        var d = EnvoyRouteDecoder()
        let back = try d.routeConfiguration(JSON.parse(rc.json.serialized()))
        #expect(back == rc)
        #expect(d.warnings.isEmpty)
    }

    @Test func acceptsCamelCaseAndObjectDurations() throws {
        let j = try JSON.parse(
            #"{"virtualHosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c","timeout":{"seconds":30}}}]}]}"#
        )
        var d = EnvoyRouteDecoder()
        let rc = try d.routeConfiguration(j)
        guard case .route(let a) = rc.virtualHosts[0].routes[0].action else {
            Issue.record("expected a route action")
            return
        }
        #expect(a.timeout == .seconds(30))
    }

    @Test func unknownFieldIsAnErrorWithAPath() throws {
        let j = try JSON.parse(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefx":"/"},"route":{"cluster":"c"}}]}]}"#)
        var d = EnvoyRouteDecoder()
        #expect(throws: EnvoyDecodingError(path: "virtual_hosts[0].routes[0].match.prefx", message: "unknown field \"prefx\"")) {
            try d.routeConfiguration(j)
        }
    }

    @Test func wrongKindAndMissingAction() throws {
        var d = EnvoyRouteDecoder()
        #expect(throws: EnvoyDecodingError(path: "virtual_hosts", message: "expected a list, found an object")) {
            try d.routeConfiguration(JSON.parse(#"{"virtual_hosts":{}}"#))
        }
        #expect(
            throws: EnvoyDecodingError(
                path: "virtual_hosts[0].routes[0]", message: "route has no action (route, redirect or direct_response)")
        ) {
            try d.routeConfiguration(JSON.parse(#"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"}}]}]}"#))
        }
    }

    @Test func unmodelledKnownFieldsAreWarnings() throws {
        var d = EnvoyRouteDecoder()
        _ = try d.routeConfiguration(JSON.parse(#"{"virtual_hosts":[{"name":"v","domains":["*"],"hedge_policy":{},"routes":[]}]}"#))
        #expect(d.warnings.map(\.path) == ["virtual_hosts[0].hedge_policy"])
    }
}

@Suite struct DocumentDecodingTests {
    private func golden(_ relative: String) throws -> JSON {
        let url = TestPaths.packageRoot.appendingPathComponent("golden/build/\(relative)")
        return try JSON.parse(String(decoding: try #require(FileManager.default.contents(atPath: url.path)), as: UTF8.self))
    }

    @Test func findsTablesInBootstrapsAndDiscoveryFiles() throws {
        var d = EnvoyRouteDecoder()
        let fromBootstrap = try d.routeConfigurations(in: golden("edge/bootstrap.json"))
        #expect(fromBootstrap.map(\.listener) == ["public"])
        #expect(fromBootstrap[0].path == "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config")
        let fromRDS = try d.routeConfigurations(in: golden("edge-xds/rds/public.json"))
        #expect(fromRDS.map(\.routeConfiguration) == fromBootstrap.map(\.routeConfiguration))
        // An LDS file whose listeners use RDS holds no tables.
        #expect(try d.routeConfigurations(in: golden("edge-xds/lds.json")).isEmpty)
    }

    @Test func errorPathsPointIntoTheDocument() throws {
        let doc = try JSON.parse(
            #"{"resources":[{"@type":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration","name":"r","virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{}}]}]}]}"#
        )
        var d = EnvoyRouteDecoder()
        #expect(
            throws: EnvoyDecodingError(
                path: "resources[0].virtual_hosts[0].routes[0].route",
                message: "route action names no cluster (cluster, cluster_header or weighted_clusters)")
        ) {
            try d.routeConfigurations(in: doc)
        }
    }
}
