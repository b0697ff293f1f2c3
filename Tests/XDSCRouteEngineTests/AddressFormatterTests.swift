import Testing
import XDSCRequest
import XDSCTestSupport

@testable import XDSCRouteEngine

/// The address commands of the header formatter, as Envoy's `StreamInfoAddressFormatterProvider`
/// prints them: with the port, the address's `asString()` (`ip:port`, `[v6]:port`); without
/// it, the bare IP (no brackets). An address from `x-forwarded-for` has port 0.
@Suite struct AddressFormatterTests {
    static let commands =
        "%DOWNSTREAM_REMOTE_ADDRESS%|%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%|%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%|%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%"

    func formatted(_ request: EnvoyRequest) -> [String] {
        Formatter.format(Self.commands, request: request.headerMap, downstream: request).split(separator: "|").map(String.init)
    }

    @Test func ipv4PeerHasItsPort() {
        let r = EnvoyRequest(authority: "h", path: "/", remoteAddress: "10.1.2.3").withPeerPort(51234)
        #expect(formatted(r) == ["10.1.2.3:51234", "10.1.2.3", "10.1.2.3:51234", "10.1.2.3"])
    }

    @Test func ipv6IsBracketedOnlyWithThePort() {
        let r = EnvoyRequest(authority: "h", path: "/", remoteAddress: "2001:db8::7").withPeerPort(443)
        #expect(formatted(r) == ["[2001:db8::7]:443", "2001:db8::7", "[2001:db8::7]:443", "2001:db8::7"])
    }

    /// The trusted client address from `x-forwarded-for` has no port (Envoy parses it as an
    /// IP alone); the direct address is still the peer with its port.
    @Test func forwardedForAddressHasPortZero() {
        var r = EnvoyRequest(authority: "h", path: "/", remoteAddress: "203.0.113.9").withPeerPort(40000)
        r.directRemoteAddress = "::1"
        #expect(formatted(r) == ["203.0.113.9:0", "203.0.113.9", "[::1]:40000", "::1"])
    }

    /// Without a connection (`xdsc route`, the route-check tool) the port is unknown: 0.
    @Test func offlineRequestsHavePortZero() {
        #expect(formatted(EnvoyRequest(authority: "h", path: "/")) == ["127.0.0.1:0", "127.0.0.1", "127.0.0.1:0", "127.0.0.1"])
    }

    @Test func routeHeaderGetsTheFormattedAddress() throws {
        let rc = try readRouteTable(
            #"{"virtual_hosts":[{"name":"v","domains":["*"],"routes":[{"match":{"prefix":"/"},"route":{"cluster":"c"},"#
                + #""request_headers_to_add":[{"header":{"key":"x-client","value":"%DOWNSTREAM_REMOTE_ADDRESS%"}}]}]}]}"#)
        let d = RouteEngine(rc).decide(EnvoyRequest(authority: "h", path: "/", remoteAddress: "fe80::1").withPeerPort(8443))
        #expect(d.requestHeaders.first("x-client") == "[fe80::1]:8443")
    }
}
