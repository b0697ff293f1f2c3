import Testing
import XDSCJSON

@testable import XDSCEnvoy

@Suite struct EncodingTests {
    @Test func routeFieldsInProtoOrderAndDefaultsOmitted() {
        let route = Route(
            name: "r",
            match: RouteMatch(.prefix("/users"), headers: [HeaderMatcher(name: ":method", .string(.exact("GET")))]),
            action: .route(
                RouteAction(
                    .cluster("users"), timeout: .milliseconds(1500), retryPolicy: RetryPolicy(retryOn: ["5xx", "reset"], numRetries: 2))),
            requestHeadersToAdd: [HeaderValueOption(key: "x-a", value: "1", appendAction: .overwriteIfExistsOrAdd)])
        let text = route.json.compactText()
        #expect(
            text
                == #"{"name":"r","match":{"prefix":"/users","headers":[{"name":":method","string_match":{"exact":"GET"}}]},"route":{"cluster":"users","timeout":"1.500s","retry_policy":{"retry_on":"5xx,reset","num_retries":2}},"request_headers_to_add":[{"header":{"key":"x-a","value":"1"},"append_action":"OVERWRITE_IF_EXISTS_OR_ADD"}]}"#
        )
    }

    @Test func sourceIsNotSerialised() {
        var c = Cluster(name: "c", connectTimeout: .seconds(5))
        let plain = c.json
        c.source = .point("policy.yaml", line: 3)
        #expect(c.json == plain)
    }

    @Test func clusterHTTP2AndTLS() {
        let c = Cluster(
            name: "grpc", type: .strictDNS, connectTimeout: .seconds(1), lbPolicy: .leastRequest,
            loadAssignment: ClusterLoadAssignment(
                clusterName: "grpc", endpoints: [.init(address: SocketAddress(address: "g.internal", portValue: 443))]),
            upstreamProtocol: .http2, tls: UpstreamTLSContext(sni: "g.internal", verifySubjectAltNames: ["g.internal"]))
        let j = c.json
        #expect(j["type"] == .string("STRICT_DNS"))
        #expect(j["lb_policy"] == .string("LEAST_REQUEST"))
        #expect(
            j["typed_extension_protocol_options"]?["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]?["explicit_http_config"]?[
                "http2_protocol_options"] == .object([:]))
        #expect(j["transport_socket"]?["typed_config"]?["sni"] == .string("g.internal"))
        #expect(
            j.objectValue?.keys == [
                "name", "type", "connect_timeout", "lb_policy", "load_assignment", "typed_extension_protocol_options", "transport_socket",
            ])
    }

    @Test func discoveryResponseShape() {
        let d = DiscoveryResponse(versionInfo: "v1", type: .routeConfiguration, resources: [RouteConfiguration(name: "x").json])
        #expect(
            d.json.compactText()
                == #"{"version_info":"v1","resources":[{"@type":"type.googleapis.com/envoy.config.route.v3.RouteConfiguration","name":"x"}]}"#
        )
    }

    @Test func routerIsLastFilter() {
        let hcm = HttpConnectionManager(statPrefix: "p", routes: .inline(RouteConfiguration(name: "p")), httpFilters: [.cors, .router])
        let names = hcm.typedConfig.fields["http_filters"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["envoy.filters.http.cors", "envoy.filters.http.router"])
    }
}
