import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import XDSCEnvoy
import XDSCRouteEngine

@testable import XDSCProxy

/// A raw upstream that accepts a websocket upgrade: it answers 101 with a greeting right
/// behind it, echoes the first frame as `echo:FRAME` and closes.
final class UpgradingUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        case readingHead(String)
        case upgraded
    }

    private var state = State.readingHead("")
    private let heads: NIOLockedValueBox<[String]>
    /// Whether it answers the upgrade; one that does not keeps the request waiting.
    private let answers: Bool

    init(heads: NIOLockedValueBox<[String]>, answers: Bool = true) {
        self.heads = heads
        self.answers = answers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        switch state {
        case .readingHead(let sofar):
            let all = sofar + text
            guard all.contains("\r\n\r\n") else {
                state = .readingHead(all)
                return
            }
            heads.withLockedValue { $0.append(all) }
            state = .upgraded
            guard answers else { return }
            let reply =
                "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: abc\r\n\r\nhello;"
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: reply)), promise: nil)
        case .upgraded:
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: "echo:" + text))).assumeIsolated().whenComplete {
                _ in
                context.close(promise: nil)
            }
        }
    }
}

/// Websocket upgrades (`upgrade_configs`) over loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct WebsocketEndToEndTests {
    static let table = """
        {"name": "main", "virtual_hosts": [{"name": "ws", "domains": ["*"], "routes": [
          {"match": {"prefix": "/ws"}, "route": {"cluster": "ws", "upgrade_configs": [{"upgrade_type": "websocket"}]},
           "response_headers_to_add": [{"header": {"key": "x-route", "value": "ws"}}]},
          {"match": {"prefix": "/"}, "route": {"cluster": "ws"}}]}]}
        """

    static let upgrade =
        "GET /ws/chat HTTP/1.1\r\nhost: chat.example.com\r\nconnection: Upgrade\r\nupgrade: websocket\r\n"
        + "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n"

    /// Runs `body` with the proxy in front of an upgrading upstream; `heads` are the request
    /// heads the upstream received.
    static func withUpstream(
        managerUpgrades: [String] = [], table: String = table, answers: Bool = true,
        _ body: (Int, NIOLockedValueBox<[String]>) async throws -> Void
    ) async throws {
        let heads = NIOLockedValueBox<[String]>([])
        let upstream = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    try ch.pipeline.syncOperations.addHandler(UpgradingUpstreamHandler(heads: heads, answers: answers))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let upstreamPort = try #require(upstream.localAddress?.port)
        let config = ProxyConfiguration(
            listeners: [
                ProxyListener(
                    name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(table)), upgradeTypes: managerUpgrades)
            ],
            clusters: [("ws", [ProxyEndpoint(host: "127.0.0.1", port: upstreamPort)])])
        var options = ProxyOptions()
        options.upstreams = .real
        do {
            try await Fixtures.withProxy(config, options: options) { server in
                try await body(try #require(server.port(of: "public")), heads)
            }
        } catch {
            try? await upstream.close()
            throw error
        }
        try? await upstream.close()
    }

    @Test func upgradeIsPassedThroughAndBytesFlowBothWays() async throws {
        try await Self.withUpstream { port, heads in
            // The frame goes once the 101 and the greeting are in, however loaded the machine.
            let raw = try await TestClient.converse(port: port, [(Self.upgrade, "\r\n\r\nhello;"), ("ping", nil)]).text
            #expect(raw.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
            let head = TestClient.parse(raw)
            #expect(head.header("upgrade") == "websocket")
            #expect(head.header("connection") == "Upgrade")
            #expect(head.header("sec-websocket-accept") == "abc")
            #expect(head.header("server") == "envoy")
            #expect(head.header("x-route") == "ws")
            #expect(head.header("content-length") == nil)
            // The greeting behind the 101 and the echo of the client's frame.
            #expect(raw.hasSuffix("\r\n\r\nhello;echo:ping"))
            let sent = try #require(heads.withLockedValue { $0.first }?.lowercased())
            #expect(sent.contains("connection: upgrade\r\n"))
            #expect(sent.contains("upgrade: websocket\r\n"))
            #expect(sent.contains("sec-websocket-key: dghlihnhbxbszsbub25jzq==\r\n"))
        }
    }

    @Test func theStreamDurationTimerClosesAnUpgradedStream() async throws {
        // `max_stream_duration` runs on for the tunnel: at its end the stream is reset, which
        // closes the client's connection (the upstream's greeting came through before). The
        // 101 must come back within the duration (else the answer is the 408 of
        // `theStreamDurationBeforeThe101Is408`): 1.5 s leaves a loaded machine room for it.
        let timed = Self.table(adding: #""max_stream_duration": {"max_stream_duration": "1.5s"}"#)
        #expect(timed != Self.table)
        try await Self.withUpstream(table: timed) { port, _ in
            let start = NIODeadline.now()
            let c = try await TestClient.converse(port: port, [(Self.upgrade, nil)], timeout: .seconds(20))
            let elapsed = NIODeadline.now() - start
            #expect(c.text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"), "\(c.text)")
            #expect(c.text.hasSuffix("\r\n\r\nhello;"))
            // Closed by the proxy, not before the duration.
            #expect(c.serverClosed)
            #expect(elapsed >= .milliseconds(1400), "\(elapsed)")
        }
        // Without the timer the tunnel stays open until the client's own timeout.
        try await Self.withUpstream { port, _ in
            let start = NIODeadline.now()
            _ = try await TestClient.exchange(port: port, [Self.upgrade], timeout: .seconds(1))
            #expect(NIODeadline.now() - start >= .milliseconds(900))
        }
    }

    /// The upgrade's route with `extra` added to its route action.
    static func table(adding extra: String) -> String {
        table.replacingOccurrences(
            of: #""upgrade_configs": [{"upgrade_type": "websocket"}]}"#,
            with: #""upgrade_configs": [{"upgrade_type": "websocket"}], "# + extra + "}")
    }

    /// An upstream that has not answered the upgrade when the route timeout fires: the
    /// router's 504 (router.cc `onResponseTimeout`; Envoy arms the route timeout for an
    /// upgrade since 1.36, `setupRouteTimeoutForWebsocketUpgrade`), with the route's response
    /// mutations, and the connection closes.
    @Test func theRouteTimeoutBeforeThe101Is504() async throws {
        let timed = Self.table(adding: #""timeout": "0.3s""#)
        #expect(timed != Self.table)
        try await Self.withUpstream(table: timed, answers: false) { port, _ in
            let start = NIODeadline.now()
            let c = try await TestClient.converse(port: port, [(Self.upgrade, nil)])
            let r = TestClient.parse(c.text)
            #expect(c.serverClosed)
            #expect(NIODeadline.now() - start >= .milliseconds(250))
            #expect(r.status == 504, "\(c.text)")
            #expect(r.body == "upstream request timeout")
            #expect(r.header("x-route") == "ws")
            #expect(r.header("connection") == "close")
        }
    }

    /// `max_stream_duration` before the 101: the connection manager's local reply is
    /// `maybeRequestTimeoutCode` of an incomplete request, 408 (conn_manager_impl.cc
    /// `onStreamMaxDurationReached`; an HTTP/1 upgrade request has no end before the 101),
    /// without the route's response mutations. A plain request read in full gets 504.
    @Test func theStreamDurationBeforeThe101Is408() async throws {
        let timed = Self.table(adding: #""max_stream_duration": {"max_stream_duration": "0.3s"}"#)
        #expect(timed != Self.table)
        try await Self.withUpstream(table: timed, answers: false) { port, _ in
            let start = NIODeadline.now()
            let c = try await TestClient.converse(port: port, [(Self.upgrade, nil)])
            let r = TestClient.parse(c.text)
            #expect(c.serverClosed)
            #expect(NIODeadline.now() - start >= .milliseconds(250))
            #expect(r.status == 408, "\(c.text)")
            #expect(r.body == "downstream duration timeout")
            #expect(r.header("x-route") == nil)
            #expect(r.header("connection") == "close")
            // The same route without the upgrade, its request complete: 504.
            let plain = Self.upgrade.replacingOccurrences(
                of: "connection: Upgrade\r\nupgrade: websocket\r\n", with: "connection: close\r\n")
            #expect(plain != Self.upgrade)
            let p = TestClient.parse(try await TestClient.converse(port: port, [(plain, nil)]).text)
            #expect(p.status == 504, "\(p)")
            #expect(p.body == "downstream duration timeout")
        }
    }

    @Test func upgradeOnARouteWithoutItIs403() async throws {
        try await Self.withUpstream { port, heads in
            let raw = try await TestClient.exchange(port: port, [Self.upgrade.replacingOccurrences(of: "/ws/chat", with: "/plain")])
            let r = TestClient.parse(raw)
            #expect(r.status == 403)
            #expect(r.body == "")
            #expect(r.header("connection") == "close")
            #expect(heads.withLockedValue { $0.isEmpty })
        }
    }

    @Test func connectionManagerUpgradeConfigsEnableEveryRoute() async throws {
        try await Self.withUpstream(managerUpgrades: ["WebSocket"]) { port, heads in
            let raw = try await TestClient.converse(
                port: port, [(Self.upgrade.replacingOccurrences(of: "/ws/chat", with: "/plain"), "\r\n\r\nhello;"), ("x", nil)]
            ).text
            #expect(raw.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
            #expect(raw.hasSuffix("hello;echo:x"))
        }
    }

    @Test func anUpstreamThatDeclinesAnswersNormally() async throws {
        // The built-in mocks do not upgrade: their 200 echo comes back as a plain response.
        let config = ProxyConfiguration(
            listeners: [ProxyListener(name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(Self.table)))],
            clusters: [("ws", [ProxyEndpoint(host: "10.0.0.1", port: 80)])])
        try await Fixtures.withProxy(config) { server in
            let port = try #require(server.port(of: "public"))
            let r = TestClient.parse(try await TestClient.exchange(port: port, [Self.upgrade], timeout: .seconds(2)))
            #expect(r.status == 200)
            #expect(r.echo?["headers"]?["upgrade"]?.stringValue == "websocket")
            #expect(r.header("upgrade") == nil)
            #expect(r.header("connection") == "close")
        }
    }
}
