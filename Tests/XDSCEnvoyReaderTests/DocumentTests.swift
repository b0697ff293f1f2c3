import Foundation
import Testing
import XDSCDiagnostics
import XDSCEnvoy
import XDSCEnvoyReader
import XDSCSyntax

/// The document kinds and the resources found in them.
@Suite struct DocumentTests {
    @Test func bareRouteConfigurationWithCamelCaseWrappersAndDurations() {
        let (c, ds) = read(
            #"""
            {"name": "r", "virtualHosts": [{"name": "v", "domains": ["*"], "requireTls": "all", "routes": [
              {"match": {"prefix": "/", "caseSensitive": {"value": false}},
               "route": {"cluster": "c", "timeout": {"seconds": 30}, "idleTimeout": "1.5s",
                         "retryPolicy": {"retryOn": "5xx", "numRetries": {"value": 3}}}}]}]}
            """#, file: "r.json")
        #expect(ds.isEmpty, "\(summary(ds))")
        let vh = c.routeConfigurations[0].virtualHosts[0]
        #expect(vh.requireTLS == .all)
        let r = vh.routes[0]
        #expect(r.match.caseSensitive == false)
        guard case .route(let a) = r.action else {
            Issue.record("expected a route action")
            return
        }
        #expect(a.timeout == .seconds(30))
        #expect(a.idleTimeout == .milliseconds(1500))
        #expect(a.retryPolicy?.numRetries == 3)
        // Every element keeps where it was written.
        #expect(r.source?.start == SourcePosition(line: 2, column: 3))
    }

    @Test func enumsByNameAnyCaseOrNumber() {
        let (c, ds) = read(
            table(
                route:
                    #"{"match":{"prefix":"/"},"redirect":{"response_code":"found"}},{"match":{"prefix":"/b"},"redirect":{"response_code":4}}"#
            ))
        #expect(ds.isEmpty, "\(summary(ds))")
        let codes = c.routeConfigurations[0].virtualHosts[0].routes.compactMap { r -> Int? in
            if case .redirect(let x) = r.action { return x.responseCode.status }
            return nil
        }
        #expect(codes == [302, 308])
    }

    static func bytesBody(_ s: String) -> DirectResponseAction {
        var d = DirectResponseAction(status: 200, body: s)
        d.bodyIsBytes = true
        return d
    }

    @Test func base64Bytes() {
        let (c, ds) = read(table(route: #"{"match":{"prefix":"/"},"direct_response":{"status":200,"body":{"inline_bytes":"aGVsbG8="}}}"#))
        #expect(ds.isEmpty)
        #expect(
            c.routeConfigurations[0].virtualHosts[0].routes[0].action == .directResponse(Self.bytesBody("hello")))
        let (_, bad) = read(table(route: #"{"match":{"prefix":"/"},"direct_response":{"status":200,"body":{"inline_bytes":"%%"}}}"#))
        #expect(summary(bad) == ["invalid-value@1:147"])
    }

    @Test func unknownFieldSuggestsTheClosestFieldOfTheMessage() {
        let (_, ds) = read(table(route: #"{"match":{"prefx":"/"},"route":{"cluster":"c"}}"#))
        let unknown = ds.first { $0.rule == .unknownField }
        #expect(unknown?.message == "unknown field `prefx` in `RouteMatch`")
        #expect(unknown?.help == "did you mean `prefix`?")
        #expect(unknown?.span.start == SourcePosition(line: 1, column: 78))
    }

    @Test func wrongTypesAndMissingActionsAreDiagnosticsNotThrows() {
        let (c, ds) = read(#"{"virtual_hosts": {"name": 5}}"#)
        #expect(summary(ds) == ["single-object-list@1:19", "type-mismatch@1:28"])
        #expect(c.routeConfigurations.count == 1)
        let (_, noAction) = read(table(route: #"{"match":{"prefix":"/"}}"#))
        #expect(noAction.map(\.message) == ["`Route` has no action: `route`, `redirect` or `direct_response`"])
    }

    @Test func aRouteWithAnErrorIsLeftOutOfTheModel() {
        let (c, ds) = read(
            table(
                route:
                    #"{"match":{"prefix":"/"},"route":{"cluster":"c","timeout":"soon"}},{"match":{"prefix":"/"},"route":{"cluster":"d"}}"#))
        #expect(summary(ds) == ["type-mismatch@1:125"])
        #expect(c.routeConfigurations[0].virtualHosts[0].routes.map(\.clusterName) == ["d"])
    }

    @Test func loadTimeRulesOfMatchers() {
        for (route, rule) in [
            (
                #"{"match":{"prefix":"/","headers":[{"name":"x","string_match":{"safe_regex":{"regex":"a"},"ignore_case":true}}]},"route":{"cluster":"c"}}"#,
                Rule.ID.invalidValue
            ),
            (
                #"{"match":{"prefix":"/","query_parameters":[{"name":"q","string_match":{"exact":"a"},"present_match":true}]},"route":{"cluster":"c"}}"#,
                .conflictingFields
            ),
            (#"{"match":{"prefix":"/","query_parameters":[{"name":"","present_match":true}]},"route":{"cluster":"c"}}"#, .invalidValue),
            (#"{"match":{"prefix":"/","headers":[{"name":"x","string_match":{"prefix":""}}]},"route":{"cluster":"c"}}"#, .invalidValue),
            (#"{"match":{"prefix":"/","headers":[{"name":"x","contains_match":""}]},"route":{"cluster":"c"}}"#, .invalidValue),
            (#"{"match":{"prefix":"/","path":"/a"},"route":{"cluster":"c"}}"#, .conflictingFields),
            (#"{"match":{"regex":"/a"},"route":{"cluster":"c"}}"#, .unknownField),
        ] {
            let (c, ds) = read(table(route: route))
            #expect(ds.map(\.rule).contains(rule), "\(route): \(summary(ds))")
            #expect(c.routeConfigurations[0].virtualHosts[0].routes.isEmpty, "\(route)")
        }
        let (c, ds) = read(
            table(route: #"{"match":{"prefix":"/","headers":[{"name":"X","string_match":{"exact":""}}]},"route":{"cluster":"c"}}"#))
        #expect(ds.isEmpty)
        #expect(c.routeConfigurations[0].virtualHosts[0].routes[0].match.headers == [HeaderMatcher(name: "x", .string(.exact("")))])
    }

    @Test func unmodelledRoutingFieldsAreSaidAtTheirPosition() {
        let (c, ds) = read(
            table(
                route:
                    #"{"match":{"prefix":"/","filter_state":[{"key":"f","string_match":{"exact":"k"}}]},"route":{"cluster":"c"}}"#
            ))
        #expect(summary(ds) == ["unmodeled-field@1:91"])
        #expect(c.routeConfigurations[0].virtualHosts[0].routes[0].match.unmodeledCriteria == ["filter_state"])
        // `dynamic_metadata` is modelled (the route engine evaluates it): read, no warning.
        let (m, none) = read(
            table(
                route:
                    #"{"match":{"prefix":"/","dynamic_metadata":[{"filter":"f","path":[{"key":"k"}],"value":{"present_match":true}}]},"route":{"cluster":"c"}}"#
            ))
        #expect(none.isEmpty, "\(summary(none))")
        #expect(
            m.routeConfigurations[0].virtualHosts[0].routes[0].match.dynamicMetadata == [
                MetadataMatcher(filter: "f", path: ["k"], value: .present(true))
            ])
        // Fields that cannot change where a request goes are read without a word.
        let (_, quiet) = read(table(route: #"{"match":{"prefix":"/"},"route":{"cluster":"c"},"decorator":{"operation":"x"}}"#))
        #expect(quiet.isEmpty)
    }

    @Test func discoveryResponsesWithResourceWrappersAndBareLists() {
        let (c, ds) = read(
            """
            resources:
            - "@type": type.googleapis.com/envoy.service.discovery.v3.Resource
              name: c
              resource: {"@type": type.googleapis.com/envoy.config.cluster.v3.Cluster, name: c, connect_timeout: 1s}
            - {"@type": type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment, cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 10.0.0.1, port_value: 80}}}}]}]}
            """)
        #expect(ds.isEmpty, "\(summary(ds))")
        #expect(c.clusters.map(\.name) == ["c"])
        #expect(c.endpoints.first?.endpoints.first?.address == SocketAddress(address: "10.0.0.1", portValue: 80))
        let (list, listDs) = read(#"[{"name": "a", "connect_timeout": "1s"}, {"name": "r", "virtual_hosts": []}]"#, file: "l.json")
        #expect(listDs.isEmpty)
        #expect(list.clusters.map(\.name) == ["a"])
        #expect(list.routeConfigurations.map(\.name) == ["r"])
    }

    @Test func malformedDiscoveryFiles() {
        #expect(summary(read(#"{"resources": [{"name": "x"}]}"#).diagnostics) == ["missing-field@1:16"])
        #expect(
            summary(read(#"{"resources": [{"@type": "type.googleapis.com/envoy.api.v2.Cluster", "name": "x"}]}"#).diagnostics) == [
                "invalid-value@1:26"
            ])
        #expect(summary(read(#"{"resources": [{"@type": "type.googleapis.com/foo.Bar"}]}"#).diagnostics) == ["invalid-value@1:26"])
        #expect(summary(read(#"{"resources": 3}"#).diagnostics) == ["type-mismatch@1:15"])
        #expect(summary(read(#"{"hello": 3}"#).diagnostics) == ["invalid-value@1:1"])
    }

    @Test func configDumpAsIstioctlPrintsIt() {
        let (c, ds) = read(
            #"""
            {"configs": [
              {"@type": "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump",
               "bootstrap": {"node": {"id": "sidecar~10.0.0.1"}, "static_resources": {}}},
              {"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump", "version_info": "1",
               "static_listeners": [{"listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "s", "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15000}}}}],
               "dynamic_listeners": [{"name": "d", "active_state": {"version_info": "1",
                 "listener": {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": "d", "address": {"socket_address": {"address": "0.0.0.0", "port_value": 8080}},
                   "filter_chains": [{"filters": [{"name": "hcm", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                     "stat_prefix": "d", "rds": {"route_config_name": "8080", "config_source": {"ads": {}}},
                     "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]},
                 "last_updated": "2024-01-01T00:00:00Z"}}]},
              {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
               "dynamic_active_clusters": [{"version_info": "1", "cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "outbound|80||web", "type": "EDS", "eds_cluster_config": {"eds_config": {"ads": {}}}}}]},
              {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
               "dynamic_route_configs": [{"version_info": "1", "route_config": {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "8080",
                 "virtual_hosts": [{"name": "web", "domains": ["web"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "outbound|80||web"}}]}]}}]},
              {"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump"}
            ]}
            """#, file: "dump.json")
        #expect(ds.isEmpty, "\(summary(ds))")
        #expect(c.node?.id == "sidecar~10.0.0.1")
        #expect(c.listeners.map(\.name) == ["s", "d"])
        #expect(c.clusters.map(\.type) == [.eds])
        #expect(c.routeTables.map { $0.listener?.name } == ["d"])
        #expect(c.routeTables.first?.table.virtualHosts.first?.routes.first?.clusterName == "outbound|80||web")
    }

    @Test func dynamicResourcesAreFollowedRelativeToTheBootstrap() {
        let dir = Paths.packageRoot.appendingPathComponent("fixtures/envoy/dynamic")
        let (r, ds) = read(paths: [dir.appendingPathComponent("bootstrap.yaml").path])
        #expect(
            r.sources.keys.map { ($0 as NSString).lastPathComponent }.sorted() == [
                "bootstrap.yaml", "cds.yaml", "eds.yaml", "lds.yaml", "rds.yaml",
            ])
        #expect(ds.isEmpty, "\(summary(ds))")
        let l = r.config.listeners[0]
        #expect(l.filterChains[0].serverNames == ["shop.example.com"])
        #expect(l.filterChains[0].connectionManager?.filters.map(\.name) == ["authz", "router"])
        #expect(l.filterChains[0].connectionManager?.httpFilters == [.router])
        #expect(l.defaultFilterChain?.otherFilters.map(\.name) == ["tcp"])
        #expect(r.opaqueExtensions.map(\.name) == ["authz", "tcp"])
        #expect(r.config.routeTables.map { $0.listener?.name } == ["public"])
        #expect(r.config.endpoints.map(\.clusterName) == ["shop"])
        #expect(r.config.clusters[0].edsConfig?.path == "eds.yaml")
    }

    @Test func aMissingReferencedFileIsReportedWhereItIsNamed() {
        let (_, ds) = read("dynamic_resources: {lds_config: {path: nowhere/lds.yaml}}\n", file: "/nonexistent-dir/b.yaml")
        #expect(summary(ds) == ["unreadable-input@1:40"])
    }

    @Test("a referenced device or directory is reported, not read (no hang on /dev/zero)")
    func aReferencedFileThatIsNotRegularIsNotRead() {
        for path in ["/dev/zero", "/dev/null", "/tmp"] {
            let (_, ds) = read("dynamic_resources: {lds_config: {path: \(path)}}\n", file: "b.yaml")
            #expect(summary(ds) == ["unreadable-input@1:40"], "\(path)")
            #expect(ds.first?.message == "cannot read \(path), which the configuration names")
        }
    }

    @Test func documentKinds() throws {
        func kind(_ text: String) -> EnvoyDocumentKind? {
            let sink = DiagnosticSink()
            return YAMLReader().read(Array(text.utf8), file: "x", into: sink).flatMap(EnvoyReader.kind(of:))
        }
        #expect(kind("static_resources: {}") == .bootstrap)
        #expect(kind("configs: []") == .configDump)
        #expect(kind("resources: []") == .discoveryResponse)
        #expect(kind("virtual_hosts: []") == .resource)
        #expect(kind("[]") == .resourceList)
        #expect(kind("version: 1\nlisteners: {}\nservices: {}") == nil)
    }
}
