import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import XDSCProxy

/// The one-buffer upstream request encoder and the response decoder it tells of each
/// request's method, on an `EmbeddedChannel` (no sockets), as an upstream connection has them.
@Suite struct UpstreamRequestEncoderTests {
    func pipeline() throws -> (EmbeddedChannel, UpstreamRequestEncoder) {
        let channel = EmbeddedChannel()
        let decoder = UpstreamResponseDecoder()
        let encoder = UpstreamRequestEncoder(decoder: decoder)
        try channel.pipeline.syncOperations.addHandler(encoder)
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        return (channel, encoder)
    }

    func request(_ method: HTTPMethod, _ uri: String, _ headers: [(String, String)], body: String = "") -> UpstreamRequest {
        UpstreamRequest(method: method, uri: uri, headers: HTTPHeaders(headers), body: ByteBuffer(string: body))
    }

    func request(_ method: HTTPMethod, _ headers: [(String, String)], body: String = "") -> UpstreamRequest {
        request(method, "/p", headers, body: body)
    }

    func whole(_ r: UpstreamRequest) -> UpstreamRequestPart { .whole(r) }

    /// The bytes of one write, which must be the only one.
    func written(_ channel: EmbeddedChannel) throws -> String {
        let out = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        return String(buffer: out)
    }

    @Test func aRequestIsOneWriteOfTheHeadAndTheBody() throws {
        let (channel, _) = try pipeline()
        try channel.writeOutbound(
            whole(request(.POST, "/a?b=c", [("host", "api"), ("content-length", "2"), ("transfer-encoding", "chunked")], body: "hi")))
        // `content-length` wins: a `transfer-encoding` beside it is not sent.
        #expect(try written(channel) == "POST /a?b=c HTTP/1.1\r\nhost: api\r\ncontent-length: 2\r\n\r\nhi")
    }

    @Test func aBodyWithoutALengthIsChunkedForPost() throws {
        let (channel, _) = try pipeline()
        try channel.writeOutbound(whole(request(.POST, [("host", "api")], body: "hello, world!!!!!")))
        #expect(
            try written(channel)
                == "POST /p HTTP/1.1\r\nhost: api\r\ntransfer-encoding: chunked\r\n\r\n11\r\nhello, world!!!!!\r\n0\r\n\r\n")
    }

    @Test func getWithoutALengthHasNoFramingAndTraceLosesItsFraming() throws {
        let (channel, _) = try pipeline()
        try channel.writeOutbound(whole(request(.GET, [("host", "api")])))
        #expect(try written(channel) == "GET /p HTTP/1.1\r\nhost: api\r\n\r\n")
        try channel.writeOutbound(whole(request(.TRACE, [("content-length", "0"), ("x", "1")])))
        #expect(try written(channel) == "TRACE /p HTTP/1.1\r\nx: 1\r\n\r\n")
    }

    @Test func theDecoderKnowsAResponseToHeadHasNoBody() throws {
        let (channel, _) = try pipeline()
        try channel.writeOutbound(whole(request(.HEAD, [("host", "api")])))
        _ = try written(channel)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"))
        guard case .head(let head) = try #require(try channel.readInbound(as: HTTPClientResponsePart.self)) else {
            Issue.record("no head")
            return
        }
        #expect(head.status == .ok)
        // No body awaited: the response ends with its head.
        guard case .end = try #require(try channel.readInbound(as: HTTPClientResponsePart.self)) else {
            Issue.record("no end")
            return
        }
        // The next request is a GET: its response's body is read.
        try channel.writeOutbound(whole(request(.GET, [("host", "api")])))
        _ = try written(channel)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"))
        _ = try channel.readInbound(as: HTTPClientResponsePart.self)
        guard case .body(let body) = try #require(try channel.readInbound(as: HTTPClientResponsePart.self)) else {
            Issue.record("no body")
            return
        }
        #expect(String(buffer: body) == "ok")
    }

    @Test func aRequestThatCannotBeSentIsRefusedAndNothingMoreGoesOut() throws {
        for bad in [
            request(.GET, [("x", "a\r\ninjected: 1")]), request(.GET, [("bad name", "v")]), request(.GET, "/a b", []),
            request(.RAW(value: "G T"), []),
        ] {
            let (channel, encoder) = try pipeline()
            #expect(throws: HTTPParserError.invalidHeaderToken) { try channel.writeOutbound(whole(bad)) }
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
            guard case .refused = encoder.state else {
                Issue.record("not refused")
                continue
            }
            let next = channel.write(whole(request(.GET, [("host", "api")])))
            channel.flush()
            #expect(throws: HTTPParserError.invalidHeaderToken) { try next.wait() }
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        }
    }

    /// A streamed body goes out behind its head as it comes: raw under a `content-length`,
    /// else as chunks and the last chunk at the end; the encoder then takes the next request.
    @Test func aStreamedBodyFollowsItsHead() throws {
        let (channel, encoder) = try pipeline()
        try channel.writeOutbound(UpstreamRequestPart.head(request(.PUT, [("host", "api"), ("content-length", "5")], body: "ab")))
        #expect(try written(channel) == "PUT /p HTTP/1.1\r\nhost: api\r\ncontent-length: 5\r\n\r\nab")
        try channel.writeOutbound(UpstreamRequestPart.body(ByteBuffer(string: "cde")))
        #expect(try written(channel) == "cde")
        try channel.writeOutbound(UpstreamRequestPart.end)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        guard case .encoding = encoder.state else {
            Issue.record("not ready for the next request")
            return
        }
        try channel.writeOutbound(UpstreamRequestPart.head(request(.GET, [("host", "api"), ("transfer-encoding", "chunked")])))
        #expect(try written(channel) == "GET /p HTTP/1.1\r\nhost: api\r\ntransfer-encoding: chunked\r\n\r\n")
        try channel.writeOutbound(UpstreamRequestPart.body(ByteBuffer(string: "0123456789abcdefg")))
        #expect(try written(channel) == "11\r\n0123456789abcdefg\r\n")
        try channel.writeOutbound(UpstreamRequestPart.end)
        #expect(try written(channel) == "0\r\n\r\n")
        // A body part outside a streamed request is refused.
        #expect(throws: ChannelError.self) { try channel.writeOutbound(UpstreamRequestPart.body(ByteBuffer(string: "x"))) }
    }

    /// Random requests streamed in random parts: the bytes are NIO's encoder's for the same parts.
    @Test func streamedRequestsGetTheBytesOfNIOsEncoder() throws {
        var rng = SplitMix(seed: 5)
        let methods: [HTTPMethod] = [.GET, .POST, .PUT, .PATCH, .DELETE]
        for _ in 0..<100 {
            let method = methods[Int(rng.next() % UInt64(methods.count))]
            let parts = (0..<Int(rng.next() % 4)).map { i in String(repeating: Character("\(i)"), count: Int(rng.next() % 20) + 1) }
            let total = parts.reduce(0) { $0 + $1.utf8.count }
            var headers = [("host", "api")]
            headers.append(rng.next() % 2 == 0 ? ("content-length", String(total)) : ("transfer-encoding", "chunked"))
            let (channel, _) = try pipeline()
            let first = parts.first ?? ""
            try channel.writeOutbound(UpstreamRequestPart.head(request(method, headers, body: first)))
            for p in parts.dropFirst() { try channel.writeOutbound(UpstreamRequestPart.body(ByteBuffer(string: p))) }
            try channel.writeOutbound(UpstreamRequestPart.end)
            var ours = ""
            while let b = try channel.readOutbound(as: ByteBuffer.self) { ours += String(buffer: b) }
            let nio = try nioBytes(request(method, headers), parts: parts)
            #expect(ours == nio, "\(method) \(headers) \(parts)")
        }
    }

    /// NIO's encoder and header validator, as upstream connections had them: the bytes they
    /// write for `r` (its body, or `parts` as separate body parts), or nil when the validator refuses it.
    func nioBytes(_ r: UpstreamRequest, parts: [String]? = nil) throws -> String? {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([HTTPRequestEncoder(), NIOHTTPRequestHeadersValidator()])
        var head = HTTPRequestHead(version: .http1_1, method: r.method, uri: r.uri)
        head.headers = r.headers
        do {
            try channel.writeOutbound(HTTPClientRequestPart.head(head))
        } catch {
            return nil
        }
        for body in parts.map({ $0.map { ByteBuffer(string: $0) } }) ?? [r.body] where body.readableBytes > 0 {
            try channel.writeOutbound(HTTPClientRequestPart.body(.byteBuffer(body)))
        }
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        var out = ""
        while let part = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let b) = part else { return "(a file region)" }
            out += String(buffer: b)
        }
        return out
    }

    /// Random methods, targets, header names and values, bodies and framing headers: the
    /// encoder refuses what NIO's validator refuses and otherwise writes NIO's encoder's bytes.
    @Test func randomRequestsGetTheBytesOfNIOsEncoder() throws {
        var rng = SplitMix(seed: 11)
        let alphabet = Array("aZ09-_/?%:;=\t \r\n\u{0}\u{7f}é\"<".unicodeScalars)
        func text(_ n: Int) -> String {
            String(String.UnicodeScalarView((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }))
        }
        let methods: [HTTPMethod] = [.GET, .HEAD, .POST, .PUT, .PATCH, .DELETE, .TRACE, .OPTIONS, .RAW(value: "PURGE")]
        var (sent, refused) = (0, 0)
        for _ in 0..<400 {
            let method = methods[Int(rng.next() % UInt64(methods.count))]
            let uri = "/" + text(Int(rng.next() % 6))
            var headers = [("host", "api"), (rng.next() % 5 == 0 ? text(2) : "x-\(rng.next() % 9)", text(Int(rng.next() % 8)))]
            let body = rng.next() % 2 == 0 ? "" : text(Int(rng.next() % 20) + 1)
            if rng.next() % 2 == 0 { headers.append(("content-length", String(body.utf8.count))) }
            if rng.next() % 4 == 0 { headers.append(("transfer-encoding", "chunked")) }
            let r = request(method, uri, headers, body: body)
            let ours = UpstreamRequestEncoder.encode(r, allocator: ByteBufferAllocator()).map { String(buffer: $0) }
            let nio = try nioBytes(r)
            #expect(ours == nio, "\(method) \(uri.debugDescription) \(headers) \(body.debugDescription)")
            if ours == nil { refused += 1 } else { sent += 1 }
        }
        // Both outcomes were exercised.
        #expect(sent > 50)
        #expect(refused > 50)
    }
}

/// A small deterministic generator (SplitMix64).
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
