import NIOCore
import NIOPosix
import Testing

@testable import XDSCProxy

/// Bad traffic gets Envoy's answer and the proxy keeps serving.
@Suite(.timeLimit(.minutes(1)))
struct RobustnessTests {
    static func stillServes(_ port: Int) async throws {
        let r = try await TestClient.request(port: port, "/healthz", host: "api.example.com")
        #expect(r.status == 200)
    }

    @Test(arguments: [61 * 1024, 100 * 1024])
    func oversizedHeadersAre431(size: Int) async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let big = String(repeating: "a", count: size)
            let raw = try await TestClient.exchange(port: port, ["GET / HTTP/1.1\r\nhost: api.example.com\r\nx-big: \(big)\r\n\r\n"])
            let r = TestClient.parse(raw)
            #expect(r.status == 431)
            #expect(r.header("connection") == "close")
            #expect(server.registry.received.isEmpty)
            try await Self.stillServes(port)
        }
    }

    @Test(arguments: [
        "POST / HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 3\r\ncontent-length: 5\r\n\r\nabcde",
        "GET / HTTP/1.1\r\nhost: api.example.com\r\nx-folded: a\r\n  b\r\n\r\n",
        "\u{01}\u{02}garbage\r\n\r\n",
        "GET / HTTP/9.9\r\nhost: api.example.com\r\n\r\n",
    ])
    func ambiguousOrBrokenFramingIs400(raw: String) async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let r = TestClient.parse(try await TestClient.exchange(port: port, [raw]))
            #expect(r.status == 400)
            #expect(r.header("connection") == "close")
            #expect(server.registry.received.isEmpty)
            try await Self.stillServes(port)
        }
    }

    /// A body over the buffer limit is not refused: it streams upstream as it arrives (Envoy
    /// buffers only for retries, and gives those up past the limit), declared or chunked.
    @Test func aBodyOverTheBufferLimitStreamsUpstream() async throws {
        var options = ProxyOptions()
        options.maxRequestBodyBytes = 16
        try await Fixtures.withProxy(options: options) { server in
            let port = try #require(server.port(of: "public"))
            let declared = try await TestClient.request(
                port: port, "/users", method: "POST", host: "api.example.com", body: String(repeating: "x", count: 17))
            #expect(declared.status == 200)
            let chunked = TestClient.parse(
                try await TestClient.exchange(
                    port: port,
                    [
                        "POST /users HTTP/1.1\r\nhost: api.example.com\r\ntransfer-encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n"
                    ]))
            #expect(chunked.status == 200)
            #expect(server.registry.received.map(\.body) == [String(repeating: "x", count: 17), "0123456789abcdefx"])
            try await Self.stillServes(port)
        }
    }

    @Test func slowClientsAreTimedOut() async throws {
        var options = ProxyOptions()
        options.clientIdleTimeout = .milliseconds(300)
        try await Fixtures.withProxy(options: options) { server in
            let port = try #require(server.port(of: "public"))
            let clock = ContinuousClock()
            // Slowloris: the head trickles in and never ends; the proxy closes the connection,
            // not before the timeout although bytes keep coming, and before the client's own
            // 20 s timeout (the only upper bound a loaded machine cannot break).
            let start = clock.now
            let trickle = try await TestClient.exchange(
                port: port, ["GET / HTTP/1.1\r\n", "host: api.example.com\r\n", "x-a: 1\r\n", "x-b: 2\r\n", "x-c: 3\r\n"],
                pause: .milliseconds(100), timeout: .seconds(20))
            let elapsed = clock.now - start
            #expect(trickle.isEmpty)
            #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(20), "\(elapsed)")
            // A body that never completes: 408, and the proxy closes.
            let started = clock.now
            let stalled = try await TestClient.converse(
                port: port, [("POST /users HTTP/1.1\r\nhost: api.example.com\r\ncontent-length: 10\r\n\r\nabc", nil)],
                timeout: .seconds(20))
            #expect(stalled.serverClosed)
            #expect(clock.now - started >= .milliseconds(250))
            let body = TestClient.parse(stalled.text)
            #expect(body.status == 408)
            #expect(server.registry.received.isEmpty)
            try await Self.stillServes(port)
        }
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let one = "GET /healthz HTTP/1.1\r\nhost: api.example.com\r\n\r\n"
            let raw = try await TestClient.exchange(
                port: port, [one + one + "GET /users HTTP/1.1\r\nhost: api.example.com\r\nconnection: close\r\n\r\n"])
            #expect(raw.components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 3)
            #expect(server.registry.received.count == 1)
        }
    }

    /// Pipelined requests that go upstream: the second arrives while the first is still being
    /// forwarded, waits, and is answered after it, in order, on the same connection.
    @Test func pipelinedForwardedRequestsAreAnsweredInOrder() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            let raw = try await TestClient.exchange(
                port: port,
                [
                    "GET /users/1 HTTP/1.1\r\nhost: api.example.com\r\n\r\n"
                        + "GET /users/2 HTTP/1.1\r\nhost: api.example.com\r\nconnection: close\r\n\r\n"
                ])
            let responses = raw.components(separatedBy: "HTTP/1.1 200 OK").dropFirst()
            #expect(responses.count == 2)
            // Each mock answer echoes the path it received.
            #expect(responses.first?.contains("/users/1") == true)
            #expect(responses.last?.contains("/users/2") == true)
            #expect(server.registry.received.map(\.path) == ["/users/1", "/users/2"])
        }
    }

    @Test func halfClosedClientsAndUpstreamResetsDoNotStopTheServer() async throws {
        try await Fixtures.withProxy { server in
            let port = try #require(server.port(of: "public"))
            server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(200)), for: "users")
            // The client sends a request and half-closes: Envoy (no half-close support on the
            // downstream) closes the connection; the exchange is abandoned.
            let group = MultiThreadedEventLoopGroup.singleton
            let promise = group.next().makePromise(of: [UInt8].self)
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { ch in
                    ch.eventLoop.makeCompletedFuture { try ch.pipeline.syncOperations.addHandler(CollectHandler(promise: promise)) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await channel.writeAndFlush(channel.allocator.buffer(string: "GET /users HTTP/1.1\r\nhost: api.example.com\r\n\r\n"))
            try await channel.close(mode: .output)
            _ = try await promise.futureResult.get()
            // An upstream that resets mid-request.
            server.registry.setBehaviour(MockBehaviour(failures: 1, reset: true), for: "users")
            #expect(try await TestClient.request(port: port, "/users", host: "api.example.com").status == 503)
            server.registry.setBehaviour(MockBehaviour(), for: "users")
            #expect(try await TestClient.request(port: port, "/users", host: "api.example.com").status == 200)
        }
    }
}
