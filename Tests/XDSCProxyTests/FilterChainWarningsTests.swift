import Testing
import XDSCDiagnostics
import XDSCEnvoyReader

@testable import XDSCProxy

/// The start warnings of a listener read every filter chain the proxy serves, not only the
/// first, and a later chain's RDS table is looked up as the first one's is.
@Suite struct FilterChainWarningsTests {
    static func manager(_ extra: String, routes: String) -> String {
        """
        {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
          "stat_prefix": "edge", \(extra)\(routes),
          "http_filters": [{"name": "envoy.filters.http.router",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}}
        """
    }

    static let inline =
        #""route_config": {"name": "r", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}"#

    static func configuration(_ chains: [String], documents: [String] = []) throws -> ProxyConfiguration {
        let bootstrap = """
            {"static_resources": {"listeners": [{"name": "edge",
              "address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}},
              "listener_filters": [{"name": "envoy.filters.listener.tls_inspector",
                "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector"}}],
              "filter_chains": [\(chains.joined(separator: ","))]}],
              "clusters": [{"name": "users", "load_assignment": {"cluster_name": "users", "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": "10.0.0.1", "port_value": 80}}}}]}]}}]}}
            """
        let sink = DiagnosticSink()
        let files =
            [("bootstrap.json", Array(bootstrap.utf8))] + documents.enumerated().map { ("doc\($0.offset).json", Array($0.element.utf8)) }
        let read = EnvoyReader().read(files, into: sink)
        let errors = sink.all.filter { $0.severity == .error }
        #expect(errors.isEmpty, "\(errors.map(\.message))")
        return ProxyConfiguration(read.config)
    }

    @Test func laterChainsAreWarnedAbout() throws {
        let first = #"{"filter_chain_match": {"server_names": ["a.example"]}, "filters": [\#(Self.manager("", routes: Self.inline))]}"#
        let named =
            #"{"name": "beta", "filter_chain_match": {"server_names": ["b.example"]}, "filters": [\#(Self.manager(#""stream_idle_timeout": "5s", "#, routes: Self.inline))]}"#
        let unnamed =
            #"{"filter_chain_match": {"server_names": ["c.example"]}, "filters": [\#(Self.manager(#""use_remote_address": true, "#, routes: Self.inline))]}"#
        let config = try Self.configuration([first, named, unnamed])
        let chainWarnings = config.unsimulated.filter { $0.hasPrefix("listener `edge`, ") }
        #expect(
            chainWarnings == [
                "listener `edge`, filter chain `beta`: the connection manager's `stream_idle_timeout` is not simulated (the proxy runs Envoy's defaults)",
                "listener `edge`, filter chain #3: `use_remote_address`: a loopback client is appended to `x-forwarded-for` as the address "
                    + "the connection was accepted on (Envoy appends its node's address)",
            ], "\(config.unsimulated)")
        // The first chain alone keeps the listener's name, as a listener with one chain.
        let single = try Self.configuration([
            #"{"filters": [\#(Self.manager(#""stream_idle_timeout": "5s", "#, routes: Self.inline))]}"#
        ])
        #expect(
            single.unsimulated.contains(
                "listener `edge`: the connection manager's `stream_idle_timeout` is not simulated (the proxy runs Envoy's defaults)"))
    }

    @Test func aLaterChainsRDSTableIsLoaded() throws {
        let rds = #""rds": {"route_config_name": "later", "config_source": {"ads": {}}}"#
        let table =
            #"{"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "later", "virtual_hosts": [{"name": "v", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": "users"}}]}]}"#
        let missing = #""rds": {"route_config_name": "absent", "config_source": {"ads": {}}}"#
        let config = try Self.configuration(
            [
                #"{"filter_chain_match": {"server_names": ["a.example"]}, "filters": [\#(Self.manager("", routes: Self.inline))]}"#,
                #"{"filter_chain_match": {"server_names": ["b.example"]}, "filters": [\#(Self.manager("", routes: rds))]}"#,
                #"{"filter_chain_match": {"server_names": ["c.example"]}, "filters": [\#(Self.manager("", routes: missing))]}"#,
            ], documents: [table])
        let listener = try #require(config.listeners.first { $0.name == "edge" })
        #expect(listener.chains.count == 3)
        #expect(listener.chains[1].engine != nil, "the RDS table of the second chain is served")
        #expect(listener.chains[2].engine == nil)
        let rdsWarnings = config.unsimulated.filter { $0.contains("routes from RDS are not loaded") }
        #expect(
            rdsWarnings == ["listener `edge`, filter chain #3: routes from RDS are not loaded; every request gets 404"],
            "\(config.unsimulated)")
    }
}
