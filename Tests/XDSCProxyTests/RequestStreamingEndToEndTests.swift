import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import XDSCRouteEngine

@testable import XDSCProxy

/// A raw HTTP/1.1 upstream that records each request as it arrives (its head, then its body
/// bytes as sent, framing included) and answers the n-th request (the last answer once they run
/// out) either at its head or once the whole request is in. One request per connection.
final class RecordingUpstream: Sendable {
    struct Answer: Sendable {
        var atHead: Bool
        var response: String
    }

    struct Request: Sendable {
        var head: String
        /// The body bytes as they came on the wire (chunk framing included).
        var wire: String
        var complete: Bool
    }

    let answers: [Answer]
    let requests = NIOLockedValueBox<[Request]>([])
    init(_ answers: [Answer]) { self.answers = answers }

    /// A new request's head arrived: its index.
    func began(_ head: String) -> Int {
        requests.withLockedValue {
            $0.append(Request(head: head, wire: "", complete: false))
            return $0.count - 1
        }
    }

    func received(_ index: Int, _ text: String, complete: Bool) {
        requests.withLockedValue {
            $0[index].wire += text
            $0[index].complete = complete
        }
    }

    func answer(_ index: Int) -> Answer { answers[min(index, answers.count - 1)] }
}

final class RecordingUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: RecordingUpstream
    private var pending = ""
    /// The request on this connection: its index, its `content-length` (nil: chunked), the body
    /// bytes so far, whether it was answered.
    private var current: (index: Int, length: Int?, body: Int, answered: Bool)?

    init(_ upstream: RecordingUpstream) { self.upstream = upstream }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let text = buffer.readString(length: buffer.readableBytes) ?? ""
        if current == nil {
            pending += text
            guard let end = pending.range(of: "\r\n\r\n") else { return }
            let head = String(pending[..<end.upperBound])
            let rest = String(pending[end.upperBound...])
            let length = head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
            current = (upstream.began(head), length, 0, false)
            if upstream.answer(current!.index).atHead { answer(context) }
            take(context, rest)
        } else {
            take(context, text)
        }
    }

    private func take(_ context: ChannelHandlerContext, _ text: String) {
        guard var c = current else { return }
        c.body += text.utf8.count
        current = c
        upstream.received(c.index, text, complete: false)
        let wire = upstream.requests.withLockedValue { $0[c.index].wire }
        let complete = c.length.map { c.body >= $0 } ?? wire.hasSuffix("0\r\n\r\n")
        guard complete else { return }
        upstream.received(c.index, "", complete: true)
        if !c.answered { answer(context) }
    }

    private func answer(_ context: ChannelHandlerContext) {
        guard let c = current else { return }
        current?.answered = true
        let text = upstream.answer(c.index).response
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }
}

/// Request bodies stream upstream as they arrive, as Envoy's router forwards them
/// (`decodeData`): the upstream request opens at the head, the body follows with its framing,
/// retries keep the body only up to the buffer limit, and the route timeout starts at the end of
/// the request (`onRequestComplete`). Over real loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct RequestStreamingEndToEndTests {
    static let table = """
        {"name": "main", "virtual_hosts": [{"name": "s", "domains": ["*"], "routes": [
          {"match": {"prefix": "/retry"}, "route": {"cluster": "svc", "retry_policy": {"retry_on": "5xx", "num_retries": 1}}},
          {"match": {"prefix": "/later"}, "route": {"cluster": "svc", "retry_policy": {"retry_on": "5xx", "num_retries": 1,
            "rate_limited_retry_back_off": {"reset_headers": [{"name": "retry-after"}], "max_interval": "60s"}}}},
          {"match": {"prefix": "/timeout"}, "route": {"cluster": "svc", "timeout": "0.5s"}},
          {"match": {"prefix": "/tight"}, "request_body_buffer_limit": 8,
           "route": {"cluster": "svc", "retry_policy": {"retry_on": "5xx", "num_retries": 1}}},
          {"match": {"prefix": "/roomy"}, "per_request_buffer_limit_bytes": 1024,
           "route": {"cluster": "svc", "retry_policy": {"retry_on": "5xx", "num_retries": 1}}},
          {"match": {"prefix": "/sized", "headers": [{"name": "content-length", "string_match": {"exact": "5"}}]},
           "route": {"cluster": "svc"}, "request_headers_to_add": [{"header": {"key": "x-sized", "value": "5"}}]},
          {"match": {"prefix": "/unsized"}, "route": {"cluster": "svc"}, "request_headers_to_remove": ["content-length"]},
          {"match": {"prefix": "/"}, "route": {"cluster": "svc"}}]}]}
        """

    static let ok = RecordingUpstream.Answer(atHead: false, response: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

    /// Runs `body` with the proxy's port, in front of `upstream`, the listener's
    /// `per_connection_buffer_limit_bytes` `limit` (the proxy's own is left at 1 MiB).
    static func withProxy(_ upstream: RecordingUpstream, limit: UInt32? = nil, _ body: (Int) async throws -> Void) async throws {
        try await Fixtures.withProxy(
            table: table, upstream: { RecordingUpstreamHandler(upstream) }, configure: { $0.listeners[0].bufferLimit = limit }, body)
    }

    /// Sends `first`, waits for the upstream to see `heads` request heads (then `pause`), sends
    /// `rest`, and reads until the proxy closes (the requests ask it to, with `connection:
    /// close`, unless a test is about the proxy closing) or 5 s pass.
    static func send(
        port: Int, _ first: String, _ rest: [String], upstream: RecordingUpstream, heads: Int = 1, pause: TimeAmount = .zero
    ) async throws -> (response: WireResponse, closed: Bool) {
        let (channel, all) = try await TestClient.open(port: port)
        let timedOut = NIOLockedValueBox(false)
        let killer = channel.eventLoop.scheduleTask(in: .seconds(5)) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        try await channel.writeAndFlush(channel.allocator.buffer(string: first))
        // The head must reach the upstream while the rest of the request is still to come.
        var waited = 0
        while upstream.requests.withLockedValue({ $0.count }) < heads && waited < 500 {
            try await Task.sleep(nanoseconds: 10_000_000)
            waited += 1
        }
        #expect(waited < 500, "no request head reached the upstream before the body was complete")
        if pause > .zero { try await Task.sleep(nanoseconds: UInt64(pause.nanoseconds)) }
        for part in rest { try? await channel.writeAndFlush(channel.allocator.buffer(string: part)) }
        let bytes = try await all.futureResult.get()
        killer.cancel()
        return (TestClient.parse(String(decoding: bytes, as: UTF8.self)), !timedOut.withLockedValue { $0 })
    }

    /// The upstream has the head, and the body so far, before the client sent the rest: the
    /// request was forwarded at its head, with the client's length, then the body as it came.
    @Test func theHeadGoesUpstreamBeforeTheBodyIsComplete() async throws {
        let upstream = RecordingUpstream([Self.ok])
        try await Self.withProxy(upstream) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /up HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 10\r\n\r\nhello", ["world"],
                upstream: upstream)
            #expect(r.status == 200)
            #expect(r.body == "ok")
            let request = try #require(upstream.requests.withLockedValue { $0 }.first)
            #expect(request.head.contains("content-length: 10\r\n"))
            #expect(!request.head.contains("transfer-encoding"))
            #expect(request.wire == "helloworld")
            #expect(request.complete)
        }
    }

    /// The routes see the client's `content-length`, as in Envoy's header map (only hop-by-hop
    /// headers are gone): a header matcher on it selects the route.
    @Test func aRouteMatchesOnTheContentLength() async throws {
        let upstream = RecordingUpstream([Self.ok])
        try await Self.withProxy(upstream) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /sized HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello", [],
                upstream: upstream)
            #expect(r.status == 200)
            let request = try #require(upstream.requests.withLockedValue { $0 }.first)
            #expect(request.head.contains("x-sized: 5\r\n"))
            #expect(request.head.contains("content-length: 5\r\n"))
            #expect(request.wire == "hello")
        }
    }

    /// A route that removes `content-length` leaves the body without a length: the HTTP/1
    /// codec chunks it.
    @Test func aBodyWhoseLengthARouteRemovedGoesChunked() async throws {
        let upstream = RecordingUpstream([Self.ok])
        try await Self.withProxy(upstream) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /unsized HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 5\r\n\r\nhello", [],
                upstream: upstream)
            #expect(r.status == 200)
            let request = try #require(upstream.requests.withLockedValue { $0 }.first)
            #expect(!request.head.contains("content-length"))
            #expect(request.head.contains("transfer-encoding: chunked\r\n"))
            #expect(Self.dechunked(request.wire) == "hello")
        }
    }

    /// A chunked body goes on chunked, each part as a chunk, and the last chunk at the end.
    @Test func aChunkedBodyStreamsChunked() async throws {
        let upstream = RecordingUpstream([Self.ok])
        try await Self.withProxy(upstream) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /up HTTP/1.1\r\nhost: a\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
                ["5\r\nworld\r\n0\r\n\r\n"], upstream: upstream)
            #expect(r.status == 200)
            let request = try #require(upstream.requests.withLockedValue { $0 }.first)
            #expect(request.head.contains("transfer-encoding: chunked\r\n"))
            #expect(!request.head.contains("content-length"))
            // The codec may hand the body over in other parts than the client's chunks.
            #expect(Self.dechunked(request.wire) == "helloworld")
            #expect(request.wire.hasSuffix("0\r\n\r\n"))
        }
    }

    /// The route timeout starts when the request is complete (router.cc `onRequestComplete`):
    /// a body that takes longer than the timeout to arrive is not cut off by it.
    @Test func theRouteTimeoutStartsAtTheEndOfTheRequest() async throws {
        let upstream = RecordingUpstream([Self.ok])
        try await Self.withProxy(upstream) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /timeout HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 4\r\n\r\nab", ["cd"],
                upstream: upstream,
                pause: .milliseconds(900))
            #expect(r.status == 200)
            #expect(r.header("x-envoy-upstream-service-time") != nil)
        }
    }

    /// An upstream that answers before the request is complete: the response goes to the client
    /// with `connection: close` (the request is incomplete), the upstream stream is reset, and
    /// the connection ends; `x-envoy-upstream-service-time` is not set (no complete request).
    @Test func aResponseBeforeTheRequestEndsClosesTheConnection() async throws {
        let early = RecordingUpstream.Answer(atHead: true, response: "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nearly")
        let upstream = RecordingUpstream([early])
        try await Self.withProxy(upstream) { port in
            let (r, closed) = try await Self.send(
                port: port, "POST /up HTTP/1.1\r\nhost: a\r\ncontent-length: 1000\r\n\r\nhello", [], upstream: upstream)
            #expect(r.status == 200)
            #expect(r.body == "early")
            #expect(r.header("connection") == "close")
            #expect(r.header("x-envoy-upstream-service-time") == nil)
            #expect(closed, "the proxy closed the connection")
        }
    }

    /// A retried request is sent again whole: the body arrived while the first attempt was
    /// answered 503 is kept (under the buffer limit) and the retry carries all of it. The 503
    /// closes its connection: on a loaded machine the body can be complete before the 503 is
    /// read, and the retry would then reuse the connection the recorder takes as one request.
    @Test func aRetryResendsTheWholeBody() async throws {
        let unavailable = RecordingUpstream.Answer(
            atHead: true, response: "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        let upstream = RecordingUpstream([unavailable, Self.ok])
        try await Self.withProxy(upstream) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /retry HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 10\r\n\r\nhello", ["world"],
                upstream: upstream)
            #expect(r.status == 200)
            let requests = upstream.requests.withLockedValue { $0 }
            #expect(requests.count == 2)
            #expect(requests.last?.wire == "helloworld")
        }
    }

    /// Past the buffer limit retries are given up (`retry_or_shadow_abandoned`): the first
    /// answer, a 503, is the client's. The limit is the listener's (8 bytes on `/retry`), or a
    /// route's `request_body_buffer_limit` below it (8 bytes on `/tight`, under the listener's
    /// 1 MiB; router.cc `calculateEffectiveBufferLimit`).
    @Test(arguments: [("/retry", 8), ("/tight", nil)] as [(String, UInt32?)])
    func pastTheBufferLimitRetriesAreGivenUp(path: String, listenerLimit: UInt32?) async throws {
        let unavailable = RecordingUpstream.Answer(atHead: false, response: "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
        let upstream = RecordingUpstream([unavailable, Self.ok])
        try await Self.withProxy(upstream, limit: listenerLimit) { port in
            let (r, _) = try await Self.send(
                port: port, "POST \(path) HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 10\r\n\r\nhello", ["world"],
                upstream: upstream)
            #expect(r.status == 503)
            #expect(upstream.requests.withLockedValue { $0.count } == 1)
        }
    }

    /// A route's `per_request_buffer_limit_bytes` above the connection's raises it: the body
    /// over the listener's 8 bytes is kept, and the retry (on a new connection: the 503 closes
    /// its own) resends all of it.
    @Test func aRoutesHigherLimitKeepsTheBodyForTheRetry() async throws {
        let unavailable = RecordingUpstream.Answer(
            atHead: false, response: "HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        let upstream = RecordingUpstream([unavailable, Self.ok])
        try await Self.withProxy(upstream, limit: 8) { port in
            let (r, _) = try await Self.send(
                port: port, "POST /roomy HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: 10\r\n\r\nhello", ["world"],
                upstream: upstream)
            #expect(r.status == 200)
            let requests = upstream.requests.withLockedValue { $0 }
            #expect(requests.count == 2)
            #expect(requests.last?.wire == "helloworld")
        }
    }

    /// The body outgrows the buffer limit while a retry waits for its back-off (the upstream
    /// asked for 5 s with `retry-after`): no attempt is in flight to take it, so the request
    /// ends with 507 (router.cc `decodeData`).
    @Test func outgrowingTheLimitDuringABackOffIs507() async throws {
        let later = RecordingUpstream.Answer(
            atHead: true, response: "HTTP/1.1 503 Service Unavailable\r\nretry-after: 5\r\ncontent-length: 0\r\n\r\n")
        let upstream = RecordingUpstream([later, Self.ok])
        try await Self.withProxy(upstream, limit: 8) { port in
            let (r, closed) = try await Self.send(
                port: port, "POST /later HTTP/1.1\r\nhost: a\r\ncontent-length: 10\r\n\r\nhello", ["world"], upstream: upstream,
                pause: .milliseconds(200))
            #expect(r.status == 507)
            #expect(r.body == "exceeded request buffer limit while retrying upstream")
            #expect(closed)
            #expect(upstream.requests.withLockedValue { $0.count } == 1)
        }
    }

    /// A body many times the buffer limit goes through whole.
    @Test func aLargeBodyGoesThroughWhole() async throws {
        let upstream = RecordingUpstream([Self.ok])
        let size = 4 * 1024 * 1024
        try await Self.withProxy(upstream, limit: 64 * 1024) { port in
            let part = String(repeating: "z", count: size / 4)
            let (r, _) = try await Self.send(
                port: port, "PUT /big HTTP/1.1\r\nhost: a\r\nconnection: close\r\ncontent-length: \(size)\r\n\r\n",
                [part, part, part, part], upstream: upstream)
            #expect(r.status == 200)
            let request = try #require(upstream.requests.withLockedValue { $0 }.first)
            #expect(request.wire.utf8.count == size)
            #expect(request.complete)
        }
    }

    /// The data of a chunked body (`raw` from the first chunk size on).
    static func dechunked(_ raw: String) -> String {
        var rest = Substring(raw)
        var out = ""
        while let line = rest.range(of: "\r\n"), let n = Int(rest[..<line.lowerBound], radix: 16), n > 0 {
            let start = line.upperBound
            let end = rest.utf8.index(start, offsetBy: n)
            out += rest[start..<end]
            // Past the CRLF (one Character in Swift, so counted in bytes).
            rest = rest[rest.utf8.index(end, offsetBy: 2)...]
        }
        return out
    }
}
