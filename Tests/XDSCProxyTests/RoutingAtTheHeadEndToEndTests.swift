import NIOCore
import Testing
import XDSCJSON

@testable import XDSCProxy

/// Routing at the request's head over real sockets (Fixtures.table): local replies before
/// the body has arrived, `expect: 100-continue`, and forwards that wait for the whole body.
@Suite(.timeLimit(.minutes(1)))
struct RoutingAtTheHeadEndToEndTests {
    /// A header the mock upstream received, from its echo.
    static func echoHeader(_ r: WireResponse, _ name: String) -> String? { r.echo?["headers"]?[name]?.stringValue }

    /// A direct response goes out while the client still owes the body; the connection then
    /// closes, as Envoy's HTTP/1 codec does after a response before the request's end.
    @Test func aDirectResponseDoesNotWaitForTheBody() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let c = try await TestClient.converse(
                port: port, [("POST /healthz HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 100\r\n\r\n", "\r\n\r\nok")])
            #expect(c.serverClosed)
            let r = TestClient.parse(c.text)
            #expect(r.status == 200)
            #expect(r.body == "ok")
            #expect(r.header("connection") == "close")
        }
    }

    /// The same for a request no route matches (404), and for a fault abort (a filter's reply).
    @Test(arguments: [("nowhere.example.com", "/", 404), ("api.example.com", "/abort", 418)])
    func otherLocalRepliesDoNotWaitEither(host: String, path: String, status: Int) async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let c = try await TestClient.converse(
                port: port, [("PUT \(path) HTTP/1.1\r\nhost: \(host)\r\ncontent-length: 100\r\n\r\nabc", nil)])
            #expect(c.serverClosed)
            #expect(TestClient.parse(c.text).status == status)
            #expect(server.registry.received.isEmpty)
        }
    }

    /// `expect: 100-continue`: the proxy answers `100 Continue` itself before the body is sent,
    /// and the upstream sees neither the header nor an interim response of its own.
    @Test func expectContinueIsAnsweredByTheProxy() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let c = try await TestClient.converse(
                port: port,
                [
                    (
                        "POST /upload HTTP/1.1\r\nhost: api.example.com\r\nconnection: close\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n",
                        "HTTP/1.1 100 Continue\r\n\r\n"
                    ),
                    ("hello", nil),
                ])
            let interim = "HTTP/1.1 100 Continue\r\n\r\n"
            #expect(c.text.hasPrefix(interim))
            let r = TestClient.parse(String(c.text.dropFirst(interim.count)))
            #expect(r.status == 200)
            #expect(Self.echoHeader(r, "expect") == nil)
            #expect(server.registry.received.map(\.body) == ["hello"])
        }
    }

    /// A forward still waits for the whole body, however it arrives, and keeps the connection.
    @Test func aForwardWaitsForTheWholeBody() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let c = try await TestClient.converse(
                port: port,
                [
                    ("POST /upload HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 6\r\n\r\nab", nil),
                    ("cd", nil),
                    ("ef", "\r\n\r\n"),
                    ("GET /healthz HTTP/1.1\r\nhost: api.example.com\r\nconnection: close\r\n\r\n", nil),
                ])
            #expect(server.registry.received.map(\.body) == ["abcdef"])
            #expect(TestClient.parse(c.text).status == 200)
            // Both answered on the one connection: the forward's response did not close it.
            #expect(c.text.components(separatedBy: "HTTP/1.1 200 OK").count == 3)
        }
    }
}
