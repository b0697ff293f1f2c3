import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import XDSCProxy

/// The downstream HTTP/1.1 codec on an `EmbeddedChannel` (no sockets): which request parts
/// and `read()` calls it passes on, its parse-error replies, and its response bytes, checked
/// against NIO's own response encoder.
@Suite struct DownstreamHTTP1CodecTests {
    func pipeline() throws -> (EmbeddedChannel, ReadCounter, DownstreamHTTP1Codec) {
        let counter = ReadCounter()
        let codec = DownstreamHTTP1Codec()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([counter, codec])
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, counter, codec)
    }

    func request(_ channel: EmbeddedChannel, _ uri: String = "/", method: HTTPMethod = .GET) throws {
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: uri)))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
    }

    func respond(_ channel: EmbeddedChannel, headers: HTTPHeaders = ["content-length": "0"]) throws {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
    }

    func uris(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            if case .head(let h) = part { out.append(h.uri) }
        }
        return out
    }

    /// Everything written to the socket so far, as text.
    func written(_ channel: EmbeddedChannel) throws -> String {
        var bytes = ByteBuffer()
        while let part = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(var b) = part else {
                Issue.record("a file region")
                continue
            }
            bytes.writeBuffer(&b)
        }
        return String(buffer: bytes)
    }

    @Test func readsGoOnWhileARequestIsAnswered() throws {
        let (channel, counter, codec) = try pipeline()
        try request(channel)
        #expect(codec.state == .answering)
        let before = counter.reads
        channel.read()
        #expect(counter.reads == before + 1)
        try respond(channel)
        #expect(codec.state == .idle)
        try request(channel, "/b")
        #expect(try uris(channel) == ["/", "/b"])
    }

    @Test func aPipelinedRequestWaitsForTheResponseAndHoldsReads() throws {
        let (channel, counter, codec) = try pipeline()
        try request(channel, "/a")
        try request(channel, "/b")
        #expect(try uris(channel) == ["/a"])
        // Something waits: the next read is held back.
        let reads = counter.reads
        channel.read()
        #expect(counter.reads == reads)
        try respond(channel)
        // The waiting request is handed on when the response ends, and the held read released.
        #expect(try uris(channel) == ["/b"])
        #expect(counter.reads == reads + 1)
        #expect(codec.state == .answering)
        try respond(channel)
        #expect(codec.state == .idle)
        #expect(try written(channel).components(separatedBy: "HTTP/1.1 200 OK").count - 1 == 2)
    }

    @Test(arguments: [
        (HTTPParserError.headerOverflow, "HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        (HTTPParserError.invalidHeaderToken, "HTTP/1.1 400 Bad Request\r\n"),
    ])
    func answersAParseErrorAndCloses(error: HTTPParserError, statusLine: String) throws {
        let (channel, _, _) = try pipeline()
        channel.pipeline.fireErrorCaught(error)
        #expect(throws: HTTPParserError.self) { try channel.throwIfErrorCaught() }
        let text = try written(channel)
        #expect(text == statusLine + "content-length: 0\r\nconnection: close\r\nserver: envoy\r\n\r\n")
        #expect(!channel.isActive)
    }

    @Test func aParseErrorBehindARequestIsAnsweredAfterItsResponse() throws {
        let (channel, _, codec) = try pipeline()
        try request(channel)
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidChunkSize)
        #expect(try written(channel) == "")
        #expect(channel.isActive)
        try respond(channel)
        #expect(codec.state == .closing)
        let reply = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\nserver: envoy\r\n\r\n"
        #expect(try written(channel).hasSuffix(reply))
        #expect(!channel.isActive)
    }

    /// Fuzz finding (harness `proxy`, `regression-error-after-close`): a `connection: close`
    /// response, then unparsable bytes from the same read got a second, 400 response.
    @Test func noErrorReplyAfterAResponseThatCloses() throws {
        let (channel, _, codec) = try pipeline()
        try request(channel)
        try respond(channel, headers: ["content-length": "0", "connection": "close"])
        #expect(codec.state == .closing)
        _ = try written(channel)
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidChunkSize)
        #expect(throws: HTTPParserError.self) { try channel.throwIfErrorCaught() }
        #expect(try written(channel) == "")
        // A request after it is not handed on either.
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/late")))
        #expect(try uris(channel) == ["/"])
    }

    @Test func aHalfWrittenResponseIsOnlyClosed() throws {
        let (channel, _, _) = try pipeline()
        try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidChunkSize)
        #expect(try written(channel) == "")
        #expect(!channel.isActive)
    }

    @Test func aResponseGoesOutAsOneWrite() throws {
        let (channel, _, _) = try pipeline()
        try request(channel)
        // Written without a flush, as the downstream handler writes the head and the body.
        channel.write(
            HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "2"])), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "hi"))), promise: nil)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        guard case .byteBuffer(let one) = try channel.readOutbound(as: IOData.self) else {
            Issue.record("no buffer written")
            return
        }
        #expect(String(buffer: one) == "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi")
        #expect(try channel.readOutbound(as: IOData.self) == nil)
    }

    @Test func aFlushBeforeTheEndSendsTheHead() throws {
        let (channel, _, _) = try pipeline()
        try request(channel)
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)), promise: nil)
        channel.flush()
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try written(channel) == "0\r\n\r\n")
    }

    /// `expect: 100-continue`: the interim head goes out at once, before the body has arrived,
    /// as a message of its own; the response after it is framed as usual.
    @Test func anInterimHeadIsWrittenAtOnce() throws {
        let (channel, _, _) = try pipeline()
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")
        head.headers.add(name: "content-length", value: "2")
        try channel.writeInbound(HTTPServerRequestPart.head(head))
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        #expect(try written(channel) == "HTTP/1.1 100 Continue\r\n\r\n")
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "hi")))
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        try respond(channel, headers: ["content-length": "0"])
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        #expect(channel.isActive)
    }

    /// Fuzz corpus (harness `proxy`): the router's 404 to a CONNECT request lost its
    /// `content-length`, leaving a keep-alive response without framing. Only a 2xx to CONNECT
    /// (a tunnel) goes without.
    @Test func onlyATunnelToCONNECTGoesWithoutFraming() throws {
        let (channel, _, _) = try pipeline()
        try request(channel, "example.com:443", method: .CONNECT)
        try respond(channel, headers: ["content-length": "0"])
        #expect(try written(channel) == "HTTP/1.1 200 OK\r\n\r\n")
        try request(channel, "example.com:443", method: .CONNECT)
        try channel.writeOutbound(
            HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .notFound, headers: ["content-length": "0"])))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        #expect(try written(channel) == "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
    }

    // MARK: - Against NIO's encoder

    /// A response to encode: what the downstream handler may write.
    struct Case: CustomStringConvertible {
        var method: HTTPMethod
        var status: Int
        var headers: [(String, String)]
        var bodies: [Int]
        var trailers: [(String, String)]?
        var description: String { "\(method) \(status) \(headers) \(bodies) \(trailers ?? [])" }
    }

    /// The bytes written for `c`, by NIO's server pipeline (`nio`) or by its request decoder and the codec.
    func bytes(_ c: Case, nio: Bool) throws -> String {
        let channel = EmbeddedChannel()
        let sync = channel.pipeline.syncOperations
        if nio {
            // As NIO sets up a server: its decoder tells its encoder which requests were HEAD.
            try sync.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false)
        } else {
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
            try sync.addHandler(DownstreamHTTP1Codec())
        }
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(string: "\(c.method.rawValue) / HTTP/1.1\r\nhost: h\r\n\r\n"))
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: c.status), headers: HTTPHeaders(c.headers))
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        for (i, n) in c.bodies.enumerated() {
            let body = ByteBuffer(repeating: UInt8(ascii: "a") + UInt8(i % 26), count: n)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        }
        try channel.writeAndFlush(HTTPServerResponsePart.end(c.trailers.map { HTTPHeaders($0) })).wait()
        let out = try written(channel)
        _ = try? channel.finish()
        return out
    }

    @Test func writesTheBytesNIOsEncoderWrites() throws {
        var rng = SystemRandomNumberGenerator()
        let statuses = [100, 101, 200, 201, 204, 206, 301, 304, 404, 431, 503, 599]
        let methods: [HTTPMethod] = [.GET, .HEAD, .POST, .DELETE]
        let framing: [[(String, String)]] = [
            [], [("content-length", "5")], [("Content-Length", "5")], [("transfer-encoding", "chunked")],
            [("content-length", "3"), ("transfer-encoding", "chunked")], [("Transfer-Encoding", "gzip")],
        ]
        let others: [[(String, String)]] = [
            [], [("server", "envoy"), ("date", "Wed, 02 Dec 2026 14:00:00 GMT")], [("connection", "close")],
            [("x-a", "1"), ("X-B", "two words"), ("x-a", "3")],
        ]
        for _ in 0..<400 {
            let c = Case(
                method: methods.randomElement(using: &rng)!, status: statuses.randomElement(using: &rng)!,
                headers: (others.randomElement(using: &rng)! + framing.randomElement(using: &rng)!).shuffled(using: &rng),
                bodies: (0..<Int.random(in: 0...3, using: &rng)).map { _ in [0, 1, 5, 4096, 20_000].randomElement(using: &rng)! },
                trailers: Bool.random(using: &rng) ? nil : [("grpc-status", "0")])
            // The downstream handler writes no body to a HEAD request (NIO's encoder refuses one).
            var sent = c
            if c.method == .HEAD { sent.bodies = [] }
            let theirs = try bytes(sent, nio: true)
            let ours = try bytes(sent, nio: false)
            #expect(ours == theirs, "\(sent)")
            if ours != theirs { return }
        }
    }
}
