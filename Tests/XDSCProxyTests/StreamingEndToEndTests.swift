import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import XDSCRouteEngine

@testable import XDSCProxy

/// A raw HTTP/1.1 upstream that answers the n-th request head it reads (bodies are not
/// expected) with the n-th script (the last one once they run out): text to write, gates to
/// wait for, a close. It counts the connections it accepted.
final class ScriptedUpstream: Sendable {
    enum Step: Sendable {
        case send(String)
        /// Waits until the future completes (the test opens it).
        case wait(EventLoopFuture<Void>)
        case close
    }

    let scripts: [[Step]]
    let connections = NIOLockedValueBox(0)
    let heads = NIOLockedValueBox<[String]>([])

    init(_ scripts: [[Step]]) { self.scripts = scripts }

    /// The script of a request whose head was just read.
    func script(for head: String) -> [Step] {
        let n = heads.withLockedValue {
            $0.append(head)
            return $0.count - 1
        }
        return scripts[min(n, scripts.count - 1)]
    }
}

final class ScriptedUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let upstream: ScriptedUpstream
    private var pending = ""

    init(_ upstream: ScriptedUpstream) { self.upstream = upstream }

    func channelActive(context: ChannelHandlerContext) {
        upstream.connections.withLockedValue { $0 += 1 }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readString(length: buffer.readableBytes) ?? ""
        while let end = pending.range(of: "\r\n\r\n") {
            let head = String(pending[..<end.upperBound])
            pending = String(pending[end.upperBound...])
            run(context: context, upstream.script(for: head)[...])
        }
    }

    private func run(context: ChannelHandlerContext, _ steps: ArraySlice<ScriptedUpstream.Step>) {
        guard let step = steps.first else { return }
        switch step {
        case .send(let text):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
            run(context: context, steps.dropFirst())
        case .wait(let gate):
            gate.hop(to: context.eventLoop).assumeIsolated().whenComplete { _ in self.run(context: context, steps.dropFirst()) }
        case .close:
            context.close(promise: nil)
        }
    }
}

/// Upstream responses stream to the client as they arrive (router.cc `onUpstreamHeaders`,
/// `onUpstreamData`): the head and each part go out before the upstream has sent the rest,
/// the framing is the upstream's, and a response that cannot be completed once it started
/// resets the downstream stream. Over real loopback sockets.
@Suite(.timeLimit(.minutes(1)))
struct StreamingEndToEndTests {
    static let table = """
        {"name": "main", "virtual_hosts": [{"name": "s", "domains": ["*"], "routes": [
          {"match": {"prefix": "/retry"}, "route": {"cluster": "svc", "retry_policy": {"retry_on": "5xx,reset", "num_retries": 1}}},
          {"match": {"prefix": "/timeout"}, "route": {"cluster": "svc", "timeout": "0.5s"}},
          {"match": {"prefix": "/"}, "route": {"cluster": "svc"}}]}]}
        """

    /// Runs `body` with the proxy's port, in front of `upstream`.
    static func withProxy(_ upstream: ScriptedUpstream, acceptHTTP10: Bool = false, _ body: (Int) async throws -> Void) async throws {
        try await Fixtures.withProxy(
            table: table, upstream: { ScriptedUpstreamHandler(upstream) },
            configure: { $0.listeners[0].chains[0].acceptHTTP10 = acceptHTTP10 }, body)
    }

    /// What a client read: everything until the server closed (or 10 s passed), and whether
    /// `first` had arrived before `gate` was opened.
    struct Reading {
        var text: String
        var sawFirst: Bool
        var serverClosed: Bool
    }

    /// Sends `request`, waits until the bytes read contain `first`, then opens `gate` and reads on.
    static func read(port: Int, _ request: String, first: String, thenOpen gate: EventLoopPromise<Void>) async throws -> Reading {
        let (channel, all) = try await TestClient.open(port: port)
        let timedOut = NIOLockedValueBox(false)
        let killer = channel.eventLoop.scheduleTask(in: .seconds(10)) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        try await channel.writeAndFlush(channel.allocator.buffer(string: request))
        let seen = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            guard let handler = try? channel.pipeline.syncOperations.handler(type: CollectHandler.self) else {
                return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
            }
            return handler.whenRead(first, on: channel.eventLoop)
        }
        let sawFirst = (try? await seen.get()) != nil
        gate.succeed()
        let bytes = try await all.futureResult.get()
        killer.cancel()
        return Reading(text: String(decoding: bytes, as: UTF8.self), sawFirst: sawFirst, serverClosed: !timedOut.withLockedValue { $0 })
    }

    /// The body of a chunked message (`raw` from the first chunk size on); nil if malformed or unfinished.
    static func dechunk(_ raw: Substring) -> String? {
        var rest = Array(raw.utf8)[...]
        var out: [UInt8] = []
        let crlf: [UInt8] = [13, 10]
        while let cr = rest.firstIndex(of: 13) {
            guard let size = Int(String(decoding: rest[..<cr], as: UTF8.self), radix: 16), rest[cr...].starts(with: crlf) else {
                return nil
            }
            rest = rest[(cr + 2)...]
            if size == 0 { return Array(rest) == crlf ? String(decoding: out, as: UTF8.self) : nil }
            guard rest.count >= size + 2, rest.dropFirst(size).starts(with: crlf) else { return nil }
            out += rest.prefix(size)
            rest = rest.dropFirst(size + 2)
        }
        return nil
    }

    static let get = "GET /stream HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n"

    /// An HTTP/1.0 client cannot take a chunked body: a streamed response without a length
    /// ends with the connection even when the client asked to keep it (`connection: close`
    /// in the head, and the close after the body).
    @Test func aBodyWithoutLengthToHTTP10EndsWithTheConnection() async throws {
        let gate = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let upstream = ScriptedUpstream([
            [.send("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nfirst;\r\n"), .wait(gate.futureResult), .send("0\r\n\r\n")]
        ])
        try await Self.withProxy(upstream, acceptHTTP10: true) { port in
            let request = "GET /stream HTTP/1.0\r\nhost: example.com\r\nconnection: keep-alive\r\n\r\n"
            let r = try await Self.read(port: port, request, first: "first;", thenOpen: gate)
            #expect(r.text.hasPrefix("HTTP/1.0 200 OK\r\n"), "\(r.text)")
            #expect(TestClient.parse(r.text).header("connection") == "close")
            #expect(r.text.hasSuffix("\r\n\r\nfirst;"), "\(r.text)")
            #expect(r.serverClosed, "the connection stayed open after a body delimited by its close")
        }
    }

    /// A chunked response reaches the client chunked, its first part while the upstream still
    /// holds the rest (a buffering proxy would send nothing before the upstream's end).
    @Test func aChunkedResponseStreams() async throws {
        let gate = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let upstream = ScriptedUpstream([
            [
                .send("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-upstream: yes\r\n\r\n6\r\nfirst;\r\n"), .wait(gate.futureResult),
                .send("4\r\nlast\r\n0\r\n\r\n"),
            ]
        ])
        try await Self.withProxy(upstream) { port in
            let r = try await Self.read(port: port, Self.get, first: "first;", thenOpen: gate)
            #expect(r.sawFirst, "the first part did not come before the upstream's end: \(r.text)")
            #expect(r.serverClosed)
            let head = TestClient.parse(r.text)
            #expect(head.status == 200)
            #expect(head.header("transfer-encoding") == "chunked")
            #expect(head.header("content-length") == nil)
            #expect(head.header("x-upstream") == "yes")
            #expect(head.header("x-envoy-upstream-service-time") != nil)
            let body = try #require(r.text.range(of: "\r\n\r\n"))
            #expect(Self.dechunk(r.text[body.upperBound...]) == "first;last")
        }
    }

    /// A response with a `content-length` keeps it, and streams the same way.
    @Test func aContentLengthIsKeptAndTheBodyStreams() async throws {
        let gate = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let upstream = ScriptedUpstream([
            [.send("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nfirst;"), .wait(gate.futureResult), .send("last")]
        ])
        try await Self.withProxy(upstream) { port in
            let r = try await Self.read(port: port, Self.get, first: "first;", thenOpen: gate)
            #expect(r.sawFirst, "the first part did not come before the upstream's end: \(r.text)")
            let head = TestClient.parse(r.text)
            #expect(head.header("content-length") == "10")
            #expect(head.header("transfer-encoding") == nil)
            #expect(head.body == "first;last")
        }
    }

    /// A retried response is dropped at its head and its connection reset (closed) unless it
    /// ended with its head: a 503 with a body costs the retry a new connection, a 503 with
    /// `content-length: 0` leaves its connection to the retry (router.cc `onUpstreamHeaders`).
    @Test(arguments: [("content-length: 4\r\n\r\nbusy", 2), ("content-length: 0\r\n\r\n", 1)])
    func aRetriedResponsesConnectionIsResetUnlessItEnded(rest: String, connections: Int) async throws {
        let upstream = ScriptedUpstream([
            [.send("HTTP/1.1 503 Service Unavailable\r\n" + rest)],
            [.send("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")],
        ])
        try await Self.withProxy(upstream) { port in
            let r = try await TestClient.request(port: port, "/retry")
            #expect(r.status == 200)
            #expect(r.body == "ok")
            #expect(upstream.heads.withLockedValue { $0.count } == 2)
            #expect(upstream.connections.withLockedValue { $0 } == connections)
        }
    }

    /// The upstream closes in the middle of a body that already went out: the client's
    /// connection is closed too (the downstream stream is reset), and nothing is retried, even
    /// under `retry_on: reset` (router.cc `onUpstreamReset` after the response started).
    @Test func anUpstreamCloseMidBodyClosesTheClientAndIsNotRetried() async throws {
        let gate = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let upstream = ScriptedUpstream([
            [.send("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial;"), .wait(gate.futureResult), .close]
        ])
        try await Self.withProxy(upstream) { port in
            let request = "GET /retry HTTP/1.1\r\nhost: example.com\r\n\r\n"
            let r = try await Self.read(port: port, request, first: "partial;", thenOpen: gate)
            #expect(r.sawFirst)
            #expect(r.serverClosed, "the client's connection stayed open")
            #expect(r.text.hasSuffix("\r\n\r\npartial;"))
            #expect(r.text.components(separatedBy: "HTTP/1.1 ").count == 2)
            #expect(upstream.heads.withLockedValue { $0.count } == 1)
        }
    }

    /// The route timeout after the head went out resets the downstream stream instead of a 504
    /// (router.cc `onResponseTimeout`: the local reply of a started response is a reset).
    @Test func theRouteTimeoutAfterTheHeadClosesTheClient() async throws {
        let never = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Void.self)
        let upstream = ScriptedUpstream([[.send("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial;"), .wait(never.futureResult)]])
        try await Self.withProxy(upstream) { port in
            let c = try await TestClient.converse(
                port: port, [("GET /timeout HTTP/1.1\r\nhost: example.com\r\n\r\n", nil)], timeout: .seconds(10))
            #expect(c.serverClosed, "the client's connection stayed open")
            #expect(c.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(c.text.hasSuffix("\r\n\r\npartial;"))
            #expect(!c.text.contains("504"))
        }
        never.succeed()
    }
}
