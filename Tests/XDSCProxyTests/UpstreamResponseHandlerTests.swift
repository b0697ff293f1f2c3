import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTP2
import Testing
import XDSCJSON
import XDSCRouteEngine

@testable import XDSCProxy

/// The state machine of the upstream response collector on an `EmbeddedChannel` (no sockets).
@Suite struct UpstreamResponseHandlerTests {
    @Test func completesWithTheWholeResponse() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue)))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .created)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let r = try promise.futureResult.wait()
        #expect(r.status == 201)
        #expect(String(buffer: r.body) == "ok")
    }

    /// Each response part is activity (the per-try idle timer); the exchange counts once it
    /// ends, and a kept-alive connection idle for `idleTimeout` is closed, unless the next
    /// exchange takes it first.
    @Test func activityExchangesAndTheIdleTimeout() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        let loop = channel.embeddedEventLoop
        let promise = loop.makePromise(of: UpstreamResponse.self)
        let handler = UpstreamResponseHandler(promise: promise, idleTimeout: .milliseconds(200))
        try channel.pipeline.syncOperations.addHandler(handler)
        var seen = 0
        handler.onActivity = { seen += 1 }
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "content-length", value: "2")
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        #expect(seen == 2)
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(try promise.futureResult.wait().reusable)
        #expect(handler.exchanges == 1)
        #expect(handler.onActivity == nil)
        // Taken again within the idle timeout: still open after it.
        loop.advanceTime(by: .milliseconds(150))
        let next = loop.makePromise(of: UpstreamResponse.self)
        #expect(handler.expect(next))
        loop.advanceTime(by: .milliseconds(300))
        #expect(channel.isActive)
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "ok")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        _ = try next.futureResult.wait()
        #expect(handler.exchanges == 2)
        // Idle for the whole timeout: closed.
        loop.advanceTime(by: .milliseconds(199))
        #expect(channel.isActive)
        loop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test func aCloseBeforeTheEndIsAConnectionTermination() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.close().wait()
        #expect(throws: UpstreamFailure.connectionTermination) { try promise.futureResult.wait() }
    }

    /// An HTTP/2 stream reset with REFUSED_STREAM is its own failure (retried under
    /// `refused-stream`); another reset code is a connection termination.
    @Test func aRefusedStreamIsNotATermination() throws {
        for (code, failure) in [(HTTP2ErrorCode.refusedStream, UpstreamFailure.refusedStream), (.cancel, .connectionTermination)] {
            let channel = EmbeddedChannel()
            let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
            try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
            channel.pipeline.fireErrorCaught(NIOHTTP2Errors.streamClosed(streamID: 1, errorCode: code))
            #expect(throws: failure) { try promise.futureResult.wait() }
        }
    }

    @Test func aBodyInSeveralReadsArrivesWhole() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        try channel.pipeline.syncOperations.addHandler(UpstreamResponseHandler(promise: promise))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        let parts = (0..<5).map { String(repeating: Character(String($0)), count: 1000) }
        for p in parts { try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: p))) }
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(String(buffer: try promise.futureResult.wait().body) == parts.joined())
    }
}

extension UpstreamResponseHandlerTests {
    @Test func aKeepAliveConnectionKeepsTheHandlerForTheNextExchange() throws {
        let channel = EmbeddedChannel()
        let first = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        let handler = UpstreamResponseHandler(promise: first)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(try first.futureResult.wait().reusable)
        #expect(channel.isActive)
        // Idle in the pool: a second exchange takes it over, a third cannot while it runs.
        let second = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        #expect(handler.expect(second))
        let third = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        #expect(!handler.expect(third))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .accepted)))
        try channel.writeInbound(HTTPClientResponsePart.body(ByteBuffer(string: "two")))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        let r = try second.futureResult.wait()
        #expect(r.status == 202)
        #expect(String(buffer: r.body) == "two")
        third.fail(UpstreamFailure.connectionTermination)
    }

    @Test func aConnectionThatIsNotKeptAliveIsClosedAndCannotBeTakenOver() throws {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        let handler = UpstreamResponseHandler(promise: promise)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        var head = HTTPResponseHead(version: .http1_1, status: .ok)
        head.headers.add(name: "connection", value: "close")
        try channel.writeInbound(HTTPClientResponsePart.head(head))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        #expect(try !promise.futureResult.wait().reusable)
        #expect(!channel.isActive)
        let next = channel.eventLoop.makePromise(of: UpstreamResponse.self)
        #expect(!handler.expect(next))
        next.fail(UpstreamFailure.connectionTermination)
    }
}
