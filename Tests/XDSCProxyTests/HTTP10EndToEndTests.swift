import Testing
import XDSCRouteEngine

@testable import XDSCProxy

/// HTTP/1.0 requests as Envoy's HTTP/1 codec takes them (codec_impl.cc `checkProtocolVersion`):
/// 426 unless the connection manager's `http_protocol_options.accept_http_10` is set, then
/// served with HTTP/1.0 responses that are never chunked. Over real loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct HTTP10EndToEndTests {
    /// The proxy of the usual fixtures, with `accept_http_10` as given.
    static func withProxy(accept: Bool, _ body: (Int) async throws -> Void) async throws {
        var config = try Fixtures.configuration()
        config.listeners[0].chains[0].acceptHTTP10 = accept
        try await Fixtures.withProxy(config) { server in try await body(try #require(server.port(of: "public"))) }
    }

    @Test func withoutAcceptHTTP10TheAnswerIs426AndTheConnectionCloses() async throws {
        try await Self.withProxy(accept: false) { port in
            let c = try await TestClient.converse(port: port, [("GET /users HTTP/1.0\r\nhost: api.example.com\r\n\r\n", nil)])
            #expect(c.serverClosed)
            #expect(c.text.hasPrefix("HTTP/1.1 426 Upgrade Required\r\n"), "\(c.text)")
            let r = TestClient.parse(c.text)
            #expect(r.body == "Upgrade Required")
            #expect(r.header("connection") == "close")
        }
    }

    /// An HTTP/0.9 request line (no version) is HTTP/1.0 to Envoy's codec (Balsa accepts the
    /// line and ends the message there): 426 as well.
    @Test func anHTTP09RequestLineIs426Too() async throws {
        try await Self.withProxy(accept: false) { port in
            let c = try await TestClient.converse(port: port, [("GET /users\r\n", nil)])
            #expect(c.serverClosed)
            #expect(c.text.hasPrefix("HTTP/1.1 426 Upgrade Required\r\n"), "\(c.text)")
            #expect(TestClient.parse(c.text).body == "Upgrade Required")
        }
    }

    @Test func anHTTP11RequestIsServedEitherWay() async throws {
        try await Self.withProxy(accept: false) { port in
            let r = try await TestClient.request(port: port, "/healthz", host: "api.example.com")
            #expect(r.status == 200)
        }
    }

    /// With `accept_http_10` the response line is HTTP/1.0 and the connection closes after it,
    /// unless the client asked for keep-alive and the response has a length.
    @Test func withAcceptHTTP10TheRequestIsServedOverHTTP10() async throws {
        try await Self.withProxy(accept: true) { port in
            let c = try await TestClient.converse(port: port, [("GET /users/7 HTTP/1.0\r\nhost: api.example.com\r\n\r\n", nil)])
            #expect(c.serverClosed)
            #expect(c.text.hasPrefix("HTTP/1.0 200 OK\r\n"), "\(c.text)")
            let r = TestClient.parse(c.text)
            #expect(r.header("connection") == "close")
            #expect(r.header("transfer-encoding") == nil)
            #expect(r.echo?["path"]?.stringValue == "/users/7")

            let kept = try await TestClient.converse(
                port: port,
                [
                    ("GET /healthz HTTP/1.0\r\nhost: api.example.com\r\nconnection: keep-alive\r\n\r\n", "\r\n\r\nok"),
                    ("GET /healthz HTTP/1.0\r\nhost: api.example.com\r\n\r\n", nil),
                ])
            // Both answered on one connection: the first kept it open.
            #expect(kept.text.components(separatedBy: "HTTP/1.0 200 OK\r\n").count == 3, "\(kept.text)")
            #expect(TestClient.parse(kept.text).header("connection") == nil)

            // An HTTP/0.9 line is served as HTTP/1.0 with no headers, as the same request written
            // as HTTP/1.0 is.
            let old = try await TestClient.converse(port: port, [("GET /users/7\r\n", nil)])
            let same = try await TestClient.converse(port: port, [("GET /users/7 HTTP/1.0\r\n\r\n", nil)])
            #expect(old.serverClosed)
            #expect(old.text.hasPrefix("HTTP/1.0 "), "\(old.text)")
            #expect(TestClient.parse(old.text).status == TestClient.parse(same.text).status)
            #expect(TestClient.parse(old.text).body == TestClient.parse(same.text).body)
        }
    }
}
