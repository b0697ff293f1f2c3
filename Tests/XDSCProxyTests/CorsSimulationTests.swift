import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

@testable import XDSCProxy

/// The CORS filter's decisions as pure functions (cors_filter.cc).
@Suite struct CorsSimulationTests {
    static func policy(_ json: String, level: MutationLevel = .route) throws -> AppliedFilterConfig {
        AppliedFilterConfig(filter: "envoy.filters.http.cors", level: level, config: try JSON.parse(json), origin: Origin("p"))
    }

    static let random = RandomSource(seed: 1)

    @Test func noPolicyOrNoOriginChangesNothing() throws {
        #expect(CorsSimulation.outcome([], method: "GET", headers: [HTTPHeader("origin", "https://a")], random: Self.random) == .none)
        let p = try Self.policy(#"{"allow_origin_string_match": [{"exact": "https://a"}]}"#)
        #expect(CorsSimulation.outcome([p], method: "GET", headers: [], random: Self.random) == .none)
        #expect(CorsSimulation.outcome([p], method: "GET", headers: [HTTPHeader("origin", "")], random: Self.random) == .none)
    }

    @Test func wildcardMatcherAllowsEveryOrigin() throws {
        let p = try Self.policy(#"{"allow_origin_string_match": [{"exact": "*"}], "allow_credentials": true}"#)
        let o = CorsSimulation.outcome([p], method: "GET", headers: [HTTPHeader("origin", "https://x")], random: Self.random)
        #expect(o.preflight == nil)
        #expect(
            o.responseHeaders == [
                HTTPHeader("access-control-allow-origin", "https://x"), HTTPHeader("access-control-allow-credentials", "true"),
            ])
    }

    @Test func preflightNeedsOptionsAndARequestMethod() throws {
        let p = try Self.policy(#"{"allow_origin_string_match": [{"prefix": "https://"}], "max_age": "5"}"#)
        let get = CorsSimulation.outcome(
            [p], method: "GET", headers: [HTTPHeader("origin", "https://x"), HTTPHeader("access-control-request-method", "GET")],
            random: Self.random)
        #expect(get.preflight == nil)
        let noMethod = CorsSimulation.outcome([p], method: "OPTIONS", headers: [HTTPHeader("origin", "https://x")], random: Self.random)
        #expect(noMethod.preflight == nil)
        let pre = CorsSimulation.outcome(
            [p], method: "OPTIONS", headers: [HTTPHeader("origin", "https://x"), HTTPHeader("access-control-request-method", "PUT")],
            random: Self.random)
        #expect(pre.preflight == [HTTPHeader("access-control-allow-origin", "https://x"), HTTPHeader("access-control-max-age", "5")])
    }

    @Test func enabledComesFromTheMostSpecificPolicyOnly() throws {
        let off = try Self.policy(#"{"filter_enabled": {"default_value": {"numerator": 0}}}"#)
        let on = try Self.policy(#"{"allow_origin_string_match": [{"exact": "https://a"}]}"#, level: .virtualHost)
        let h = [HTTPHeader("origin", "https://a")]
        #expect(CorsSimulation.outcome([off, on], method: "GET", headers: h, random: Self.random) == .none)
        #expect(CorsSimulation.outcome([on, off], method: "GET", headers: h, random: Self.random).responseHeaders.count == 1)
    }

    @Test func privateNetworkAccessOnlyWhenAsked() throws {
        let p = try Self.policy(#"{"allow_origin_string_match": [{"exact": "https://a"}], "allow_private_network_access": true}"#)
        var h = [HTTPHeader("origin", "https://a"), HTTPHeader("access-control-request-method", "GET")]
        #expect(CorsSimulation.outcome([p], method: "OPTIONS", headers: h, random: Self.random).preflight?.count == 1)
        h.append(HTTPHeader("access-control-request-private-network", "true"))
        #expect(
            CorsSimulation.outcome([p], method: "OPTIONS", headers: h, random: Self.random).preflight?.last
                == HTTPHeader("access-control-allow-private-network", "true"))
    }

    @Test func shadowHostKeepsThePort() {
        #expect(RequestMirroring.shadowHost("api.example.com") == "api.example.com-shadow")
        #expect(RequestMirroring.shadowHost("api.example.com:8080") == "api.example.com-shadow:8080")
    }
}
