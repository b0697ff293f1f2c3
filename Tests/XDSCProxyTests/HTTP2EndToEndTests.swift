import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import Synchronization
import Testing
import XDSCEnvoy
import XDSCJSON
import XDSCRequest
import XDSCRouteEngine

@testable import XDSCProxy

/// A test client that keeps one h2c connection and opens streams on it.
struct H2Connection {
    let channel: Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer

    static func open(port: Int) async throws -> H2Connection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    _ = try ch.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                    ) { $0.close() }
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let multiplexer = try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self).syncMultiplexer()
        }.get()
        return H2Connection(channel: channel, multiplexer: multiplexer)
    }

    /// One request on a new stream.
    func send(
        _ path: String, method: HTTPMethod = .GET, host: String = "api.example.com", headers: [(String, String)] = [], body: String = ""
    )
        async throws -> ClientResponse
    {
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        let stream = try await multiplexer.createStreamChannel { s in
            s.eventLoop.makeCompletedFuture {
                try s.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .http))
                try s.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
            }
        }.get()
        var h = HTTPHeaders([("host", host)] + headers)
        if !body.isEmpty { h.add(name: "content-length", value: String(body.utf8.count)) }
        stream.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: h)), promise: nil)
        if !body.isEmpty { stream.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil) }
        try await stream.writeAndFlush(HTTPClientRequestPart.end(nil))
        let r = try await promise.futureResult.get()
        return ClientResponse(
            status: r.status, headers: r.headers.map { HTTPHeader($0.name, $0.value) }, body: String(buffer: r.body), trailers: r.trailers)
    }

    func close() async { try? await channel.close() }
}

/// Raw bytes over a loopback connection, for frames no client library would send.
enum RawClient {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
    /// An empty SETTINGS frame.
    static let settings: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0]

    /// Writes `bytes` and reads until the server closes or `timeout` passes.
    static func exchange(port: Int, _ bytes: [UInt8], timeout: TimeAmount = .seconds(10)) async throws -> (bytes: [UInt8], closed: Bool) {
        let (channel, promise) = try await TestClient.open(port: port)
        let timedOut = NIOLockedFlag()
        let killer = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.set()
            channel.close(promise: nil)
        }
        try? await channel.writeAndFlush(channel.allocator.buffer(bytes: bytes))
        let read = try await promise.futureResult.get()
        killer.cancel()
        return (read, !timedOut.value)
    }

    /// The frames in `bytes`: (type, flags, stream, payload).
    static func frames(_ bytes: [UInt8]) -> [(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8])] {
        var out: [(UInt8, UInt8, UInt32, [UInt8])] = []
        var i = 0
        while i + 9 <= bytes.count {
            let length = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            let stream =
                (UInt32(bytes[i + 5]) << 24 | UInt32(bytes[i + 6]) << 16 | UInt32(bytes[i + 7]) << 8 | UInt32(bytes[i + 8])) & 0x7FFF_FFFF
            guard i + 9 + length <= bytes.count else { break }
            out.append((bytes[i + 3], bytes[i + 4], stream, Array(bytes[(i + 9)..<(i + 9 + length)])))
            i += 9 + length
        }
        return out
    }
}

/// A flag set from the event loop and read by the test.
final class NIOLockedFlag: Sendable {
    private let on = Mutex(false)
    func set() { on.withLock { $0 = true } }
    var value: Bool { on.withLock { $0 } }
}

/// HTTP/2 in the proxy over real loopback sockets: h2c downstream (prior knowledge, the
/// default `codec_type: AUTO`), HTTP/2 upstreams (h2c, one connection per endpoint), gRPC
/// trailers and local replies, and bad HTTP/2 traffic.
@Suite(.timeLimit(.minutes(1)))
struct HTTP2EndToEndTests {
    static func configuration(http2Upstream: Bool = false, codec: HttpConnectionManager.CodecType = .auto, maxStreams: UInt32? = nil)
        throws -> ProxyConfiguration
    {
        ProxyConfiguration(
            listeners: [
                ProxyListener(
                    name: "public", port: 0, engine: RouteEngine(try Fixtures.routeConfiguration(Fixtures.table)), codecType: codec,
                    http2MaxConcurrentStreams: maxStreams)
            ],
            clusters: [
                ("users", [ProxyEndpoint(host: "10.0.0.1", port: 8080)]), ("canary", [ProxyEndpoint(host: "10.0.0.9", port: 8080)]),
                ("empty", []),
            ],
            settings: http2Upstream ? ["users": ClusterSettings(http2: true)] : [:])
    }

    @Test func h2cDownstreamToAnHTTP1Upstream() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: "POST", target: "/old/x?q=1", host: "api.example.com",
                headers: [HTTPHeader("x-custom", "a"), HTTPHeader("x-envoy-retry-on", "5xx")], body: "hi", http2: true)
            #expect(r.status == 200)
            #expect(r.header("server") == "envoy")
            #expect(r.header("connection") == nil, "no connection-specific headers in an HTTP/2 response")
            #expect(r.header("transfer-encoding") == nil)
            #expect(r.header("x-served-by") == "proxy", "the route's response mutations")
            let echo = try #require(try? JSON.parse(r.body))
            // The route engine saw :authority as the host and :path as the path: the rewrite route matched.
            #expect(echo["protocol"]?.stringValue == "HTTP/1.1")
            #expect(echo["path"]?.stringValue == "/new/x?q=1")
            #expect(echo["host"]?.stringValue == "users.internal")
            #expect(echo["body"]?.stringValue == "hi")
            let headers = try #require(echo["headers"])
            #expect(headers["x-envoy-original-path"]?.stringValue == "/old/x?q=1")
            #expect(headers["x-forwarded-proto"]?.stringValue == "http")
            #expect(headers["x-custom"]?.stringValue == "a")
            #expect(headers["x-envoy-retry-on"] == nil, "control headers are stripped as over HTTP/1.1")
            #expect(headers["transfer-encoding"] == nil)
            #expect(headers["content-length"]?.stringValue == "2")
            #expect(headers["x-request-id"]?.stringValue?.count == 36)
        }
    }

    @Test func http1AndHTTP2ShareTheListener() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let h1 = try await TestClient.request(port: port, "/users", host: "api.example.com")
            let h2 = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: "GET", target: "/users", host: "api.example.com", headers: [], body: "",
                http2: true)
            #expect(h1.status == 200)
            #expect(h2.status == 200)
            #expect(server.registry.received.map(\.path) == ["/users", "/users"])
        }
    }

    @Test func http1DownstreamToAnHTTP2Upstream() async throws {
        try await Fixtures.withProxy(try Self.configuration(http2Upstream: true)) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await TestClient.request(port: port, "/users/7", method: "POST", host: "api.example.com", body: "abc")
            #expect(r.status == 200)
            let echo = try #require(r.echo)
            #expect(echo["protocol"]?.stringValue == "HTTP/2")
            #expect(echo["host"]?.stringValue == "api.example.com", "the upstream got :authority")
            #expect(echo["body"]?.stringValue == "abc")
            #expect(echo["headers"]?["connection"] == nil)
            #expect(server.registry.received.first?.protocol == "HTTP/2")
            // Not HTTP/2: canary is an HTTP/1.1 cluster.
            let canary = try await TestClient.request(port: port, "/split", host: "api.example.com", headers: [("x-n", "1")])
            #expect(canary.status == 200)
        }
    }

    /// A body that arrives in parts streams to an HTTP/2 upstream as DATA frames behind the
    /// HEADERS frame, and the upstream gets all of it.
    @Test func aStreamedBodyReachesAnHTTP2Upstream() async throws {
        try await Fixtures.withProxy(try Self.configuration(http2Upstream: true)) { server in
            let port = try #require(server.port(of: "public"))
            let raw = try await TestClient.exchange(
                port: port,
                [
                    "POST /users/7 HTTP/1.1\r\nhost: api.example.com\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n",
                    "3\r\ndef\r\n0\r\n\r\n",
                ], pause: .milliseconds(200))
            let r = TestClient.parse(raw)
            #expect(r.status == 200)
            let echo = try #require(r.echo)
            #expect(echo["protocol"]?.stringValue == "HTTP/2")
            #expect(echo["body"]?.stringValue == "abcdef")
        }
    }

    @Test func h2ToH2WithConcurrentStreamsOnOneConnectionEachWay() async throws {
        try await Fixtures.withProxy(try Self.configuration(http2Upstream: true)) { server in
            let port = try #require(server.port(of: "public"))
            let connection = try await H2Connection.open(port: port)
            server.registry.setBehaviour(MockBehaviour(delay: .milliseconds(100)), for: "users")
            let paths = (0..<6).map { "/users/\($0)" }
            let responses = try await withThrowingTaskGroup(of: (String, ClientResponse).self) { group in
                for p in paths { group.addTask { (p, try await connection.send(p)) } }
                var out: [String: ClientResponse] = [:]
                for try await (p, r) in group { out[p] = r }
                return out
            }
            await connection.close()
            #expect(responses.count == 6)
            for p in paths {
                let r = try #require(responses[p])
                #expect(r.status == 200)
                #expect((try? JSON.parse(r.body))?["path"]?.stringValue == p, "each stream got its own answer")
            }
            let received = server.registry.received
            #expect(received.count == 6)
            #expect(received.allSatisfy { $0.protocol == "HTTP/2" })
            #expect(server.registry.connections == 1, "the six requests shared one upstream connection")
        }
    }

    @Test func grpcTrailersComeBack() async throws {
        try await Fixtures.withProxy(try Self.configuration(http2Upstream: true)) { server in
            let port = try #require(server.port(of: "public"))
            let grpc = [HTTPHeader("content-type", "application/grpc"), HTTPHeader("te", "trailers")]
            let ok = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: "POST", target: "/pkg.Users/Get", host: "api.example.com", headers: grpc,
                body: "\u{0}\u{0}\u{0}\u{0}\u{0}", http2: true)
            #expect(ok.status == 200)
            #expect(ok.trailer("grpc-status") == "0")
            #expect(server.registry.received.last?.header("te") == "trailers", "te: trailers is forwarded")
            server.registry.setBehaviour(
                MockBehaviour(
                    answer: MockAnswer(
                        headers: [HTTPHeader("content-type", "application/grpc")], body: "",
                        trailers: [HTTPHeader("grpc-status", "5"), HTTPHeader("grpc-message", "not found")])), for: "users")
            let missing = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: "POST", target: "/pkg.Users/Get", host: "api.example.com", headers: grpc,
                body: "", http2: true)
            #expect(missing.status == 200)
            #expect(missing.trailer("grpc-status") == "5")
            #expect(missing.trailer("grpc-message") == "not found")
            // HTTP/1.1 clients get no trailers (Envoy's HTTP/1 codec drops them by default).
            let h1 = try await TestClient.request(
                port: port, "/pkg.Users/Get", method: "POST", host: "api.example.com", headers: [("content-type", "application/grpc")])
            #expect(h1.status == 200)
            #expect(h1.header("grpc-status") == nil)
        }
    }

    @Test func grpcLocalRepliesAreTrailersOnly() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            func call(_ path: String, host: String = "api.example.com") async throws -> ClientResponse {
                try await TrafficClient.send(
                    address: "127.0.0.1", port: port, method: "POST", target: path, host: host,
                    headers: [HTTPHeader("content-type", "application/grpc")], body: "", http2: true)
            }
            let noRoute = try await call("/x", host: "nobody.example.com")
            #expect(noRoute.status == 200)
            #expect(noRoute.header("content-type") == "application/grpc")
            #expect(noRoute.header("grpc-status") == "12", "404 maps to UNIMPLEMENTED")
            // One HEADERS frame with END_STREAM: NIO's client codec reports it with a zero length
            // (a HEADERS frame followed by an empty DATA frame would be reported as chunked).
            #expect(noRoute.header("content-length") == "0")
            #expect(noRoute.header("transfer-encoding") == nil)
            #expect(noRoute.body.isEmpty)
            #expect(noRoute.trailers.isEmpty, "trailers-only: the status is in the one HEADERS frame")
            let empty = try await call("/empty")
            #expect(empty.header("grpc-status") == "14", "503 maps to UNAVAILABLE")
            #expect(empty.header("grpc-message") == "no healthy upstream")
            let limited = [try await call("/limited"), try await call("/limited"), try await call("/limited")]
            #expect(limited.map { $0.header("grpc-status") ?? "-" } == ["-", "-", "14"], "429 maps to UNAVAILABLE")
            #expect(limited[2].header("grpc-message") == "local_rate_limited")
            let aborted = try await call("/abort")
            #expect(aborted.header("grpc-status") == "2", "418 maps to UNKNOWN")
            #expect(aborted.header("grpc-message") == "fault filter abort")
            let slow = try await Fixtures.withBehaviour(server, MockBehaviour(delay: .seconds(3))) { try await call("/slow") }
            #expect(slow.header("grpc-status") == "14", "504 maps to UNAVAILABLE")
            #expect(slow.header("grpc-message") == "upstream request timeout")
            // The same over HTTP/1.1: a headers-only 200 with a zero length.
            let h1 = try await TestClient.request(
                port: port, "/x", method: "POST", host: "nobody.example.com", headers: [("content-type", "application/grpc")])
            #expect(h1.status == 200)
            #expect(h1.header("grpc-status") == "12")
            #expect(h1.header("content-length") == "0")
            // Not gRPC (grpc-web): the plain 404.
            let web = try await TestClient.request(
                port: port, "/x", method: "POST", host: "nobody.example.com", headers: [("content-type", "application/grpc-web")])
            #expect(web.status == 404)
        }
    }

    @Test func aBadPrefaceClosesThatConnectionOnly() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            let bad = try await RawClient.exchange(port: port, Array("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".utf8) + RawClient.settings)
            #expect(bad.closed, "the connection is closed, not left hanging")
            #expect(!String(decoding: bad.bytes, as: UTF8.self).contains("HTTP/1.1"), "no HTTP/1 answer to an HTTP/2 preface")
            let goAway = RawClient.frames(bad.bytes).filter { $0.type == 7 }
            #expect(goAway.count == 1, "GOAWAY before the close")
            let ok = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: "GET", target: "/users", host: "api.example.com", headers: [], body: "",
                http2: true)
            #expect(ok.status == 200, "the listener goes on serving")
        }
    }

    @Test func garbageFramesCloseThatConnectionOnly() async throws {
        try await Fixtures.withProxy(try Self.configuration()) { server in
            let port = try #require(server.port(of: "public"))
            // A DATA frame on stream 0 is a connection error (PROTOCOL_ERROR), then random bytes.
            let garbage: [UInt8] =
                RawClient.preface + RawClient.settings + [0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41] + Array(repeating: 0xFF, count: 64)
            let r = try await RawClient.exchange(port: port, garbage)
            #expect(r.closed)
            let goAway = try #require(RawClient.frames(r.bytes).first { $0.type == 7 })
            #expect(goAway.payload.count >= 8)
            #expect(goAway.payload[7] == 1, "GOAWAY with PROTOCOL_ERROR")
            let ok = try await TestClient.request(port: port, "/users", host: "api.example.com")
            #expect(ok.status == 200)
        }
    }

    @Test func maxConcurrentStreamsIsAdvertised() async throws {
        try await Fixtures.withProxy(try Self.configuration(maxStreams: 3)) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await RawClient.exchange(port: port, RawClient.preface + RawClient.settings, timeout: .seconds(1))
            let settings = try #require(RawClient.frames(r.bytes).first { $0.type == 4 && $0.flags & 1 == 0 })
            var values: [UInt16: UInt32] = [:]
            var i = 0
            while i + 6 <= settings.payload.count {
                let p = settings.payload
                values[UInt16(p[i]) << 8 | UInt16(p[i + 1])] =
                    UInt32(p[i + 2]) << 24 | UInt32(p[i + 3]) << 16 | UInt32(p[i + 4]) << 8 | UInt32(p[i + 5])
                i += 6
            }
            #expect(values[3] == 3, "SETTINGS_MAX_CONCURRENT_STREAMS from http2_protocol_options")
        }
    }

    @Test func codecHTTP1RefusesThePreface() async throws {
        try await Fixtures.withProxy(try Self.configuration(codec: .http1)) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await RawClient.exchange(port: port, RawClient.preface + RawClient.settings)
            let text = String(decoding: r.bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "Envoy's HTTP/1 codec: `PRI` is not a method")
            #expect(text.contains("connection: close"))
            #expect(r.closed)
        }
    }

    @Test func codecHTTP2RefusesHTTP1() async throws {
        try await Fixtures.withProxy(try Self.configuration(codec: .http2)) { server in
            let port = try #require(server.port(of: "public"))
            let r = try await RawClient.exchange(port: port, Array("GET / HTTP/1.1\r\nhost: api.example.com\r\n\r\n".utf8))
            #expect(r.closed)
            #expect(!String(decoding: r.bytes, as: UTF8.self).contains("HTTP/1.1"), "no HTTP/1 answer")
            let ok = try await TrafficClient.send(
                address: "127.0.0.1", port: port, method: "GET", target: "/users", host: "api.example.com", headers: [], body: "",
                http2: true)
            #expect(ok.status == 200)
        }
    }

    @Test func headersOverTheLimitResetTheStreamOnly() async throws {
        var options = ProxyOptions()
        options.maxRequestHeaderBytes = 1024
        try await Fixtures.withProxy(try Self.configuration(), options: options) { server in
            let port = try #require(server.port(of: "public"))
            let connection = try await H2Connection.open(port: port)
            await #expect(throws: (any Error).self) {
                _ = try await connection.send("/users", headers: [("x-big", String(repeating: "a", count: 1500))])
            }
            let ok = try await connection.send("/users")
            #expect(ok.status == 200, "the connection survives a reset stream")
            await connection.close()
        }
    }
}

extension Fixtures {
    /// Runs `body` with `behaviour` for the `users` mocks, then restores the default.
    static func withBehaviour<T>(_ server: ProxyServer, _ behaviour: MockBehaviour, _ body: () async throws -> T) async throws -> T {
        server.registry.setBehaviour(behaviour, for: "users")
        defer { server.registry.setBehaviour(MockBehaviour(), for: "users") }
        return try await body()
    }
}
